"""The web chat channel: Rasa's socket.io channel, named ``web``, serving the widget.

Sites embed the widget with one tag::

    <script src="https://<host>/webhooks/web/static/widget.js" defer></script>

The widget, its style sheet and the socket.io client are served from here
(``static/``), never from a third-party CDN; ``/webhooks/web/demo`` is a demo page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.turns import guarded

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The demo page may load only what this server serves and talk only to it.
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
        blueprint = super().blueprint(guarded(self.name(), on_new_message))
        files = _served_files()

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
