"""Operations endpoints on the Rasa server: liveness, readiness and Prometheus metrics.

``/webhooks/ops/health`` answers while the process serves; ``/webhooks/ops/ready``
only when the action server answers too (a load balancer sends no citizens before);
``/webhooks/ops/metrics`` is the Prometheus text format. With ``OPS_TOKEN`` set,
readiness and metrics need ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
from typing import Any, Awaitable, Callable, Dict

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.metrics import REGISTRY


class OpsInput(InputChannel):
    """Not a citizen channel: the endpoints operators and load balancers call."""

    @classmethod
    def name(cls) -> str:
        """Mounted at ``/webhooks/ops``."""
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        """Reads the token and the action server's URL from env vars."""
        credentials = credentials or {}
        return cls(
            token=os.environ.get(str(credentials.get("token_env", "OPS_TOKEN")), ""),
            action_server=os.environ.get("ACTION_SERVER_URL", ""),
        )

    def __init__(self, token: str = "", action_server: str = "") -> None:
        """`action_server` is the actions webhook URL (its ``/health`` is asked)."""
        self.token = token
        self.action_health = (
            action_server.rsplit("/webhook", 1)[0] + "/health" if action_server else ""
        )

    def _allowed(self, request: Request) -> bool:
        expected = f"Bearer {self.token}".encode()
        given = request.headers.get("authorization", "").encode()
        return not self.token or hmac.compare_digest(given, expected)

    async def _action_server_up(self) -> bool:
        if not self.action_health:
            return False
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(self.action_health) as reply:
                    return reply.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Health, readiness and metrics."""
        ops = Blueprint("ops", __name__)

        @ops.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ops.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            if not self._allowed(request):
                return response.json({"error": "令牌缺失或不正确"}, status=401)
            actions = await self._action_server_up()
            body = {"status": "ready" if actions else "not ready", "actions": actions}
            return response.json(body, status=200 if actions else 503)

        @ops.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            if not self._allowed(request):
                return response.json({"error": "令牌缺失或不正确"}, status=401)
            return response.raw(
                generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST
            )

        return ops
