"""One suite for every TicketStore implementation."""

import asyncio
import re
import uuid
from datetime import date
from typing import AsyncIterator

import pytest
import redis.asyncio as aioredis

from actions.store import TicketNotFound, TicketStore
from actions.store.redis_store import CONSUMER_GROUP, RedisTicketStore
from actions.store.sqlite_store import SQLiteTicketStore
from actions.ticket import Ticket, add_working_days


def draft(description: str = "幸福路路灯坏了三天", phone: str = "13812345678") -> Ticket:
    return Ticket(
        type="help_request",
        description=description,
        channel="socketio",
        conversation_id="citizen-1",
        location="幸福路",
        phone=phone,
        contact_name="王女士",
    )


@pytest.fixture(params=["sqlite", "redis"])
async def store(request, tmp_path, redis_url) -> AsyncIterator[TicketStore]:
    if request.param == "sqlite":
        ticket_store: TicketStore = SQLiteTicketStore(str(tmp_path / "tickets.db"))
    else:
        ticket_store = RedisTicketStore(redis_url, prefix=f"test-{uuid.uuid4().hex}")
    yield ticket_store
    await ticket_store.close()


async def test_filing_numbers_stamps_and_stores_the_ticket(store) -> None:
    ticket = await store.file(draft(), "key-1")
    assert re.fullmatch(r"20\d{6}\d{6}", ticket.number)
    assert ticket.number.endswith("000001")
    created = date.fromisoformat(ticket.created_at[:10])
    assert ticket.due_date == add_working_days(created, 1).isoformat()
    assert ticket.status == "已受理"
    stored = await store.get(ticket.number)
    assert stored == ticket
    assert stored.phone == "13812345678"  # kept whole inside the ticket


async def test_fifty_parallel_filings_get_fifty_distinct_numbers(store) -> None:
    tickets = await asyncio.gather(
        *(store.file(draft(f"问题{i}"), f"key-{i}") for i in range(50))
    )
    numbers = {t.number for t in tickets}
    assert len(numbers) == 50
    assert {t.description for t in tickets} == {f"问题{i}" for i in range(50)}
    assert len(await store.list(limit=100)) == 50


async def test_double_delivery_files_one_ticket(store) -> None:
    first, second = await asyncio.gather(
        store.file(draft(), "same-key"), store.file(draft(), "same-key")
    )
    again = await store.file(draft(), "same-key")
    assert first.number == second.number == again.number
    assert len(await store.list()) == 1


async def test_update_records_status_and_reply(store) -> None:
    ticket = await store.file(draft(), "key-1")
    updated = await store.update(ticket.number, status="已办结", reply="路灯已修复。")
    assert (updated.status, updated.reply) == ("已办结", "路灯已修复。")
    stored = await store.get(ticket.number)
    assert stored.status == "已办结" and stored.reply == "路灯已修复。"
    assert stored.history[-1]["status"] == "已办结"
    assert await store.list(status="已办结") == [stored]
    assert await store.list(status="办理中") == []


async def test_simultaneous_updates_of_one_ticket_are_both_kept(store) -> None:
    ticket = await store.file(draft(), "key-1")
    await asyncio.gather(
        store.update(ticket.number, status="办理中"),
        store.update(ticket.number, reply="已派单至市政部门。"),
    )
    stored = await store.get(ticket.number)
    assert (stored.status, stored.reply) == ("办理中", "已派单至市政部门。")
    assert len(stored.history) == len(ticket.history) + 2


async def test_update_rejects_unknown_status_and_number(store) -> None:
    ticket = await store.file(draft(), "key-1")
    with pytest.raises(ValueError):
        await store.update(ticket.number, status="不存在的状态")
    with pytest.raises(TicketNotFound):
        await store.update("20000101000001", status="办理中")
    assert await store.get("20000101000001") is None


async def test_list_is_newest_first_and_pages(store) -> None:
    for i in range(5):
        await store.file(draft(f"问题{i}"), f"key-{i}")
    page = await store.list(limit=2, offset=1)
    assert [t.description for t in page] == ["问题3", "问题2"]


async def test_sqlite_ticket_survives_reopening(tmp_path) -> None:
    path = str(tmp_path / "tickets.db")
    first = SQLiteTicketStore(path)
    ticket = await first.file(draft(), "key-1")
    await first.close()
    reopened = SQLiteTicketStore(path)
    assert await reopened.get(ticket.number) == ticket
    await reopened.close()


async def test_redis_filing_is_published_to_the_consumer_group(redis_url) -> None:
    store = RedisTicketStore(redis_url, prefix=f"test-{uuid.uuid4().hex}")
    ticket = await store.file(draft(), "key-1")
    client = aioredis.from_url(redis_url, decode_responses=True)
    entries = await client.xreadgroup(
        CONSUMER_GROUP, "worker-1", {store.stream: ">"}, count=10
    )
    [(_, messages)] = entries
    assert [m[1]["number"] for m in messages] == [ticket.number]
    assert messages[0][1]["event"] == "filed"
    await client.close()
    await store.close()


def test_working_days_skip_weekends() -> None:
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1) == date(2026, 11, 30)
    assert add_working_days(friday, 5) == date(2026, 12, 4)


async def test_handoffs_queue_in_order(store) -> None:
    await store.enqueue_handoff("c1", "socketio", "问：社保卡丢了")
    await store.enqueue_handoff("c2", "ivr", "问：公积金提取")
    queued = await store.handoffs()
    assert [(h["conversation_id"], h["channel"]) for h in queued] == [
        ("c1", "socketio"),
        ("c2", "ivr"),
    ]
    assert queued[0]["summary"] == "问：社保卡丢了" and queued[0]["queued_at"]


async def test_ratings_are_recorded_in_order(store) -> None:
    await store.record_rating("c1", "web", 5)
    await store.record_rating("c2", "wechat", 2)
    recorded = await store.ratings()
    assert [(r["conversation_id"], r["channel"], r["stars"]) for r in recorded] == [
        ("c1", "web", "5"),
        ("c2", "wechat", "2"),
    ]
    assert recorded[0]["rated_at"]
