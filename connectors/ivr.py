"""The phone line: the IVR posts each turn as text and speaks the prompts it gets back.

Request (``POST /webhooks/ivr/webhook``, JSON, signed)::

    {call_id, caller, event: call_start|utterance|dtmf|no_input|call_end,
     text, asr_confidence, dtmf}

Response::

    {prompts: [speakable text], action: continue|transfer|hangup,
     transfer_target, expect: speech|dtmf, barge_in}

The phone system signs the raw body: ``X-IVR-Signature: <hex HMAC-SHA256>`` with the
secret in the env var that ``credentials.yml`` names (``secret_env``). Buttons
become spoken menus answered by voice or keypad; the caller's number goes to the
dialogue as ``caller`` metadata, where the ticket form offers it for confirmation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.profile import load_profile
from bot.speech import menu_prompt, speakable
from connectors.turns import guarded

logger = logging.getLogger(__name__)

EVENTS = {"call_start", "utterance", "dtmf", "no_input", "call_end"}
MAX_BODY = 16 * 1024
MAX_TEXT = 500
CALL_TTL = 2 * 3600
# What the caller hears when the line cannot go on as asked.
NOT_HEARD = "抱歉，没有听到您的声音。"
NOT_CLEAR = "抱歉，我没有听清，请您再说一遍。"
NO_SUCH_KEY = "抱歉，没有这个选项。"
OFFER_TRANSFER = "需要人工服务请按0或说转人工，结束通话请按9。"
GOODBYE = "感谢您的来电，再见。"
UNAVAILABLE = "抱歉，系统暂时无法处理您的来电，正在为您转接人工服务。"
TRANSFER_KEY, HANGUP_KEY = "0", "9"


@dataclass
class Call:
    """What the line remembers between the turns of one call."""

    menu: Dict[str, str] = field(default_factory=dict)  # key → payload
    titles: Dict[str, str] = field(default_factory=dict)  # spoken title → payload
    last_prompts: List[str] = field(default_factory=list)
    misses: int = 0  # silences or unclear answers in a row
    offered_transfer: bool = False
    seen: float = field(default_factory=time.monotonic)


class IvrOutput(CollectingOutputChannel):
    """Collects the bot's messages; ``ivr`` selects the spoken response variants."""

    @classmethod
    def name(cls) -> str:
        """Response variants with ``channel: ivr`` are chosen for this channel."""
        return "ivr"


def reply(
    prompts: List[str],
    action: str = "continue",
    transfer_target: str | None = None,
    expect: str = "speech",
) -> HTTPResponse:
    """The phone system's answer for one turn."""
    return response.json(
        {
            "prompts": [p for p in prompts if p],
            "action": action,
            "transfer_target": transfer_target,
            "expect": expect,
            "barge_in": action == "continue",
        }
    )


