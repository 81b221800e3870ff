"""SQLite ticket store: one file, WAL, every filing committed with a full sync."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, TypeVar

from actions.store import TicketStore
from actions.ticket import Ticket, now

T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    number TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, created_at);
CREATE TABLE IF NOT EXISTS counters (day TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    summary TEXT NOT NULL,
    queued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    stars INTEGER NOT NULL,
    rated_at TEXT NOT NULL
);
"""


class SQLiteTicketStore(TicketStore):
    """Tickets in a SQLite file; blocking calls run in a worker thread."""

    def __init__(self, path: str) -> None:
        """Opens (and creates) the database at `path`."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._db)

        return await asyncio.to_thread(locked)

    async def _file(self, draft: Ticket, key: str, at: datetime) -> Ticket:
        def file(db: sqlite3.Connection) -> Ticket:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT body FROM tickets WHERE idempotency_key = ?", (key,)
                ).fetchone()
                if row:
                    db.execute("ROLLBACK")
                    return Ticket.from_dict(json.loads(row[0]))
                day = at.strftime("%Y%m%d")
                db.execute(
                    "INSERT INTO counters (day, value) VALUES (?, 1) "
                    "ON CONFLICT(day) DO UPDATE SET value = value + 1",
                    (day,),
                )
                (value,) = db.execute(
                    "SELECT value FROM counters WHERE day = ?", (day,)
                ).fetchone()
                ticket = draft.stamped(f"{day}{value:06d}", at)
                db.execute(
                    "INSERT INTO tickets VALUES (?, ?, ?, ?, ?)",
                    (
                        ticket.number,
                        key,
                        ticket.status,
                        ticket.created_at,
                        _body(ticket),
                    ),
                )
                db.execute("COMMIT")
                return ticket
            except BaseException:
                db.execute("ROLLBACK")
                raise

        return await self._run(file)

    async def get(self, number: str) -> Ticket | None:
        """The ticket with that number, if any."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT body FROM tickets WHERE number = ?", (number,)
            ).fetchone()
        )
        return Ticket.from_dict(json.loads(row[0])) if row else None

    async def list(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> List[Ticket]:
        """Tickets, newest first, optionally of one status."""
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        rows = await self._run(
            lambda db: db.execute(
                f"SELECT body FROM tickets {where} ORDER BY created_at DESC, number DESC "
                "LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        )
        return [Ticket.from_dict(json.loads(r[0])) for r in rows]

    async def _save(self, ticket: Ticket) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE tickets SET status = ?, body = ? WHERE number = ?",
                (ticket.status, _body(ticket), ticket.number),
            )
        )

    async def _append(self, table: str, row: Dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        await self._run(
            lambda db: db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values())
            )
        )

    async def _oldest(
        self, table: str, keys: tuple, limit: int
    ) -> List[Dict[str, str]]:
        rows = await self._run(
            lambda db: db.execute(
                f"SELECT {', '.join(keys)} FROM {table} ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        )
        return [dict(zip(keys, map(str, row), strict=True)) for row in rows]

    async def enqueue_handoff(
        self, conversation_id: str, channel: str, summary: str
    ) -> None:
        """Queues a conversation for a human agent."""
        await self._append(
            "handoffs",
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "summary": summary,
                "queued_at": now().isoformat(),
            },
        )

    async def handoffs(self, limit: int = 50) -> List[Dict[str, str]]:
        """Queued handoffs, oldest first."""
        keys = ("conversation_id", "channel", "summary", "queued_at")
        return await self._oldest("handoffs", keys, limit)

    async def record_rating(
        self, conversation_id: str, channel: str, stars: int
    ) -> None:
        """Records a rating."""
        await self._append(
            "ratings",
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "stars": stars,
                "rated_at": now().isoformat(),
            },
        )

    async def ratings(self, limit: int = 50) -> List[Dict[str, str]]:
        """Recorded ratings, oldest first."""
        keys = ("conversation_id", "channel", "stars", "rated_at")
        return await self._oldest("ratings", keys, limit)

    async def close(self) -> None:
        """Closes the database."""
        await self._run(lambda db: db.close())


def _body(ticket: Ticket) -> str:
    data: Any = ticket.to_dict()
    return json.dumps(data, ensure_ascii=False)
