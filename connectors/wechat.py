"""The WeChat Official Account channel (微信公众号), built on wechatpy.

``GET /webhooks/wechat/webhook`` answers WeChat's ``echostr`` check; ``POST`` takes
messages in plaintext or safe mode (AES, ``msg_signature``). Every request's
signature is checked (403 when wrong); XML is parsed with defusedxml first, so
entities and DTDs are refused (400), as are bodies over 16 KB.

WeChat waits 5 s for an answer and re-sends up to three times: each ``MsgId`` is
claimed once (Redis ``SET NX`` with a TTL when ``REDIS_URL`` is set, in memory
otherwise), so a retry never gets a second answer or files a second ticket. When
the dialogue answers within the budget (about 4 s) the reply is passive; otherwise
WeChat gets ``success`` and the answer follows through the customer-service message
API (access token cached, in Redis when configured). Long answers are split under
WeChat's size limit; buttons become numbered options answered with a digit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Tuple
from xml.etree.ElementTree import ParseError

import aiohttp
import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.privacy import mask_pii
from bot.profile import fill
from connectors.shared import SharedState
from connectors.turns import guarded

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
# WeChat takes at most 2,048 bytes of text per message: 600 Chinese characters fit.
MAX_CHARS = 600
MENU_LIMIT = 10_000
NOT_HANDLED = "您好，目前我只能处理文字和语音消息，请用文字或语音描述您的问题。"
NOT_RECOGNISED = "抱歉，没有识别出您的语音，请再说一遍或直接输入文字。"
UNAVAILABLE = "抱歉，系统暂时无法回复，请稍后再试，或拨打{hotline}咨询。"
_TOKEN_EXPIRED = {40001, 40014, 42001}
Deliver = Callable[[UserMessage], Awaitable[Any]]


class WeChatOutput(CollectingOutputChannel):
    """Collects the bot's messages for a passive reply or the message API."""

    @classmethod
    def name(cls) -> str:
        """Response variants with ``channel: wechat`` are chosen for this channel."""
        return "wechat"


