"""The REST channel: a token when one is set, and only well-formed requests."""

import json
from typing import Any, List

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.rest import MAX_MESSAGE, TokenRestInput

TOKEN = "rest-test-token"


def make_app(token: str, received: List[UserMessage]) -> Sanic:
    async def dialogue(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, "您好")

    Sanic.test_mode = True
    app = Sanic(f"rest_test_{len(token)}_{id(received)}")
    app.blueprint(
        TokenRestInput(token).blueprint(dialogue), url_prefix="/webhooks/rest"
    )
    return app


async def post(app: Sanic, body: Any, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    _, reply = await app.asgi_client.post(
        "/webhooks/rest/webhook", content=raw, headers=headers
    )
    return reply


async def test_with_a_token_only_its_holders_get_through() -> None:
    received: List[UserMessage] = []
    app = make_app(TOKEN, received)
    message = {"sender": "c1", "message": "你好"}
    assert (await post(app, message, token=None)).status == 401
    assert (await post(app, message, token="wrong")).status == 401
    reply = await post(app, message)
    assert reply.status == 200 and reply.json == [{"recipient_id": "c1", "text": "您好"}]
    assert len(received) == 1
    _, health = await app.asgi_client.get("/webhooks/rest/")
    assert health.status == 200


async def test_without_a_token_rest_is_open_for_local_use() -> None:
    received: List[UserMessage] = []
    reply = await post(make_app("", received), {"sender": "c1", "message": "你好"}, None)
    assert reply.status == 200 and len(received) == 1


async def test_clients_cannot_claim_another_channel_or_pass_metadata() -> None:
    received: List[UserMessage] = []
    await post(
        make_app(TOKEN, received),
        {
            "sender": "c1",
            "message": "我要投诉",
            "input_channel": "ivr",
            "metadata": {"caller": "13812345678"},
        },
    )
    [message] = received
    assert message.input_channel == "rest" and not message.metadata


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        ([1, 2], 400),
        ({"message": "你好"}, 400),
        ({"sender": "", "message": "你好"}, 400),
        ({"sender": "c1", "message": "   "}, 400),
        ({"sender": "c1", "message": 12}, 400),
        ({"sender": "c1", "message": "长" * (MAX_MESSAGE + 1)}, 400),
        ({"sender": "c1", "message": "长" * 10000}, 413),
    ],
)
async def test_malformed_requests_get_a_clear_error(body: Any, status: int) -> None:
    received: List[UserMessage] = []
    reply = await post(make_app(TOKEN, received), body)
    assert reply.status == status and reply.json["error"]
    assert received == []
