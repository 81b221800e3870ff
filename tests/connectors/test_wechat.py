"""The WeChat channel with messages signed and encrypted by wechatpy as WeChat sends them."""

import asyncio
import copy
import time
from typing import Any, Dict, List
from urllib.parse import urlencode

import defusedxml.ElementTree as SafeXML
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from connectors.shared import SharedState
from connectors.wechat import (
    MAX_CHARS,
    NOT_HANDLED,
    NOT_RECOGNISED,
    WeChatInput,
    split_text,
)
from tests.connectors.conftest import SECRETS

TOKEN = SECRETS["WECHAT_TOKEN"]
APP_ID = SECRETS["WECHAT_APP_ID"]
AES_KEY = SECRETS["WECHAT_AES_KEY"]
OPENID = "oCitizen0001"
LONG_ANSWER = "\n".join(f"第{n}条：" + "办理材料说明" * 20 for n in range(1, 8))


class Dialogue:
    """A stand-in for Rasa: records what it is sent and answers from a script."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.script: Dict[str, List[Dict[str, Any]]] = {
            "/greet": [{"text": "您好，欢迎关注示例市12345。"}],
            "我要投诉": [
                {
                    "text": "请问您要反映的是哪一类诉求？",
                    "buttons": [
                        {"title": "投诉", "payload": "/choose_complaint"},
                        {"title": "求助", "payload": "/choose_help"},
                    ],
                }
            ],
            "长": [{"text": LONG_ANSWER}],
        }

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if message.text.startswith("慢"):
            await asyncio.sleep(0.6)
        answers = self.script.get(message.text, [{"text": f"收到：{message.text}"}])
        for answer in copy.deepcopy(answers):  # Rasa's send_response pops keys
            await message.output_channel.send_response(message.sender_id, answer)


class FakeWeChatApi:
    """WeChat's token and customer-service message API, on a local port."""

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []
        self.token_requests = 0
        self.expire_next = False
        self.app = web.Application()
        self.app.router.add_get("/cgi-bin/token", self.token)
        self.app.router.add_post("/cgi-bin/message/custom/send", self.send)

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        assert request.query["appid"] == APP_ID
        return web.json_response(
            {"access_token": f"token-{self.token_requests}", "expires_in": 7200}
        )

    async def send(self, request: web.Request) -> web.Response:
        if self.expire_next:
            self.expire_next = False
            return web.json_response({"errcode": 42001, "errmsg": "expired"})
        self.sent.append(
            {"token": request.query["access_token"], **(await request.json())}
        )
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def api():
    fake = FakeWeChatApi()
    server = TestServer(fake.app)
    await server.start_server()
    fake.base = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue()


@pytest.fixture
def channel(api) -> WeChatInput:
    return WeChatInput(
        token=TOKEN,
        app_id=APP_ID,
        app_secret="secret",
        aes_key=AES_KEY,
        api_base=api.base,
        reply_budget=0.3,
        menu={"MENU_HUMAN": "/request_human"},
        state=SharedState(None),
    )


@pytest.fixture
def app(channel, dialogue) -> Sanic:
    Sanic.test_mode = True
    app = Sanic(f"wechat_test_{id(channel)}")
    app.blueprint(channel.blueprint(dialogue), url_prefix="/webhooks/wechat")
    return app


def message_xml(kind: str, msg_id: str | None = None, **fields: str) -> str:
    """A message as WeChat posts it: the envelope, the type's fields, the id."""
    body = "".join(
        f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items()
    )
    msg = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (
        f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType>{body}{msg}</xml>"
    )


def text_xml(content: str, msg_id: str = "1001") -> str:
    return message_xml("text", msg_id, Content=content)


def voice_xml(recognition: str, msg_id: str = "2001") -> str:
    return message_xml(
        "voice", msg_id, MediaId="media", Format="amr", Recognition=recognition
    )


def event_xml(event: str, key: str = "") -> str:
    return message_xml("event", Event=event, EventKey=key)


def signed_query(token: str = TOKEN, **extra: str) -> Dict[str, str]:
    timestamp, nonce = str(int(time.time())), "nonce123"
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return {
        "signature": signer.signature,
        "timestamp": timestamp,
        "nonce": nonce,
        **extra,
    }


