"""Redis ticket store: a hash per ticket and a stream the work-order system consumes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Dict, List

from redis.exceptions import ResponseError

from actions.store import TicketStore
from actions.ticket import Ticket, now
from bot.redis_client import connect

CONSUMER_GROUP = "workorders"
# Numbering, storing, indexing and publishing happen in one atomic step, so a
# ticket is never numbered twice, half stored, or stored but not published.
_FILE_SCRIPT = """
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
local number = ARGV[1] .. string.format('%06d', redis.call('INCR', KEYS[2]))
redis.call('HSET', ARGV[3] .. number, 'body', ARGV[2], 'status', ARGV[5])
redis.call('SET', KEYS[1], number)
redis.call('ZADD', KEYS[3], ARGV[4], number)
redis.call('XADD', KEYS[4], '*', 'number', number, 'event', 'filed', 'ticket', ARGV[2])
return number
"""


class RedisTicketStore(TicketStore):
    """Tickets in Redis under a key prefix; filing also appends to a stream."""

    def __init__(self, url: str, prefix: str = "hotline") -> None:
        """Connects lazily to `url`; every key starts with `prefix`."""
        self._redis = connect(url)
        self._prefix = f"{prefix}:ticket"
        self.stream = f"{self._prefix}:stream"
        self._script = self._redis.register_script(_FILE_SCRIPT)
        self._group_ready = False

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(
                self.stream, CONSUMER_GROUP, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    async def _file(self, draft: Ticket, key: str, at: datetime) -> Ticket:
        await self._ensure_group()
        day = at.strftime("%Y%m%d")
        stamped = draft.stamped("", at)
        number = await self._script(
            keys=[
                self._key("idem", key),
                self._key("counter", day),
                self._key("index"),
                self.stream,
            ],
            args=[
                day,
                json.dumps(stamped.to_dict(), ensure_ascii=False),
                self._key(""),
                at.timestamp(),
                stamped.status,
            ],
        )
        ticket = await self.get(number)
        if ticket is None:  # the idempotency key outlived its ticket
            raise RuntimeError(f"ticket {number} missing from Redis")
        return ticket

    async def get(self, number: str) -> Ticket | None:
        """The ticket with that number, if any."""
        body = await self._redis.hget(self._key(number), "body")
        if not body:
            return None
        return Ticket.from_dict({**json.loads(body), "number": number})

    async def list(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> List[Ticket]:
        """Tickets, newest first, optionally of one status."""
        tickets: List[Ticket] = []
        skipped = 0
        start = 0
        while len(tickets) < limit:
            numbers = await self._redis.zrevrange(
                self._key("index"), start, start + 199
            )
            if not numbers:
                break
            start += len(numbers)
            for number in numbers:
                ticket = await self.get(number)
                if ticket is None or (status and ticket.status != status):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                tickets.append(ticket)
                if len(tickets) == limit:
                    break
        return tickets

    async def _save(self, ticket: Ticket) -> None:
        body = json.dumps({**ticket.to_dict(), "number": ""}, ensure_ascii=False)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._key(ticket.number),
                mapping={"body": body, "status": ticket.status},
            )
            pipe.xadd(
                self.stream,
                {"number": ticket.number, "event": "updated", "ticket": body},
            )
            await pipe.execute()

    async def _append(self, kind: str, fields: Dict[str, str]) -> None:
        await self._redis.xadd(self._key(kind), fields)

    async def _oldest(self, kind: str, limit: int) -> List[Dict[str, str]]:
        entries = await self._redis.xrange(self._key(kind), count=limit)
        return [fields for _, fields in entries]

    async def enqueue_handoff(
        self, conversation_id: str, channel: str, summary: str
    ) -> None:
        """Queues a conversation for a human agent on the handoff stream."""
        await self._append(
            "handoff",
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "summary": summary,
                "queued_at": now().isoformat(),
            },
        )

    async def handoffs(self, limit: int = 50) -> List[Dict[str, str]]:
        """Queued handoffs, oldest first."""
        return await self._oldest("handoff", limit)

    async def record_rating(
        self, conversation_id: str, channel: str, stars: int
    ) -> None:
        """Appends a rating to the ratings stream."""
        await self._append(
            "rating",
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "stars": str(stars),
                "rated_at": now().isoformat(),
            },
        )

    async def ratings(self, limit: int = 50) -> List[Dict[str, str]]:
        """Recorded ratings, oldest first."""
        return await self._oldest("rating", limit)

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._redis.close()
