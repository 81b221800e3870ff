"""Rasa's REST channel, checked: a token when exposed, and well-formed requests only.

With ``REST_TOKEN`` (the env var ``credentials.yml`` names) set, every message needs
``Authorization: Bearer <token>``; unset, as on a developer's machine, REST is open.
Each address and each sender is rate-limited (``connectors/limits.py``).
The channel is always ``rest`` and clients cannot pass metadata (such as a caller
number): only the channels that verify their callers do.
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.limits import TOO_MANY_REQUESTS, WINDOW, client_ip, limiter
from connectors.turns import guarded

MAX_BODY = 16 * 1024
MAX_MESSAGE = 2000
MAX_SENDER = 128


def problem(request: Request) -> str | None:
    """What is wrong with a message request, or None."""
    try:
        body = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "请求体应为 JSON"
    if not isinstance(body, dict):
        return "请求体应为 JSON 对象"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        return f"sender 应为 1 到 {MAX_SENDER} 个字符的文本"
    if not isinstance(message, str) or not message.strip():
        return "message 应为非空文本"
    if len(message) > MAX_MESSAGE:
        return f"消息请不要超过 {MAX_MESSAGE} 字"
    return None


class TokenRestInput(RestInput):
    """``/webhooks/rest/webhook``, refusing unauthorised and malformed requests."""

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> RestInput:
        """Reads the token from the env var named by ``token_env``."""
        credentials = credentials or {}
        return cls(os.environ.get(str(credentials.get("token_env", "REST_TOKEN")), ""))

    def __init__(self, token: str = "") -> None:
        """Creates the channel; an empty token leaves it open."""
        self.token = token

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        """No client-supplied metadata."""
        return None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's REST blueprint behind the token and request checks."""
        blueprint = super().blueprint(guarded(self.name(), on_new_message))

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            if not await limiter("ip").allow(self.name(), client_ip(request)):
                return response.json(
                    {"error": TOO_MANY_REQUESTS},
                    status=429,
                    headers={"Retry-After": str(WINDOW)},
                )
            if len(request.body or b"") > MAX_BODY:
                return response.json({"error": "请求体过大"}, status=413)
            given = request.headers.get("authorization", "")
            expected = f"Bearer {self.token}"
            if self.token and not hmac.compare_digest(
                given.encode(), expected.encode()
            ):
                return response.json({"error": "令牌缺失或不正确"}, status=401)
            error = problem(request)
            return response.json({"error": error}, status=400) if error else None

        return blueprint
