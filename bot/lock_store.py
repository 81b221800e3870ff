"""A Redis lock store that keeps the assistant answering while Redis is down.

Configured in ``endpoints.cluster.yml`` (``lock_store: type: bot.lock_store.…``).
Rasa's own Redis lock store fails every turn when Redis does not answer, while
its tracker store already falls back to memory (``FailSafeTrackerStore``). This
one does the same for locks: while Redis is down each instance locks the
conversations it serves in its own memory, so FAQs are still answered; turns of
one conversation that land on different instances are then not serialised.
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

from bot.redis_client import Outage


class FailSafeRedisLockStore(RedisLockStore):
    """Locks in Redis; in this process's memory while Redis fails."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self.fallback = InMemoryLockStore()
        self.outage = Outage("lock store")

    def _either(self, method: str, *args: Any) -> Any:
        """Rasa's Redis `method`, or the in-memory store's while Redis fails."""
        try:
            result = getattr(RedisLockStore, method)(self, *args)
        except RedisError as error:
            self.outage.failed(error)
            return getattr(self.fallback, method)(*args)
        self.outage.answered()
        return result

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's lock, from Redis or, while it fails, from memory."""
        return self._either("get_lock", conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Deletes the conversation's lock where it is kept."""
        self._either("delete_lock", conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Saves the lock in Redis or, while it fails, in memory."""
        self._either("save_lock", lock)
