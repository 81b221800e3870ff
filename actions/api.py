"""The ticket API for staff and the downstream work-order system (see openapi.yml).

Run with ``python -m actions.api`` (``make run`` starts it). Every route but
``/health`` and ``/openapi.json`` needs ``Authorization: Bearer <TICKET_API_TOKEN>``.
Phone and ID numbers are returned whole here: this is the ticket record's own door.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.store import TicketNotFound, TicketStore, open_store
from actions.ticket import STATUSES
from bot.privacy import configure_logs

OPENAPI = Path(__file__).resolve().parent / "openapi.yml"
MAX_BODY = 16 * 1024
MAX_REPLY = 2000
MAX_PAGE = 200
PUBLIC = {"/health", "/openapi.json"}

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def openapi_document() -> Dict[str, Any]:
    """The API's OpenAPI 3 document."""
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def error(status: int, message: str) -> HTTPResponse:
    """A JSON error body, in Chinese for the staff who read it."""
    return response.json({"error": message}, status=status)


def _int_arg(request: Request, name: str, default: int, top: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isdigit() and int(raw) <= top else None


def create_app(token: str, store: TicketStore | None = None) -> Sanic:
    """The API app; it opens the configured store unless one is given."""
    if not token:
        raise ValueError("TICKET_API_TOKEN 未设置：工单接口不能无令牌运行")
    app = Sanic("ticket_api")  # sets up Sanic's log handlers
    configure_logs()
    app.config.REQUEST_MAX_SIZE = MAX_BODY
    app.config.FALLBACK_ERROR_FORMAT = "json"

    @app.before_server_start
    async def _open(app: Sanic, _: Any) -> None:
        app.ctx.store = store or open_store()

    @app.after_server_stop
    async def _close(app: Sanic, _: Any) -> None:
        if store is None:
            await app.ctx.store.close()

    @app.on_request
    async def _authorise(request: Request) -> HTTPResponse | None:
        if len(request.body or b"") > MAX_BODY:  # Sanic's own limit skips ASGI
            return error(413, f"请求体不能超过 {MAX_BODY // 1024} KB")
        if request.path in PUBLIC:
            return None
        header = request.headers.get("authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            reply = error(401, "令牌缺失或不正确")
            reply.headers["WWW-Authenticate"] = "Bearer"
            return reply
        return None

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/openapi.json")
    async def openapi(request: Request) -> HTTPResponse:
        return response.json(openapi_document())

    @app.get("/tickets")
    async def list_tickets(request: Request) -> HTTPResponse:
        status = request.args.get("status")
        limit = _int_arg(request, "limit", 50, MAX_PAGE)
        offset = _int_arg(request, "offset", 0, 10**9)
        if status is not None and status not in STATUSES:
            return error(400, f"status 只能是：{'、'.join(STATUSES)}")
        if limit is None or offset is None:
            return error(400, f"limit 应为 0 到 {MAX_PAGE} 的整数，offset 应为非负整数")
        tickets = await request.app.ctx.store.list(status, limit, offset)
        return response.json({"tickets": [t.to_dict() for t in tickets]})

    @app.get("/tickets/<number:str>")
    async def get_ticket(request: Request, number: str) -> HTTPResponse:
        ticket = await request.app.ctx.store.get(number)
        if ticket is None:
            return error(404, "没有这个工单")
        return response.json(ticket.to_dict())

    @app.patch("/tickets/<number:str>")
    async def update_ticket(request: Request, number: str) -> HTTPResponse:
        try:
            body = json.loads(request.body or b"")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return error(400, "请求体应为 JSON")
        if not isinstance(body, dict) or not set(body) <= {"status", "reply"}:
            return error(400, "只能修改 status 和 reply")
        status, reply = body.get("status"), body.get("reply")
        if status is not None and status not in STATUSES:
            return error(400, f"status 只能是：{'、'.join(STATUSES)}")
        if reply is not None and not (
            isinstance(reply, str) and len(reply) <= MAX_REPLY
        ):
            return error(400, f"reply 应为不超过 {MAX_REPLY} 字的文本")
        if status is None and reply is None:
            return error(400, "请至少提供 status 或 reply")
        try:
            ticket = await request.app.ctx.store.update(number, status, reply)
        except TicketNotFound:
            return error(404, "没有这个工单")
        logger.info("工单 %s 已更新：%s", number, status or "回复")
        return response.json(ticket.to_dict())

    @app.get("/handoffs")
    async def handoffs(request: Request) -> HTTPResponse:
        limit = _int_arg(request, "limit", 50, MAX_PAGE)
        if limit is None:
            return error(400, f"limit 应为 0 到 {MAX_PAGE} 的整数")
        return response.json({"handoffs": await request.app.ctx.store.handoffs(limit)})

    return app


def main() -> None:
    """Serves the API on ``TICKET_API_PORT`` (5056)."""
    app = create_app(os.environ.get("TICKET_API_TOKEN", ""))
    port = int(os.environ.get("TICKET_API_PORT", "5056"))
    app.run(
        host=os.environ.get("TICKET_API_HOST", "0.0.0.0"), port=port, access_log=False
    )


if __name__ == "__main__":
    main()
