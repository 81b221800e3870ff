"""One way to reach Redis for tickets and shared state: with retries on a dropped link.

After Redis restarts (or fails over) pooled connections are dead; a command on one
fails once, then succeeds on a new connection. Every write through these clients is
safe to repeat (ticket filing is idempotent by key), so a short retry is used.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError


def connect(url: str) -> aioredis.Redis:
    """An asyncio client for `url` that retries three times, backing off to 1 s."""
    return aioredis.from_url(
        url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[ConnectionError, TimeoutError],
    )
