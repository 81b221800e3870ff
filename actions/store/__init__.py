"""Where tickets live: one interface, SQLite by default and Redis when configured."""

from __future__ import annotations

import abc
import asyncio
import os
from datetime import datetime
from typing import Dict, List

from actions.ticket import STATUSES, Ticket, now


class TicketNotFound(KeyError):
    """No ticket has that number."""


class TicketStore(abc.ABC):
    """Durable ticket storage. `file` returns only after the ticket is committed.

    Updates are serialised within the process (the ticket API is one process).
    """

    _updating: asyncio.Lock | None = None

    async def file(self, draft: Ticket, idempotency_key: str) -> Ticket:
        """Files a ticket once per key: a repeated key returns the first ticket."""
        return await self._file(draft, idempotency_key, now())

    @abc.abstractmethod
    async def _file(self, draft: Ticket, key: str, at: datetime) -> Ticket:
        """Numbers, stamps and commits the draft unless the key was filed."""

    @abc.abstractmethod
    async def get(self, number: str) -> Ticket | None:
        """The ticket with that number, if any."""

    @abc.abstractmethod
    async def list(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> List[Ticket]:
        """Tickets, newest first, optionally of one status."""

    @abc.abstractmethod
    async def _save(self, ticket: Ticket) -> None:
        """Overwrites a stored ticket."""

    async def update(
        self, number: str, status: str | None = None, reply: str | None = None
    ) -> Ticket:
        """Sets a ticket's status and/or reply text and records the change."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status: {status}")
        if self._updating is None:
            self._updating = asyncio.Lock()
        async with self._updating:  # read-modify-write: one update at a time
            ticket = await self.get(number)
            if ticket is None:
                raise TicketNotFound(number)
            if status is not None:
                ticket.status = status
            if reply is not None:
                ticket.reply = reply
            ticket.history.append(
                {"at": now().isoformat(), "status": ticket.status, "reply": reply or ""}
            )
            await self._save(ticket)
        return ticket

    @abc.abstractmethod
    async def enqueue_handoff(
        self, conversation_id: str, channel: str, summary: str
    ) -> None:
        """Queues a conversation for a human agent, with a short masked summary."""

    @abc.abstractmethod
    async def handoffs(self, limit: int = 50) -> List[Dict[str, str]]:
        """Queued handoffs, oldest first."""

    @abc.abstractmethod
    async def record_rating(
        self, conversation_id: str, channel: str, stars: int
    ) -> None:
        """Records a citizen's 1–5 star rating of a conversation (好差评)."""

    @abc.abstractmethod
    async def ratings(self, limit: int = 50) -> List[Dict[str, str]]:
        """Recorded ratings, oldest first."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Releases connections."""


def open_store() -> TicketStore:
    """Redis when ``REDIS_URL`` is set, else SQLite at ``TICKET_DB``."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        from actions.store.redis_store import RedisTicketStore

        return RedisTicketStore(
            redis_url, prefix=os.environ.get("REDIS_PREFIX", "hotline")
        )
    from actions.store.sqlite_store import SQLiteTicketStore

    return SQLiteTicketStore(os.environ.get("TICKET_DB", "var/tickets.db"))
