from datetime import datetime

from actions import handoff
from actions.handoff import ActionHandoff, staffed
from actions.ticket import TIMEZONE
from tests.actions.conftest import run, user

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=TIMEZONE)
WEDNESDAY_NIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=TIMEZONE)
SATURDAY_EVENING = datetime(2026, 11, 28, 18, 0, tzinfo=TIMEZONE)


def test_staffed_hours_come_from_the_profile() -> None:
    assert staffed(WEDNESDAY_NOON)  # weekdays 08:30-21:00
    assert not staffed(WEDNESDAY_NIGHT)
    assert not staffed(SATURDAY_EVENING)  # weekends 09:00-17:00


async def test_in_staffed_hours_the_conversation_is_queued_and_paused(
    store, monkeypatch
) -> None:
    monkeypatch.setattr(handoff, "now", lambda: WEDNESDAY_NOON)
    messages, events = await run(
        ActionHandoff(),
        user("我的电话13812345678，社保卡的事说不清", "nlu_fallback"),
        user("转人工", "request_human"),
    )
    assert [m["response"] for m in messages] == ["utter_handoff_queued"]
    assert [e["event"] for e in events] == ["pause"]
    [queued] = await store.handoffs()
    assert queued["summary"] == "我的电话138****5678，社保卡的事说不清 / 转人工"


async def test_outside_staffed_hours_a_ticket_is_offered(store, monkeypatch) -> None:
    monkeypatch.setattr(handoff, "now", lambda: WEDNESDAY_NIGHT)
    messages, events = await run(ActionHandoff(), user("转人工", "request_human"))
    assert messages[0]["response"] == "utter_handoff_closed"
    assert messages[0]["weekdays"] == "08:30-21:00"
    assert events == [] and await store.handoffs() == []


async def test_a_broken_queue_is_told_and_the_bot_keeps_answering(monkeypatch) -> None:
    class BrokenStore:
        async def enqueue_handoff(self, *args):
            raise OSError("down")

    monkeypatch.setattr(handoff, "ticket_store", lambda: BrokenStore())
    monkeypatch.setattr(handoff, "now", lambda: WEDNESDAY_NOON)
    messages, events = await run(ActionHandoff(), user("转人工", "request_human"))
    assert [m["response"] for m in messages] == ["utter_handoff_failed"]
    assert events == []
