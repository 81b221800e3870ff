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

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.metrics import REGISTRY
from connectors.turns import action_server_up


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
        self.action_server = action_server

    def _allowed(self, request: Request) -> bool:
        expected = f"Bearer {self.token}".encode()
        given = request.headers.get("authorization", "").encode()
        return not self.token or hmac.compare_digest(given, expected)

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
            actions = await action_server_up(self.action_server)
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
