"""Hostile and broken input to every HTTP endpoint: a 4xx or a polite answer, never a 500.

Each endpoint runs in-process with a stand-in dialogue, so thousands of requests
take seconds. Signed channels are fuzzed both unsigned (refused) and correctly
signed (so the body reaches the parser).
"""

import json
import time
from typing import Any, List
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from wechatpy.utils import WeChatSigner

from actions.api import create_app
from actions.store.sqlite_store import SQLiteTicketStore
from connectors.ivr import IvrInput
from connectors.rest import TokenRestInput
from connectors.shared import SharedState
from connectors.wechat import WeChatInput
from tests.connectors.conftest import SECRETS, ivr_signature

ACCEPTABLE = {200, 400, 401, 403, 404, 405, 413, 429}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
HOSTILE_TEXTS = [
    "",
    "\x00\x01\x02",
    "😀" * 300,
    "长" * 5000,
    "<script>alert(1)</script>",
    "'; DROP TABLE tickets; --",
    "]]><xml>",
    "\ud800",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=3000),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "sender": st.one_of(st.text(max_size=200), json_values),
            "message": st.one_of(
                st.sampled_from(HOSTILE_TEXTS), st.text(), json_values
            ),
            "call_id": st.one_of(st.text(max_size=200), st.integers(), json_values),
            "caller": st.text(max_size=30),
            "event": st.one_of(
                st.sampled_from(
                    ["call_start", "utterance", "dtmf", "no_input", "call_end"]
                ),
                st.text(max_size=12),
            ),
            "text": st.one_of(st.sampled_from(HOSTILE_TEXTS), st.text(), json_values),
            "asr_confidence": json_values,
            "dtmf": st.one_of(st.text(max_size=5), json_values),
            "status": st.one_of(st.sampled_from(["已受理", "办理中", "已办结"]), json_values),
            "reply": st.one_of(st.sampled_from(HOSTILE_TEXTS), json_values),
        },
    ).map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
)
MEGABYTE = b"{" + b'"message": "' + b"x" * (1 << 20) + b'"}'


class Dialogue:
    """Answers every message politely, as the real dialogue would."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id,
            {"text": "您好，请问有什么可以帮您？", "buttons": [{"title": "投诉", "payload": "/x"}]},
        )


@pytest.fixture(scope="module")
def channels_app() -> Sanic:
    Sanic.test_mode = True
    app = Sanic("fuzz_channels")
    dialogue = Dialogue()
    mounted: List[Any] = [
        (TokenRestInput(SECRETS["TICKET_API_TOKEN"]), "rest"),
        (IvrInput(secret=SECRETS["IVR_SECRET"]), "ivr"),
        (
            WeChatInput(
                token=SECRETS["WECHAT_TOKEN"],
                app_id=SECRETS["WECHAT_APP_ID"],
                app_secret="x",
                aes_key=SECRETS["WECHAT_AES_KEY"],
                api_base="http://127.0.0.1:9",
                reply_budget=1.0,
                state=SharedState(None),
            ),
            "wechat",
        ),
    ]
    for channel, prefix in mounted:
        app.blueprint(channel.blueprint(dialogue), url_prefix=f"/webhooks/{prefix}")
    return app


@pytest.fixture(scope="module")
def api_app(tmp_path_factory) -> Sanic:
    Sanic.test_mode = True
    store = SQLiteTicketStore(str(tmp_path_factory.mktemp("fuzz") / "t.db"))
    return create_app(SECRETS["TICKET_API_TOKEN"], store)


def wechat_query() -> str:
    timestamp, nonce = str(int(time.time())), "n"
    signer = WeChatSigner()
    signer.add_data(SECRETS["WECHAT_TOKEN"], timestamp, nonce)
    return urlencode(
        {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
    )


CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/xml", "multipart/form-data", ""]
)


@FUZZ
@given(body=bodies, content_type=CONTENT_TYPES, signed=st.booleans())
@example(body=MEGABYTE, content_type="application/json", signed=True)
@example(body=b"\xff\xfe\x00", content_type="application/json", signed=True)
async def test_rest_and_ivr_answer_any_body_with_4xx_or_a_reply(
    channels_app, body: bytes, content_type: str, signed: bool
) -> None:
    token = SECRETS["TICKET_API_TOKEN"] if signed else "wrong"
    _, rest = await channels_app.asgi_client.post(
        "/webhooks/rest/webhook",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert rest.status in ACCEPTABLE, rest.text
    signature = ivr_signature(body) if signed else "0" * 64
    _, ivr = await channels_app.asgi_client.post(
        "/webhooks/ivr/webhook",
        content=body,
        headers={"X-IVR-Signature": signature, "Content-Type": content_type},
    )
    assert ivr.status in ACCEPTABLE, ivr.text
    if ivr.status == 200:
        assert set(ivr.json) == {
            "prompts",
            "action",
            "transfer_target",
            "expect",
            "barge_in",
        }


xml_texts = st.one_of(
    st.text(max_size=500),
    st.builds(
        lambda kind, content, user: (
            f"<xml><FromUserName>{user}</FromUserName><CreateTime>1</CreateTime>"
            f"<MsgType>{kind}</MsgType><Content>{content}</Content><MsgId>1</MsgId></xml>"
        ),
        st.sampled_from(["text", "voice", "event", "image", "", "<x>"]),
        st.sampled_from(HOSTILE_TEXTS + ["<![CDATA[你好]]>", "&amp;", "&xxe;"]),
        st.text(max_size=20),
    ),
)


@FUZZ
@given(xml=xml_texts, signed=st.booleans())
@example(
    xml='<!DOCTYPE x [<!ENTITY a "a"><!ENTITY b "&a;&a;&a;&a;">]><xml>&b;</xml>',
    signed=True,
)
@example(xml="<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>", signed=True)
async def test_wechat_answers_any_xml_with_4xx_or_a_reply(
    channels_app, xml: str, signed: bool
) -> None:
    query = wechat_query() if signed else "signature=bad&timestamp=1&nonce=n"
    _, reply = await channels_app.asgi_client.post(
        f"/webhooks/wechat/webhook?{query}",
        content=xml.encode("utf-8", "surrogatepass"),
    )
    assert reply.status in ACCEPTABLE, reply.text


@FUZZ
@given(
    path=st.sampled_from(["/tickets", "/tickets/{x}", "/handoffs", "/ratings", "/x"]),
    x=st.text(max_size=40),
    query=st.dictionaries(
        st.sampled_from(["status", "limit", "offset"]), st.text(max_size=12), max_size=3
    ),
    body=bodies,
    method=st.sampled_from(["get", "patch", "post", "delete"]),
    signed=st.booleans(),
)
async def test_the_ticket_api_answers_anything_with_4xx_or_json(
    api_app, path: str, x: str, query: dict, body: bytes, method: str, signed: bool
) -> None:
    token = SECRETS["TICKET_API_TOKEN"] if signed else "wrong"
    url = path.replace("{x}", x.replace("/", "").replace("?", "").replace("#", ""))
    _, reply = await api_app.asgi_client.request(
        method.upper(),
        f"{url}?{urlencode(query)}",
        content=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status in ACCEPTABLE, reply.text
