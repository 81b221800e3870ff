"""Tracker stores that keep phone and ID numbers out of the stored conversation.

Configured in ``endpoints.yml`` (``tracker_store: type: bot.tracker_store.…``).
Every stored event is masked (138****5678, 110101********1234) except the current
values of the ticket slots the open ticket still needs; once the ticket is filed
those slots hold masked copies too, so nothing whole is left outside the ticket.
Within a turn the actions still see the message as typed: only what is stored is
masked.

Both forget a conversation idle for ``TRACKER_TTL_HOURS`` (default 24; ``0`` keeps
it): a hotline's conversations would otherwise pile up for as long as the server
runs. Tickets live in the ticket store, not here. The in-memory store keeps each
conversation zlib-compressed, about a quarter of its JSON (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import RedisError

from bot.metrics import count_turn
from bot.privacy import configure_logs, mask_pii
from bot.redis_client import Outage

# Slots whose current value an unfiled ticket still needs whole.
OPEN_TICKET_SLOTS = ("ticket_phone", "ticket_description")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def _needed_whole(event: dict, tracker: DialogueStateTracker) -> bool:
    name = event.get("name")
    return (
        event.get("event") == "slot"
        and name in OPEN_TICKET_SLOTS
        and event.get("value") == tracker.get_slot(str(name))
    )


def masked_dialogue(tracker: DialogueStateTracker) -> str:
    """The tracker serialised as Rasa stores it, with PII masked."""
    dialogue = tracker.as_dialogue().as_dict()
    dialogue["events"] = [
        event if _needed_whole(event, tracker) else _masked(event)
        for event in dialogue["events"]
    ]
    return json.dumps(dialogue)


class _MaskingStore:
    """What both stores add to Rasa's: masked storage, masked logs, turn metrics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        configure_logs()  # the Rasa server's logs are masked from here on
        super().__init__(*args, **kwargs)

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        """The tracker as stored, with PII masked."""
        return masked_dialogue(tracker)

    async def save(
        self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any
    ) -> None:
        """Counts what the turn did, then stores the conversation masked."""
        count_turn(tracker)
        await self._save_masked(tracker, *args, **kwargs)

    async def _save_masked(
        self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any
    ) -> None:
        await super().save(tracker, *args, **kwargs)  # type: ignore[misc]


def ttl_seconds() -> int:
    """How long an idle conversation is kept (``TRACKER_TTL_HOURS``); 0 is forever."""
    return max(0, round(float(os.environ.get("TRACKER_TTL_HOURS", "24")) * 3600))


class MaskingInMemoryTrackerStore(_MaskingStore, InMemoryTrackerStore):
    """Rasa's in-memory store (the one-machine default), masking and compressing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: dict[str, bytes] = {}  # type: ignore[assignment]
        self.ttl = ttl_seconds()
        self.saved_at: OrderedDict[str, float] = OrderedDict()  # oldest first

    async def _save_masked(
        self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any
    ) -> None:
        # Rasa's own in-memory save calls its class's serialise_tracker, not ours.
        await self.stream_events(tracker)
        serialised = self.serialise_tracker(tracker).encode()
        self.store[tracker.sender_id] = zlib.compress(serialised, 1)
        self._forget_idle(tracker.sender_id)

    def deserialise_tracker(
        self, sender_id: str, serialised_tracker: str | bytes
    ) -> DialogueStateTracker | None:
        """The tracker kept compressed by ``_save_masked``."""
        assert isinstance(serialised_tracker, bytes)
        return super().deserialise_tracker(
            sender_id, zlib.decompress(serialised_tracker)
        )

    def _forget_idle(self, saved: str) -> None:
        now = time.monotonic()
        self.saved_at[saved] = now
        self.saved_at.move_to_end(saved)
        while self.ttl and now - next(iter(self.saved_at.values())) > self.ttl:
            idle, _ = self.saved_at.popitem(last=False)
            self.store.pop(idle, None)


class MaskingRedisTrackerStore(_MaskingStore, RedisTrackerStore):
    """Rasa's Redis store (several instances), masking what it keeps.

    While Redis fails, each instance keeps the conversations it serves in memory,
    so that they go on (Rasa's own fail-safe reads nothing back: every turn would
    start afresh). When Redis answers again, the conversation resumes from what
    Redis holds.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("record_exp", ttl_seconds() or None)
        super().__init__(*args, **kwargs)
        self.fallback = MaskingInMemoryTrackerStore(self.domain)
        self.outage = Outage("tracker store")

    def _in_memory(self, error: RedisError) -> MaskingInMemoryTrackerStore:
        self.outage.failed(error)
        self.fallback.domain = self.domain
        return self.fallback

    async def _retrieve(
        self, sender_id: str, fetch_all_sessions: bool
    ) -> DialogueStateTracker | None:
        try:
            tracker = await super()._retrieve(sender_id, fetch_all_sessions)
        except RedisError as error:
            return await self._in_memory(error).retrieve(sender_id)
        self.outage.answered()
        return tracker

    async def _save_masked(
        self, tracker: DialogueStateTracker, *args: Any, **kwargs: Any
    ) -> None:
        try:
            await super()._save_masked(tracker, *args, **kwargs)
        except RedisError as error:
            await self._in_memory(error)._save_masked(tracker)