def split_text(text: str, limit: int = MAX_CHARS) -> List[str]:
    """Splits a text into pieces under `limit`, at line breaks where possible."""
    pieces: List[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current.strip():
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def _safe_cdata(text: str) -> str:
    return text.replace("]]>", "]] >")


class WeChatInput(InputChannel):
    """The Official Account's server URL: ``/webhooks/wechat/webhook``."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in tickets and tracker events."""
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        """Reads secrets from the env vars that ``credentials.yml`` names."""
        credentials = credentials or {}

        def env(key: str, default: str) -> str:
            return os.environ.get(str(credentials.get(key, default)), "")

        return cls(
            token=env("token_env", "WECHAT_TOKEN"),
            app_id=env("app_id_env", "WECHAT_APP_ID"),
            app_secret=env("app_secret_env", "WECHAT_APP_SECRET"),
            aes_key=env("aes_key_env", "WECHAT_AES_KEY"),
            api_base=env("api_base_env", "WECHAT_API_BASE")
            or "https://api.weixin.qq.com",
            reply_budget=float(credentials.get("reply_budget", 4.0)),
            menu=dict(credentials.get("menu") or {}),
        )

    def __init__(
        self,
        token: str,
        app_id: str,
        app_secret: str,
        aes_key: str = "",
        api_base: str = "https://api.weixin.qq.com",
        reply_budget: float = 4.0,
        menu: Dict[str, str] | None = None,
        state: SharedState | None = None,
    ) -> None:
        """Creates the channel; without a token it refuses every request."""
        self.token = token
        self.app_id = app_id
        self.app_secret = app_secret
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.api_base = api_base.rstrip("/")
        self.reply_budget = reply_budget
        self.menu = menu or {}
        self.state = state or SharedState.from_env("wechat")
        self.options: Dict[str, Dict[str, str]] = {}  # openid → digit → payload
        self.pending: set = set()
        if not token:
            logger.warning("WeChat token not set: the WeChat channel refuses all calls")

    def _signed(self, request: Request) -> bool:
        args = request.args
        try:
            check_signature(
                self.token,
                args.get("signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except InvalidSignatureException:
            return False
        return bool(self.token)

    def blueprint(self, on_new_message: Deliver) -> Blueprint:
        """The server URL WeChat calls."""
        on_new_message = guarded(self.name(), on_new_message)
        wechat = Blueprint("wechat_webhook", __name__)

        @wechat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @wechat.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self._signed(request):
                return response.text("签名无效", status=403)
            return response.text(request.args.get("echostr", ""))

        @wechat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return wechat

    def _plaintext(self, request: Request) -> str | HTTPResponse:
        """The message XML, or the refusal to send back."""
        body = request.body or b""
        if len(body) > MAX_BODY:
            return response.text("消息过大", status=400)
        if not self._signed(request):
            return response.text("签名无效", status=403)
        try:
            text = body.decode("utf-8")
            SafeXML.fromstring(text)
            if request.args.get("encrypt_type") != "aes":
                return text
            if self.crypto is None:
                return response.text("未配置安全模式密钥", status=400)
            args = request.args
            plain = self.crypto.decrypt_message(
                text,
                args.get("msg_signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
            SafeXML.fromstring(plain)
            return str(plain)
        except InvalidSignatureException:
            return response.text("签名无效", status=403)
        except (
            UnicodeDecodeError,
            ParseError,
            DefusedXmlException,
            InvalidAppIdException,
            KeyError,
            ValueError,
            TypeError,
        ):
            return response.text("消息格式不正确", status=400)

    async def receive(self, request: Request, on_new_message: Deliver) -> HTTPResponse:
        """Answers one message: passively within the budget, else via the API."""
        plain = self._plaintext(request)
        if isinstance(plain, HTTPResponse):
            return plain
        try:
            message = parse_message(plain)
            user = str(message.source or "")
        except (KeyError, AttributeError, ValueError, TypeError):
            return response.text("消息格式不正确", status=400)
        if not user:
            return response.text("消息格式不正确", status=400)
        said = self._words(message, user)
        if said is None:
            return response.text("success")
        text, fixed = said
        key = str(getattr(message, "id", "") or f"{user}:{message.time}:{text}")
        if not await self.state.claim(key):
            return response.text("success")  # a retry: the first delivery answers
        if fixed:
            return self._passive(request, message, [text])
        task = asyncio.create_task(self._converse(text, user, on_new_message))
        try:
            pieces = await asyncio.wait_for(asyncio.shield(task), self.reply_budget)
        except asyncio.TimeoutError:
            self._later(self._send_when_done(task, user))
            return response.text("success")
        if len(pieces) > 1:
            self._later(self.send_all(user, pieces[1:]))
        return self._passive(request, message, pieces[:1])

    def _later(self, work: Awaitable[None]) -> None:
        """Runs `work` after the answer, keeping a reference until it ends."""
        task = asyncio.ensure_future(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _send_when_done(self, turn: Awaitable[List[str]], user: str) -> None:
        await self.send_all(user, await turn)

    def _words(self, message: Any, user: str) -> Tuple[str, bool] | None:
        """What to send the dialogue, or (a fixed reply, True); None to ignore."""
        kind = message.type
        if kind == "text":
            text = str(message.content or "").strip()
            text = self.options.get(user, {}).get(text, text)
            return (text, False) if text else None
        if kind == "voice":
            recognised = str(message.recognition or "").strip()
            return (recognised, False) if recognised else (NOT_RECOGNISED, True)
        if kind == "event":
            if message.event == "subscribe":
                return "/greet", False
            if message.event == "click":
                return self.menu.get(str(message.key), "/greet"), False
            return None
        return NOT_HANDLED, True

    async def _converse(
        self, text: str, user: str, on_new_message: Deliver
    ) -> List[str]:
        """Runs one dialogue turn and renders its messages as WeChat texts."""
        collector = WeChatOutput()
        try:
            await on_new_message(
                UserMessage(
                    text[:MAX_CHARS],
                    collector,
                    sender_id=f"wechat-{user}",
                    input_channel=self.name(),
                )
            )
        except Exception:  # the citizen gets an apology, never a stack trace
            logger.exception("WeChat turn failed")
            return [fill(UNAVAILABLE, self.name())]
        return self._render(user, collector.messages)

    def _render(self, user: str, messages: List[Dict[str, Any]]) -> List[str]:
        lines: List[str] = []
        options: Dict[str, str] = {}
        for message in messages:
            if message.get("text"):
                lines.append(str(message["text"]))
            buttons = message.get("buttons") or message.get("quick_replies") or []
            if buttons:
                lines.append("请回复数字选择：")
            for button in buttons:
                digit = str(len(options) + 1)
                options[digit] = str(button.get("payload", ""))
                lines.append(f"{digit}. {button.get('title', '')}")
        if options:
            if len(self.options) >= MENU_LIMIT:
                self.options.pop(next(iter(self.options)))
            self.options[user] = options
        else:
            self.options.pop(user, None)
        return split_text("\n".join(lines))

    def _passive(
        self, request: Request, message: Any, pieces: List[str]
    ) -> HTTPResponse:
        if not pieces:
            return response.text("success")
        xml = TextReply(content=_safe_cdata(pieces[0]), message=message).render()
        if request.args.get("encrypt_type") == "aes" and self.crypto is not None:
            xml = self.crypto.encrypt_message(
                xml, request.args.get("nonce", ""), request.args.get("timestamp")
            )
        return response.text(xml, content_type="application/xml")

    async def access_token(self, session: aiohttp.ClientSession) -> str:
        """The API access token, fetched once and cached until shortly before expiry."""
        cached = await self.state.get("access_token")
        if cached:
            return cached
        async with session.get(
            f"{self.api_base}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self.app_secret,
            },
        ) as reply:
            data = await reply.json(content_type=None)
        token = str(data.get("access_token") or "")
        if not token:
            raise RuntimeError(f"WeChat token request failed: {data.get('errcode')}")
        ttl = max(60, int(data.get("expires_in", 7200)) - 300)
        await self.state.put("access_token", token, ttl)
        return token

    async def send_all(self, user: str, pieces: List[str]) -> None:
        """Sends texts in order through the customer-service message API."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for piece in pieces:
                for attempt in (1, 2):
                    try:
                        errcode = await self._send_one(session, user, piece)
                    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError):
                        logger.exception("WeChat message API unreachable")
                        return
                    if errcode in _TOKEN_EXPIRED and attempt == 1:
                        await self.state.forget("access_token")
                        continue
                    if errcode:
                        logger.error("WeChat message API refused: %s", errcode)
                    break

    async def _send_one(
        self, session: aiohttp.ClientSession, user: str, text: str
    ) -> int:
        token = await self.access_token(session)
        body = {"touser": user, "msgtype": "text", "text": {"content": text}}
        async with session.post(
            f"{self.api_base}/cgi-bin/message/custom/send",
            params={"access_token": token},
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
        ) as reply:
            data = await reply.json(content_type=None)
        logger.debug("sent to WeChat user: %s", mask_pii(text[:40]))
        return int(data.get("errcode") or 0)