async def post_plain(app: Sanic, xml: str, token: str = TOKEN):
    query = urlencode(signed_query(token, openid=OPENID))
    _, reply = await app.asgi_client.post(
        f"/webhooks/wechat/webhook?{query}", content=xml.encode()
    )
    return reply


def reply_content(reply) -> str:
    return SafeXML.fromstring(reply.text).findtext("Content")


async def settle(channel: WeChatInput) -> None:
    while channel.pending:
        await asyncio.gather(*list(channel.pending))


async def test_the_echostr_check(app) -> None:
    query = urlencode(signed_query(echostr="echo-42"))
    _, reply = await app.asgi_client.get(f"/webhooks/wechat/webhook?{query}")
    assert (reply.status, reply.text) == (200, "echo-42")
    query = urlencode(signed_query("wrong-token", echostr="echo-42"))
    _, reply = await app.asgi_client.get(f"/webhooks/wechat/webhook?{query}")
    assert reply.status == 403 and "echo-42" not in reply.text


async def test_a_text_message_gets_a_passive_reply(app, dialogue) -> None:
    reply = await post_plain(app, text_xml("社保卡丢了怎么补办"))
    assert reply.status == 200
    parsed = SafeXML.fromstring(reply.text)
    assert parsed.findtext("ToUserName") == OPENID
    assert parsed.findtext("Content") == "收到：社保卡丢了怎么补办"
    [message] = dialogue.received
    assert (message.sender_id, message.input_channel) == (f"wechat-{OPENID}", "wechat")


async def test_safe_mode_is_decrypted_and_the_reply_encrypted(app, dialogue) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    timestamp, nonce = str(int(time.time())), "nonce456"
    encrypted = crypto.encrypt_message(text_xml("公积金怎么提取"), nonce, timestamp)
    outer = SafeXML.fromstring(encrypted)
    query = signed_query(
        encrypt_type="aes", msg_signature=outer.findtext("MsgSignature")
    )
    query.update(timestamp=timestamp, nonce=nonce)
    signer = WeChatSigner()
    signer.add_data(TOKEN, timestamp, nonce)
    query["signature"] = signer.signature
    _, reply = await app.asgi_client.post(
        f"/webhooks/wechat/webhook?{urlencode(query)}", content=encrypted.encode()
    )
    assert reply.status == 200
    answer = SafeXML.fromstring(reply.text)
    plain = crypto.decrypt_message(
        reply.text,
        answer.findtext("MsgSignature"),
        answer.findtext("TimeStamp"),
        answer.findtext("Nonce"),
    )
    assert SafeXML.fromstring(plain).findtext("Content") == "收到：公积金怎么提取"
    assert [m.text for m in dialogue.received] == ["公积金怎么提取"]

    query["msg_signature"] = "0" * 40
    _, reply = await app.asgi_client.post(
        f"/webhooks/wechat/webhook?{urlencode(query)}", content=encrypted.encode()
    )
    assert reply.status == 403 and len(dialogue.received) == 1


async def test_voice_uses_the_recognition_text(app, dialogue) -> None:
    reply = await post_plain(app, voice_xml("医保怎么报销"))
    assert reply_content(reply) == "收到：医保怎么报销"
    reply = await post_plain(app, voice_xml("", msg_id="2002"))
    assert reply_content(reply) == NOT_RECOGNISED
    assert [m.text for m in dialogue.received] == ["医保怎么报销"]


async def test_subscribe_welcomes_and_menu_clicks_become_intents(app, dialogue) -> None:
    reply = await post_plain(app, event_xml("subscribe"))
    assert reply_content(reply) == "您好，欢迎关注示例市12345。"
    await post_plain(app, event_xml("CLICK", "MENU_HUMAN"))
    assert [m.text for m in dialogue.received] == ["/greet", "/request_human"]
    reply = await post_plain(app, event_xml("unsubscribe"))
    assert reply.text == "success" and len(dialogue.received) == 2


async def test_other_message_types_get_a_polite_note(app, dialogue) -> None:
    image = text_xml("x").replace("[text]", "[image]")
    reply = await post_plain(app, image)
    assert reply_content(reply) == NOT_HANDLED and dialogue.received == []


