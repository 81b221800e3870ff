"""One way to reach Redis for tickets and shared state: with retries on a dropped link.

After Redis restarts (or fails over) pooled connections are dead; a command on one
fails once, then succeeds on a new connection. Every write through these clients is
safe to repeat (ticket filing is idempotent by key), so a short retry is used.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, RedisError, TimeoutError

logger = logging.getLogger(__name__)


def connect(url: str) -> aioredis.Redis:
    """An asyncio client for `url` that retries three times, backing off to 1 s."""
    return aioredis.from_url(
        url,
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[ConnectionError, TimeoutError],
    )


class Outage:
    """Logs once when Redis starts failing a store, and once when it answers again."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.failing = False

    def failed(self, error: RedisError) -> None:
        """Redis failed a call: log it if it is the first since it last answered."""
        if not self.failing:
            logger.error(
                "%s: Redis failed, kept in this process: %s", self.store, error
            )
        self.failing = True

    def answered(self) -> None:
        """Redis answered a call."""
        if self.failing:
            logger.warning("%s: Redis answers again", self.store)
        self.failing = False
