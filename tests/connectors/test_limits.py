"""Rate limits: per sender on every channel, per address on REST and the web chat."""

import asyncio
import logging
from types import SimpleNamespace
from typing import List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from socketio import exceptions as sio_errors

from bot.metrics import REGISTRY
from connectors.limits import SLOW_DOWN, TOO_MANY_REQUESTS, RateLimiter
from connectors.shared import SharedState
from connectors.turns import guarded
from connectors.webchat import BUSY, WebChatInput
from tests.conftest import _free_port
from tests.connectors.test_rest import make_app, post


async def hits_allowed(limiter: RateLimiter, key: str, tries: int) -> List[bool]:
    return [await limiter.allow("rest", key) for _ in range(tries)]


async def test_a_key_is_refused_past_its_limit_and_others_are_not() -> None:
    limiter = RateLimiter("sender", 3, SharedState(None, scope="limit"))
    refused = REGISTRY.get_sample_value(
        "hotline_rate_limited_total", {"channel": "rest", "kind": "sender"}
    )
    assert await hits_allowed(limiter, "a", 5) == [True, True, True, False, False]
    assert await limiter.allow("rest", "b") and await limiter.allow("web", "a")
    assert (
        REGISTRY.get_sample_value(
            "hotline_rate_limited_total", {"channel": "rest", "kind": "sender"}
        )
        == (refused or 0) + 2
    )


async def test_zero_turns_a_limit_off() -> None:
    limiter = RateLimiter("ip", 0, SharedState(None, scope="limit"))
    assert all(await hits_allowed(limiter, "10.0.0.1", 50))


async def test_instances_on_one_redis_share_their_counts(redis_url: str) -> None:
    first, second = (
        RateLimiter("sender", 4, SharedState(redis_url, "limits-test", "limit"))
        for _ in range(2)
    )
    allowed = [await (first, second)[i % 2].allow("rest", "shared") for i in range(6)]
    assert allowed == [True, True, True, True, False, False]


async def test_counters_start_again_in_the_next_window(redis_url: str) -> None:
    for state in (SharedState(None), SharedState(redis_url, "window-test")):
        assert [await state.count("k", 1) for _ in range(3)] == [1, 2, 3]
        await asyncio.sleep(1.1)
        assert await state.count("k", 1) == 1


async def test_with_redis_down_citizens_are_not_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = SharedState(f"redis://127.0.0.1:{_free_port()}/0", scope="limit")
    limiter = RateLimiter("sender", 1, down)
    with caplog.at_level(logging.WARNING):
        assert all(await hits_allowed(limiter, "a", 3))
    assert "rate limit not enforced" in caplog.text


async def test_a_fast_sender_is_asked_to_slow_down_but_not_for_danger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER", "2")
    handled: List[str] = []

    async def dialogue(message: UserMessage) -> None:
        handled.append(message.text or "")
        await message.output_channel.send_text_message(message.sender_id, "好的")

    turn = guarded("web", dialogue)
    outputs = []
    for text in ("你好", "社保卡怎么办", "公积金怎么取", "/restart", "家里着火了快来人"):
        output = CollectingOutputChannel()
        await turn(UserMessage(text, output, "fast"))
        outputs.append([message["text"] for message in output.messages])
    await turn(UserMessage("你好", CollectingOutputChannel(), "someone-else"))
    assert outputs[2] == [SLOW_DOWN]
    assert handled == ["你好", "社保卡怎么办", "/restart", "家里着火了快来人", "你好"]


async def test_rest_refuses_a_busy_address_with_429(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_IP", "3")
    app = make_app("", [])
    replies = [
        await post(app, {"sender": f"c{i}", "message": "你好"}, None) for i in range(4)
    ]
    assert [reply.status for reply in replies] == [200, 200, 200, 429]
    assert replies[3].json == {"error": TOO_MANY_REQUESTS}
    assert replies[3].headers["retry-after"] == "60"


async def test_web_chat_refuses_connections_from_a_busy_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_IP", "2")
    channel = WebChatInput(session_persistence=True)

    async def dialogue(message: UserMessage) -> None:
        return None

    channel.blueprint(dialogue)
    assert channel.sio is not None
    connect = channel.sio.handlers["/"]["connect"]

    def environ(address: str) -> dict:
        return {"sanic.request": SimpleNamespace(remote_addr="", ip=address)}

    assert await connect("s1", environ("10.0.0.7"), None) is True
    assert await connect("s2", environ("10.0.0.7"), None) is True
    with pytest.raises(sio_errors.ConnectionRefusedError) as refused:
        await connect("s3", environ("10.0.0.7"), None)
    assert refused.value.error_args == {"message": BUSY}
    assert await connect("s4", environ("10.0.0.8"), None) is True
