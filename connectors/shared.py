"""State every instance must agree on: claims, cached values and counters.

In Redis (keys under a prefix) when ``REDIS_URL`` is set, so several instances
share it; in this process's memory otherwise, as on a developer's machine.
"""

from __future__ import annotations

import os
import time
from typing import Dict, Tuple

CLAIM_TTL = 60
# Expired counters are swept once the memory copy holds this many.
SWEEP_AT = 10_000


class SharedState:
    """Message-id claims, cached values and windowed counters, Redis or memory."""

    def __init__(
        self, redis_url: str | None, prefix: str = "hotline", scope: str = "wechat"
    ) -> None:
        """Uses Redis at `redis_url` (keys under `prefix:scope`) or memory."""
        self._prefix = f"{prefix}:{scope}"
        self._redis = None
        if redis_url:
            from bot.redis_client import connect

            self._redis = connect(redis_url)
        self._claimed: Dict[str, float] = {}
        self._values: Dict[str, Tuple[str, float]] = {}
        self._counts: Dict[str, Tuple[int, float]] = {}

    @classmethod
    def from_env(cls, scope: str) -> SharedState:
        """Redis at ``REDIS_URL`` under ``REDIS_PREFIX`` when set, else memory."""
        return cls(
            os.environ.get("REDIS_URL"),
            os.environ.get("REDIS_PREFIX", "hotline"),
            scope,
        )

    async def claim(self, key: str, ttl: int = CLAIM_TTL) -> bool:
        """True the first time `key` is claimed within `ttl` seconds."""
        if self._redis is not None:
            return bool(
                await self._redis.set(f"{self._prefix}:msg:{key}", "1", nx=True, ex=ttl)
            )
        now = time.monotonic()
        self._claimed = {k: t for k, t in self._claimed.items() if t > now}
        if key in self._claimed:
            return False
        self._claimed[key] = now + ttl
        return True

    async def count(self, key: str, window: int) -> int:
        """Counts one more hit on `key` in its current `window`-second window."""
        if self._redis is not None:
            name = f"{self._prefix}:count:{key}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, ex=window, nx=True)
                pipe.incr(name)
                _, hits = await pipe.execute()
            return int(hits)
        now = time.monotonic()
        if len(self._counts) >= SWEEP_AT:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        hits, until = self._counts.get(key, (0, 0.0))
        if until <= now:
            hits, until = 0, now + window
        self._counts[key] = (hits + 1, until)
        return hits + 1

    async def get(self, name: str) -> str | None:
        """A cached value, if still valid."""
        if self._redis is not None:
            return await self._redis.get(f"{self._prefix}:{name}")
        value, until = self._values.get(name, ("", 0.0))
        return value if until > time.monotonic() else None

    async def put(self, name: str, value: str, ttl: int) -> None:
        """Caches a value for `ttl` seconds."""
        if self._redis is not None:
            await self._redis.set(f"{self._prefix}:{name}", value, ex=ttl)
        else:
            self._values[name] = (value, time.monotonic() + ttl)

    async def forget(self, name: str) -> None:
        """Drops a cached value."""
        if self._redis is not None:
            await self._redis.delete(f"{self._prefix}:{name}")
        self._values.pop(name, None)
