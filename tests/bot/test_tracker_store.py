"""Stored conversations hold phone and ID numbers masked, except what an open ticket needs."""

import logging
from urllib.parse import urlparse

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import (
    MaskingInMemoryTrackerStore,
    MaskingRedisTrackerStore,
    masked_dialogue,
)
from tests.conftest import _free_port

PHONE = "13812345678"
ID_NUMBER = "110101199003071234"
DOMAIN = Domain.from_dict(
    {
        "slots": {
            name: {"type": "text", "mappings": [{"type": "custom"}]}
            for name in ("ticket_phone", "ticket_description", "ticket_number")
        }
    }
)


@pytest.fixture(params=["memory", "redis", "redis-down"])
def store(request, redis_url) -> TrackerStore:
    """Each store; "redis-down" is Redis's with nothing listening on its port."""
    if request.param == "memory":
        return MaskingInMemoryTrackerStore(DOMAIN)
    url = urlparse(redis_url)
    port = _free_port() if request.param == "redis-down" else url.port
    return MaskingRedisTrackerStore(
        DOMAIN, host=url.hostname, port=port, key_prefix="masktest"
    )


def _open_ticket() -> DialogueStateTracker:
    tracker = DialogueStateTracker("citizen", DOMAIN.slots)
    description = f"我身份证号{ID_NUMBER}，社保卡被人冒用了"
    tracker.update_with_events(
        [
            UserUttered(description, metadata={"caller": PHONE}),
            SlotSet("ticket_description", description),
            UserUttered(f"电话{PHONE}"),
            SlotSet("ticket_phone", PHONE),
            BotUttered(f"您的手机号码是{PHONE}，对吗？"),
        ],
        DOMAIN,
    )
    return tracker


async def test_stored_events_are_masked_but_an_open_ticket_keeps_its_answers(
    store,
) -> None:
    await store.save(_open_ticket())
    stored = await store.retrieve("citizen")
    users = [e for e in stored.events if isinstance(e, UserUttered)]
    bots = [e for e in stored.events if isinstance(e, BotUttered)]
    assert users[0].text == "我身份证号110101********1234，社保卡被人冒用了"
    assert users[0].metadata == {"caller": "138****5678"}
    assert users[1].text == "电话138****5678"
    assert bots[0].text == "您的手机号码是138****5678，对吗？"
    # Filing still needs them whole.
    assert stored.get_slot("ticket_phone") == PHONE
    assert ID_NUMBER in stored.get_slot("ticket_description")


async def test_after_filing_nothing_whole_is_left(store) -> None:
    tracker = _open_ticket()
    await store.save(tracker)
    tracker = await store.retrieve("citizen")
    tracker.update_with_events(
        [
            SlotSet("ticket_phone", "138****5678"),
            SlotSet("ticket_description", "我身份证号110101********1234，社保卡被人冒用了"),
            SlotSet("ticket_number", "20261201000001"),
        ],
        DOMAIN,
    )
    await store.save(tracker)
    stored = await store.retrieve("citizen")
    dumped = str([event.as_dict() for event in stored.events])
    assert PHONE not in dumped and ID_NUMBER not in dumped
    assert stored.get_slot("ticket_number") == "20261201000001"
    assert len(stored.events) == len(tracker.events)  # masking duplicates nothing


def test_the_rasa_server_logs_are_masked(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)  # unmasked
    MaskingInMemoryTrackerStore(DOMAIN)
    with caplog.at_level(logging.DEBUG, logger="rasa.core.processor"):
        logging.getLogger("rasa.core.processor").debug("Received %s", f"电话{PHONE}")
    assert "电话138****5678" in caplog.text and PHONE not in caplog.text


async def test_a_conversation_idle_past_the_ttl_is_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACKER_TTL_HOURS", "1")
    clock = [1000.0]
    monkeypatch.setattr("bot.tracker_store.time.monotonic", lambda: clock[0])
    store = MaskingInMemoryTrackerStore(DOMAIN)
    for sender in ("early", "later"):
        await store.save(DialogueStateTracker(sender, DOMAIN.slots))
        clock[0] += 1800
    await store.save(DialogueStateTracker("early", DOMAIN.slots))  # back again
    clock[0] += 3000
    await store.save(DialogueStateTracker("new", DOMAIN.slots))
    assert sorted(store.store) == ["early", "new"]  # "later" idle 80 minutes


async def test_memory_holds_a_conversation_compressed() -> None:
    store = MaskingInMemoryTrackerStore(DOMAIN)
    tracker = _open_ticket()
    for turn in range(20):
        tracker.update(UserUttered(f"第{turn}个问题：社保卡丢了怎么补办"))
        tracker.update(BotUttered("您好，请携带身份证到社保经办机构补办。"))
    await store.save(tracker)
    assert 3 * len(store.store["citizen"]) < len(masked_dialogue(tracker))
    stored = await store.retrieve("citizen")
    assert stored.latest_message.text == "第19个问题：社保卡丢了怎么补办"
    assert len(stored.events) == len(tracker.events)


async def test_redis_keeps_a_conversation_for_the_ttl(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_TTL_HOURS", "2")
    url = urlparse(redis_url)
    store = MaskingRedisTrackerStore(
        DOMAIN, host=url.hostname, port=url.port, key_prefix="ttltest"
    )
    await store.save(DialogueStateTracker("citizen", DOMAIN.slots))
    assert 7000 < store.red.ttl(store.key_prefix + "citizen") <= 7200
