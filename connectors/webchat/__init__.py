"""The web chat channel: Rasa's socket.io channel, named ``web``, serving the widget.

Sites embed the widget with one tag::

    <script src="https://<host>/webhooks/web/static/widget.js" defer></script>

The widget, its style sheet and the socket.io client are served from here
(``static/``), never from a third-party CDN; ``/webhooks/web/demo`` is a demo page.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import exceptions as sio_errors

from connectors.limits import client_ip, limiter
from connectors.turns import guarded

STATIC = Path(__file__).resolve().parent / "static"
# Session ids are the 32-hex-digit ids session_request hands out.
SESSION_ID = re.compile(r"[0-9a-f]{32}")
MAX_MESSAGE = 2000
TOO_LONG = f"抱歉，消息请不要超过{MAX_MESSAGE}字，您可以分几次发送。"
BUSY = "您好，当前网络的连接过于频繁，请稍等一分钟，页面会自动重新连接，谢谢您的理解。"
CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The demo page may load only what this server serves and talk only to it.
logger = logging.getLogger(__name__)
DEMO_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
)


def _served_files() -> Dict[str, Path]:
    """The files the widget may ask for, by name (nothing outside ``static/``)."""
    return {
        path.name: path
        for path in STATIC.iterdir()
        if path.is_file() and path.suffix in CONTENT_TYPES
    }


class WebChatInput(SocketIOInput):
    """Socket.IO for the widget, plus its static files and demo page."""

    @classmethod
    def name(cls) -> str:
        """Tickets and tracker events record this channel as ``web``."""
        return "web"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's socket.io blueprint with the widget's files added."""

        async def checked(message: UserMessage) -> Any:
            # Only ids this channel hands out: no posting into an "ivr-…" or
            # "wechat-…" conversation by naming it.
            foreign = not SESSION_ID.fullmatch(str(message.sender_id))
            if (self.session_persistence and foreign) or not isinstance(
                message.text, str
            ):
                logger.warning("web message with a foreign session or no text ignored")
                return None
            if len(message.text) > MAX_MESSAGE:
                await message.output_channel.send_text_message(
                    message.sender_id, TOO_LONG
                )
                return None
            return await on_new_message(message)

        blueprint = super().blueprint(guarded(self.name(), checked))
        files = _served_files()
        sio = self.sio
        assert sio is not None
        rasa_connect = sio.handlers[self.namespace or "/"]["connect"]

        # Each address may open only so many connections a minute; over that the
        # widget is refused with a polite reason it shows the citizen.
        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict, auth: Dict | None = None) -> bool:
            request = environ.get("sanic.request")
            address = client_ip(request) if request is not None else ""
            if address and not await limiter("ip").allow(self.name(), address):
                raise sio_errors.ConnectionRefusedError(BUSY)
            return bool(await rasa_connect(sid, environ, auth))

        # Rasa 3.6 calls python-socketio's enter_room without awaiting it, and since
        # python-socketio 5.10 that is a coroutine: the client never joins its
        # session's room and, with session persistence, never hears the bot.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Dict[str, Any] | None) -> None:
            data = dict(data or {}) if isinstance(data, dict) else {}
            if not SESSION_ID.fullmatch(str(data.get("session_id") or "")):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"])
            await sio.emit("session_confirm", data["session_id"], room=sid)

        @blueprint.route("/static/<name:str>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            path = files.get(name)
            if path is None:
                return response.json({"error": "没有这个文件"}, status=404)
            return await response.file(
                path,
                mime_type=CONTENT_TYPES[path.suffix],
                headers={
                    "Cache-Control": "public, max-age=300",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        @blueprint.route("/demo", methods=["GET"])
        async def demo(request: Request) -> HTTPResponse:
            return await response.file(
                files["demo.html"],
                mime_type=CONTENT_TYPES[".html"],
                headers={
                    "Content-Security-Policy": DEMO_POLICY,
                    "X-Content-Type-Options": "nosniff",
                },
            )

        return blueprint