class IvrInput(InputChannel):
    """The IVR channel: one HTTP turn per caller event."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in tickets and tracker events."""
        return "ivr"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        """Reads the names of the env vars holding the secret, and the thresholds."""
        credentials = credentials or {}
        return cls(
            secret=os.environ.get(str(credentials.get("secret_env", "IVR_SECRET")), ""),
            min_asr_confidence=float(credentials.get("min_asr_confidence", 0.5)),
            max_misses=int(credentials.get("max_misses", 2)),
        )

    def __init__(
        self, secret: str, min_asr_confidence: float = 0.5, max_misses: int = 2
    ) -> None:
        """Creates the channel; without a secret it refuses every request."""
        self.secret = secret.encode()
        self.min_asr_confidence = min_asr_confidence
        self.max_misses = max_misses
        self.calls: Dict[str, Call] = {}
        if not secret:
            logger.warning("IVR secret not set: the phone channel refuses all calls")

    def signed(self, request: Request) -> bool:
        """Whether the body carries a valid HMAC-SHA256 signature."""
        given = request.headers.get("x-ivr-signature", "")
        expected = hmac.new(self.secret, request.body or b"", hashlib.sha256)
        return bool(self.secret) and hmac.compare_digest(given, expected.hexdigest())

    def _call(self, call_id: str) -> Call:
        now = time.monotonic()
        for stale in [k for k, c in self.calls.items() if now - c.seen > CALL_TTL]:
            del self.calls[stale]
        call = self.calls.setdefault(call_id, Call())
        call.seen = now
        return call

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """``/webhooks/ivr/`` (health) and ``/webhooks/ivr/webhook`` (turns)."""
        on_new_message = guarded(self.name(), on_new_message, apologise=False)
        ivr = Blueprint("ivr_webhook", __name__)

        @ivr.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ivr.route("/webhook", methods=["POST"])
        async def turn(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY:
                return response.json({"error": "请求体过大"}, status=413)
            if not self.signed(request):
                return response.json({"error": "签名无效"}, status=401)
            try:
                turn = json.loads(request.body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return response.json({"error": "请求体应为 JSON"}, status=400)
            problem = _invalid(turn)
            if problem:
                return response.json({"error": problem}, status=400)
            return await self.handle(turn, on_new_message)

        return ivr

    async def handle(
        self,
        turn: Dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Answers one checked caller event."""
        call_id, event = str(turn["call_id"]), turn["event"]
        call = self._call(call_id)
        if event == "call_end":
            self.calls.pop(call_id, None)
            await self._send("/restart", turn, on_new_message)
            return reply([], action="hangup")
        if event == "call_start":
            return await self._answer("/greet", turn, call, on_new_message)
        if event == "no_input":
            return self._missed(call, NOT_HEARD)
        if event == "dtmf":
            key = str(turn.get("dtmf") or "").strip()[:1]
            if call.offered_transfer and key in (TRANSFER_KEY, HANGUP_KEY):
                payload = "/request_human" if key == TRANSFER_KEY else None
                if payload is None:
                    return reply([GOODBYE], action="hangup")
                return await self._answer(payload, turn, call, on_new_message)
            if key == TRANSFER_KEY:
                return await self._answer("/request_human", turn, call, on_new_message)
            if key not in call.menu:
                return reply([NO_SUCH_KEY, *call.last_prompts])
            return await self._answer(call.menu[key], turn, call, on_new_message)
        text = str(turn.get("text") or "").strip()
        confidence = turn.get("asr_confidence")
        if not text:
            return self._missed(call, NOT_HEARD)
        if (
            isinstance(confidence, (int, float))
            and confidence < self.min_asr_confidence
        ):
            return self._missed(call, NOT_CLEAR)
        payload = call.titles.get(text.strip("。，！？ "), text)
        return await self._answer(payload, turn, call, on_new_message)

    def _missed(self, call: Call, apology: str) -> HTTPResponse:
        """Re-prompts up to ``max_misses`` times, then offers a person or goodbye."""
        call.misses += 1
        if call.misses <= self.max_misses:
            return reply([apology, *call.last_prompts])
        if not call.offered_transfer:
            call.offered_transfer = True
            return reply([apology, OFFER_TRANSFER], expect="dtmf")
        return reply([GOODBYE], action="hangup")

    async def _send(
        self,
        text: str,
        turn: Dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> List[Dict[str, Any]]:
        collector = IvrOutput()
        await on_new_message(
            UserMessage(
                text,
                collector,
                sender_id=f"ivr-{turn['call_id']}",
                input_channel=self.name(),
                metadata={"caller": str(turn.get("caller") or "")},
            )
        )
        return collector.messages

    async def _answer(
        self,
        text: str,
        turn: Dict[str, Any],
        call: Call,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Sends the caller's words to the dialogue and speaks what it answers."""
        call.misses, call.offered_transfer = 0, False
        try:
            messages = await self._send(text[:MAX_TEXT], turn, on_new_message)
        except Exception:  # the dialogue failed: a person takes the call
            logger.exception("IVR turn failed for call %s", turn["call_id"])
            return reply([UNAVAILABLE], action="transfer", transfer_target=_queue())
        prompts: List[str] = []
        titles: List[str] = []
        call.menu, call.titles = {}, {}
        transfer = None
        for message in messages:
            if message.get("text"):
                prompts.append(speakable(message["text"]))
            for button in message.get("buttons") or []:
                key = str(len(titles) + 1)
                titles.append(str(button.get("title", "")))
                call.menu[key] = str(button.get("payload", ""))
                call.titles[speakable(titles[-1])] = call.menu[key]
            custom = message.get("custom") or {}
            if isinstance(custom, dict) and custom.get("transfer"):
                transfer = str(custom["transfer"])
        if titles:
            prompts.append(menu_prompt(titles))
        if (
            not prompts and not transfer
        ):  # the dialogue said nothing: a person takes over
            logger.error("IVR turn got no reply for call %s", turn["call_id"])
            return reply([UNAVAILABLE], action="transfer", transfer_target=_queue())
        call.last_prompts = prompts[-2:]
        if transfer:
            return reply(prompts, action="transfer", transfer_target=transfer)
        return reply(prompts)


def _queue() -> str:
    return str(load_profile()["ivr_transfer_target"])


def _invalid(turn: Any) -> str | None:
    """What is wrong with a caller event, or None."""
    if not isinstance(turn, dict):
        return "请求体应为 JSON 对象"
    if not isinstance(turn.get("call_id"), (str, int)) or not str(turn["call_id"]):
        return "缺少 call_id"
    if len(str(turn["call_id"])) > 128:
        return "call_id 过长"
    if turn.get("event") not in EVENTS:
        return f"event 应为 {'、'.join(sorted(EVENTS))} 之一"
    if turn.get("text") is not None and not isinstance(turn["text"], str):
        return "text 应为文本"
    confidence = turn.get("asr_confidence")
    if confidence is not None and not isinstance(confidence, (int, float)):
        return "asr_confidence 应为数字"
    return None
