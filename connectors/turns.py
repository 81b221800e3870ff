"""What every channel does around a dialogue turn: limit, time and count it, never go silent.

When a turn produces no reply because the action server is down, Rasa logs the
error and says nothing; the citizen gets an apology and the way to a person
instead. A conversation that is silent for a reason (paused for an agent) is left
alone while the action server answers.
"""

from __future__ import annotations

import os
import time
from typing import Any, Awaitable, Callable, Dict, Tuple, cast

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.emergency import names_danger
from bot.metrics import CHANNEL_ERRORS, TURN_SECONDS, TURNS
from bot.profile import fill
from connectors.limits import SLOW_DOWN, limiter

APOLOGY = "抱歉，系统暂时出了点问题，没能处理您的消息。请稍后再试，或拨打{hotline}由话务员为您服务。"
PROBE_SECONDS = 5.0
Handler = Callable[[UserMessage], Awaitable[Any]]
_probes: Dict[str, Tuple[float, bool]] = {}


def action_health_url(webhook: str | None = None) -> str:
    """The action server's ``/health`` URL, from its webhook URL."""
    webhook = (
        webhook if webhook is not None else os.environ.get("ACTION_SERVER_URL", "")
    )
    return webhook.rsplit("/webhook", 1)[0] + "/health" if webhook else ""


async def action_server_up(webhook: str | None = None) -> bool:
    """Whether the action server answers (asked at most every few seconds)."""
    url = action_health_url(webhook)
    if not url:
        return False
    checked, up = _probes.get(url, (0.0, False))
    if time.monotonic() - checked < PROBE_SECONDS:
        return up
    try:
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url) as reply:
                up = reply.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        up = False
    _probes[url] = (time.monotonic(), up)
    return up


class _CountingOutput:
    """The channel's own output, counting what is sent through it."""

    def __init__(self, inner: OutputChannel) -> None:
        self._inner = inner
        self.sent = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not (name.startswith("send_") and callable(attribute)):
            return attribute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return await attribute(*args, **kwargs)

        return counted


def guarded(channel: str, on_new_message: Handler, apologise: bool = True) -> Handler:
    """`on_new_message`, rate-limited, timed and counted, never silent.

    A sender over the per-sender limit is asked to slow down instead of answered.

    A channel that handles silence itself (the phone line transfers the caller)
    passes ``apologise=False``.
    """

    async def handle(message: UserMessage) -> Any:
        output = message.output_channel
        if not await _within_limit(channel, message):
            if output is not None:
                await output.send_text_message(message.sender_id, SLOW_DOWN)
            return None
        started = time.perf_counter()
        counting = _CountingOutput(output) if output is not None else None
        if counting is not None:
            message.output_channel = cast(OutputChannel, counting)
        try:
            return await on_new_message(message)
        except Exception:
            CHANNEL_ERRORS.labels(channel).inc()
            raise
        finally:
            TURNS.labels(channel).inc()
            TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)
            message.output_channel = output
            silent = counting is not None and not counting.sent
            if apologise and silent and not _control(message.text):
                if not await action_server_up():
                    CHANNEL_ERRORS.labels(channel).inc()
                    await output.send_response(
                        message.sender_id, {"text": fill(APOLOGY, channel)}
                    )

    return handle


async def _within_limit(channel: str, message: UserMessage) -> bool:
    # The danger phrases are matched only past the limit, not on every message.
    text = str(message.text or "")
    if _control(text) or await limiter("sender").allow(channel, str(message.sender_id)):
        return True
    return names_danger(text)


def _control(text: str | None) -> bool:
    return str(text or "").startswith(("/restart", "/session_start"))
