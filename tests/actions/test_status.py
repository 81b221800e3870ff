"""Status lookup: both keys must match, misses say nothing more, repeats are throttled."""

import pytest

from actions.status import ActionCheckTicketStatus, ValidateStatusForm
from actions.ticket import Ticket
from tests.actions.conftest import user
from tests.actions.test_tickets import run, slot_events


@pytest.fixture
async def filed(store):
    ticket = Ticket(
        type="complaint",
        description="噪音扰民",
        channel="rest",
        conversation_id="c1",
        phone="13812345678",
        department="示例市生态环境局",
    )
    yield await store.file(ticket, "key")
    await store.close()


async def test_number_and_last_four_digits_find_the_ticket(filed) -> None:
    messages, events = await run(
        ActionCheckTicketStatus(),
        user("5678", "inform"),
        slots={"status_ticket_number": filed.number, "status_phone_last4": "5678"},
    )
    assert messages[0]["response"] == "utter_status_found"
    assert messages[0]["number"] == filed.number
    assert messages[0]["status"] == "已受理"
    assert messages[0]["department"] == "示例市生态环境局"
    assert slot_events(events)["status_phone_last4"] is None


@pytest.mark.parametrize("number_of, last4", [("filed", "0000"), ("other", "5678")])
async def test_any_mismatch_gets_one_generic_answer(filed, number_of, last4) -> None:
    number = filed.number if number_of == "filed" else "20000101000001"
    messages, events = await run(
        ActionCheckTicketStatus(),
        user(last4, "inform"),
        slots={"status_ticket_number": number, "status_phone_last4": last4},
    )
    assert messages == [{**messages[0], "response": "utter_status_not_found"}]
    assert "number" not in messages[0]
    assert slot_events(events)["status_lookup_failures"] == 1


async def test_repeated_failures_are_throttled_even_for_the_right_keys(filed) -> None:
    messages, _ = await run(
        ActionCheckTicketStatus(),
        user("5678", "inform"),
        slots={
            "status_ticket_number": filed.number,
            "status_phone_last4": "5678",
            "status_lookup_failures": 3,
        },
    )
    assert [m["response"] for m in messages] == ["utter_status_throttled"]


async def test_the_form_takes_a_spoken_ticket_number() -> None:
    _, events = await run(
        ValidateStatusForm(),
        user("编号是 20261127 000123", "inform"),
        slots={"requested_slot": "status_ticket_number"},
    )
    assert slot_events(events)["status_ticket_number"] == "20261127000123"


async def test_a_wrong_ticket_number_is_explained() -> None:
    messages, events = await run(
        ValidateStatusForm(),
        user("12345", "inform"),
        slots={"requested_slot": "status_ticket_number"},
    )
    assert slot_events(events)["status_ticket_number"] is None
    assert [m["response"] for m in messages] == ["utter_invalid_status_ticket_number"]
