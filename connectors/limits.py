"""Per-sender and per-address rate limits, shared through Redis across instances.

A citizen sends a few messages a minute; a script sends hundreds. Over the limit, a
sender's message is not processed and they are asked politely to slow down; an
address gets HTTP 429 (REST) or a refused connection (web chat). A message naming
a danger to life is never held back. The phone system and WeChat's servers carry
many citizens from one address, so only the per-sender limit applies to them.

Limits are per minute: ``RATE_LIMIT_PER_SENDER`` (default 20) and
``RATE_LIMIT_PER_IP`` (default 300); 0 turns a limit off. Behind a reverse proxy,
set ``SANIC_PROXIES_COUNT`` so addresses are read from ``X-Forwarded-For``. When
Redis does not answer, limits are not enforced rather than refusing citizens.
"""

from __future__ import annotations

import logging
import os
from functools import cache

from redis.exceptions import RedisError
from sanic.request import Request

from bot.metrics import RATE_LIMITED
from connectors.shared import SharedState

logger = logging.getLogger(__name__)

WINDOW = 60
DEFAULTS = {"sender": 20, "ip": 300}
SLOW_DOWN = "您好，您发送消息的速度有些快，请稍等一分钟再发，谢谢您的理解。"
TOO_MANY_REQUESTS = "请求过于频繁，请稍后再试。"


class RateLimiter:
    """At most `per_minute` hits per key in each one-minute window."""

    def __init__(self, kind: str, per_minute: int, state: SharedState) -> None:
        """`kind` names the limit in metrics and keys; 0 `per_minute` allows all."""
        self.kind = kind
        self.per_minute = per_minute
        self._state = state

    async def allow(self, channel: str, key: str) -> bool:
        """Counts a hit by `key` on `channel`; False once over the limit."""
        if self.per_minute <= 0:
            return True
        try:
            hits = await self._state.count(f"{self.kind}:{channel}:{key}", WINDOW)
        except (RedisError, OSError) as error:
            logger.warning("rate limit not enforced, shared state failed: %s", error)
            return True
        if hits <= self.per_minute:
            return True
        RATE_LIMITED.labels(channel, self.kind).inc()
        return False


@cache
def limiter(kind: str) -> RateLimiter:
    """The process's limiter of `kind` (``sender`` or ``ip``), set from env vars."""
    variable = f"RATE_LIMIT_PER_{kind.upper()}"
    return RateLimiter(
        kind,
        int(os.environ.get(variable, DEFAULTS[kind])),
        SharedState.from_env("limit"),
    )


def client_ip(request: Request) -> str:
    """The caller's address: the proxy's forwarded one when configured."""
    return str(request.remote_addr or request.ip)