async def test_a_resent_message_is_answered_once(app, dialogue) -> None:
    first = await post_plain(app, text_xml("我要投诉", msg_id="3001"))
    retries = [await post_plain(app, text_xml("我要投诉", msg_id="3001")) for _ in range(3)]
    assert "请回复数字选择" in reply_content(first)
    assert [r.text for r in retries] == ["success"] * 3
    assert len(dialogue.received) == 1


async def test_buttons_become_numbered_options_answered_by_digit(app, dialogue) -> None:
    reply = await post_plain(app, text_xml("我要投诉", msg_id="4001"))
    assert reply_content(reply).endswith("请回复数字选择：\n1. 投诉\n2. 求助")
    await post_plain(app, text_xml("2", msg_id="4002"))
    assert dialogue.received[-1].text == "/choose_help"
    await post_plain(app, text_xml("2", msg_id="4003"))  # no menu now: plain text
    assert dialogue.received[-1].text == "2"


async def test_a_slow_answer_follows_through_the_message_api(
    app, channel, dialogue, api
) -> None:
    first = await post_plain(app, text_xml("慢一点的问题", msg_id="5001"))
    second = await post_plain(app, text_xml("慢的第二个问题", msg_id="5002"))
    assert first.text == second.text == "success"
    await settle(channel)
    assert [m["text"]["content"] for m in api.sent] == [
        "收到：慢一点的问题",
        "收到：慢的第二个问题",
    ]
    assert all(m["touser"] == OPENID and m["msgtype"] == "text" for m in api.sent)
    assert api.token_requests == 1  # the access token is cached


async def test_an_expired_token_is_fetched_again(app, channel, api) -> None:
    api.expire_next = True
    await post_plain(app, text_xml("慢", msg_id="6001"))
    await settle(channel)
    assert api.token_requests == 2
    assert [m["text"]["content"] for m in api.sent] == ["收到：慢"]


async def test_a_long_answer_is_split_under_the_limit(app, channel, api) -> None:
    reply = await post_plain(app, text_xml("长", msg_id="7001"))
    await settle(channel)
    pieces = [reply_content(reply)] + [m["text"]["content"] for m in api.sent]
    assert len(pieces) > 1
    assert all(len(p) <= MAX_CHARS and len(p.encode()) <= 2048 for p in pieces)
    assert "\n".join(pieces) == LONG_ANSWER


@pytest.mark.parametrize(
    "body, status",
    [
        ("<xml><Content>unterminated", 400),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            "<xml><MsgType>text</MsgType><Content>&b;</Content></xml>",
            400,
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<xml><MsgType>text</MsgType><Content>&e;</Content></xml>",
            400,
        ),
        ("<xml><MsgType>text</MsgType></xml>", 400),
        ("<xml>" + "x" * 20000 + "</xml>", 400),
        ("\udcff", 400),
    ],
)
async def test_bad_xml_is_refused_before_the_dialogue(
    app, dialogue, body: str, status: int
) -> None:
    raw = body.encode("utf-8", "surrogatepass")
    query = urlencode(signed_query())
    _, reply = await app.asgi_client.post(
        f"/webhooks/wechat/webhook?{query}", content=raw
    )
    assert reply.status == status
    assert dialogue.received == []


async def test_a_bad_signature_is_refused(app, dialogue) -> None:
    reply = await post_plain(app, text_xml("你好"), token="wrong-token")
    assert reply.status == 403 and dialogue.received == []


async def test_message_ids_are_claimed_once_across_instances_in_redis(
    redis_url,
) -> None:
    first, second = SharedState(redis_url, "dedup"), SharedState(redis_url, "dedup")
    assert await first.claim("msg-1") is True
    assert await second.claim("msg-1") is False
    await first.put("access_token", "shared", 60)
    assert await second.get("access_token") == "shared"


def test_split_text_keeps_every_character() -> None:
    text = "甲" * 1500 + "\n" + "乙" * 10
    pieces = split_text(text, 600)
    assert [len(p) for p in pieces] == [600, 600, 311]  # the short line rides along
    assert "".join(pieces) == text
