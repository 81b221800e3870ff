"""Ticket intake actions on tracker fixtures: the exact events and messages."""

import threading
from datetime import date
from pathlib import Path
from typing import Any, List

import pytest

from actions import tickets
from actions.ticket import NORMAL, URGENT, add_working_days
from actions.tickets import (
    ActionAskTicketConfirmed,
    ActionStartTicket,
    ActionSubmitTicket,
    ValidateTicketForm,
    find_phone,
    find_time,
    says_something,
    warm_router,
)
from tests.actions.conftest import run, slot_events, user

PHONE = "13812345678"


def test_find_phone_and_substance() -> None:
    assert find_phone("电话 138 1234-5678 谢谢") == PHONE
    assert find_phone("电话１３８１２３４５６７８") == PHONE
    assert find_phone("电话12345") is None
    assert not says_something("我要投诉")
    assert says_something("我要投诉楼下饭店油烟")


@pytest.mark.parametrize(
    "text, said",
    [
        ("昨天晚上十点多楼下又在施工", "昨天晚上十点多"),
        ("11月3日下午在窗口办事被推诿", "11月3日下午"),
        ("路灯坏了半个多月了", "半个多月了"),
        ("噪音这几天一直有", "这几天"),
        ("楼下饭店油烟扰民", None),
    ],
)
def test_find_time(text: str, said: str | None) -> None:
    assert find_time(text) == said


async def test_the_caller_number_is_offered_for_confirmation() -> None:
    _, events = await run(
        ActionStartTicket(),
        user("我要投诉", "complaint", channel="ivr", metadata={"caller": PHONE}),
    )
    values = slot_events(events)
    assert values["ticket_phone"] == PHONE
    assert values["ticket_phone_confirmed"] is None  # the form asks to confirm it
    _, events = await run(
        ActionStartTicket(),
        user("我要投诉", "complaint", channel="ivr", metadata={"caller": "01012345"}),
    )
    assert slot_events(events)["ticket_phone"] is None  # a landline is asked for


async def test_start_sets_the_type_from_the_intent_and_clears_old_answers() -> None:
    _, events = await run(
        ActionStartTicket(), user("我要投诉", "complaint"), slots={"ticket_phone": PHONE}
    )
    values = slot_events(events)
    assert values["ticket_type"] == "complaint"
    assert values["ticket_phone"] is None
    assert values["ticket_started_at"]


async def test_starting_a_ticket_loads_the_router_before_filing(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loading = threading.Event()
    loaded: List[Path] = []

    class SlowRouter:
        def __init__(self, model_dir: Path) -> None:
            loading.set()
            loaded.append(model_dir)

    monkeypatch.setattr(tickets, "warm_router", warm_router)
    monkeypatch.setattr(tickets, "latest_router_dir", lambda: tmp_path)
    monkeypatch.setattr(tickets, "Router", SlowRouter)
    await run(ActionStartTicket(), user("我要投诉", "complaint"))
    assert loading.wait(timeout=10)  # begun without anyone filing
    assert isinstance(tickets.router(), SlowRouter)
    assert loaded == [tmp_path]  # loaded once, then shared


async def test_start_after_an_unanswered_question_files_it_as_an_inquiry() -> None:
    _, events = await run(
        ActionStartTicket(),
        user("我家门口那个井的事归谁管", "nlu_fallback"),
        user("/file_ticket", "file_ticket"),
    )
    values = slot_events(events)
    assert values["ticket_type"] == "inquiry"
    assert values["ticket_description"] == "我家门口那个井的事归谁管"


async def test_everything_in_one_sentence_fills_the_form_at_once() -> None:
    text = f"我要投诉东城街道幸福路的饭店油烟扰民，我姓王，电话{PHONE}"
    messages, events = await run(
        ValidateTicketForm(),
        user(text, "complaint"),
        slots={"ticket_type": "complaint", "requested_slot": None},
    )
    values = slot_events(events)
    assert values["ticket_description"] == text
    assert values["ticket_location"] == "东城街道幸福路"
    assert values["ticket_contact"] == "王先生/女士"
    assert values["ticket_phone"] == PHONE
    assert values["ticket_phone_confirmed"] is None  # read back before it counts
    assert "ticket_time" not in values  # not said, so the form will ask
    assert messages == []


async def test_a_time_in_the_description_is_taken_and_unknown_is_an_answer() -> None:
    text = "昨天晚上十一点幸福路工地还在打桩，吵得睡不着"
    _, events = await run(
        ValidateTicketForm(),
        user(text, "complaint"),
        slots={"ticket_type": "complaint", "requested_slot": None},
    )
    assert slot_events(events)["ticket_time"] == "昨天晚上十一点"
    _, events = await run(
        ValidateTicketForm(),
        user("记不清了", "deny"),
        slots={"ticket_type": "complaint", "requested_slot": "ticket_time"},
    )
    assert slot_events(events)["ticket_time"] == "未说明"


async def test_correcting_the_time_clears_only_the_time() -> None:
    messages, events = await run(
        ValidateTicketForm(),
        user("时间说错了", "correct_field"),
        slots={"ticket_time": "昨天", "ticket_location": "幸福路"},
    )
    assert slot_events(events) == {"ticket_time": None, "ticket_confirmed": None}
    assert messages[0]["response"] == "utter_ticket_correcting"


async def test_slots_cleared_at_the_start_are_not_rejected_as_answers() -> None:
    start = user("我要登记诉求", "file_ticket")
    _, cleared = await run(ActionStartTicket(), start, slots={"ticket_phone": PHONE})
    slots = slot_events(cleared)
    messages, events = await run(
        ValidateTicketForm(),
        start,
        {"event": "action", "name": "action_start_ticket"},
        *cleared,
        slots={**slots, "requested_slot": None},
    )
    assert messages == []  # no "请回答是或不是" before the first question
    assert not slot_events(events).get("ticket_failures")


async def test_a_bare_request_asks_for_the_description() -> None:
    _, events = await run(
        ValidateTicketForm(),
        user("我要投诉", "complaint"),
        slots={"ticket_type": "complaint", "requested_slot": None},
    )
    assert slot_events(events) == {}  # nothing taken: the form asks for it


async def test_three_invalid_phone_numbers_explain_then_offer_a_human() -> None:
    slots = {
        "ticket_type": "complaint",
        "ticket_description": "路灯坏了三天没人修",
        "ticket_location": "幸福路",
        "ticket_contact": "王女士",
        "requested_slot": "ticket_phone",
    }
    responses = []
    for _ in range(3):
        messages, events = await run(
            ValidateTicketForm(), user("一二三", "nlu_fallback"), slots=slots
        )
        values = slot_events(events)
        assert values["ticket_phone"] is None
        slots["ticket_failures"] = values["ticket_failures"]
        responses += [m["response"] for m in messages]
    assert responses == [
        "utter_invalid_ticket_phone",
        "utter_invalid_ticket_phone",
        "utter_ticket_offer_human",
    ]


async def test_a_valid_phone_is_kept_and_its_failures_forgotten() -> None:
    messages, events = await run(
        ValidateTicketForm(),
        user(f"我的手机是{PHONE}", "nlu_fallback"),
        slots={
            "ticket_type": "complaint",
            "ticket_description": "路灯坏了三天没人修",
            "ticket_location": "幸福路",
            "ticket_contact": "王女士",
            "ticket_failures": {"ticket_phone": 2},
            "requested_slot": "ticket_phone",
        },
    )
    values = slot_events(events)
    assert values["ticket_phone"] == PHONE
    assert values["ticket_failures"] == {}
    assert values["ticket_phone_confirmed"] is None


async def test_correcting_the_phone_clears_it_and_its_confirmation() -> None:
    messages, events = await run(
        ValidateTicketForm(),
        user("电话说错了", "correct_field"),
        slots={
            "ticket_phone": PHONE,
            "ticket_phone_confirmed": True,
            "ticket_confirmed": None,
        },
    )
    assert [m["response"] for m in messages] == ["utter_ticket_correcting"]
    assert slot_events(events) == {
        "ticket_phone": None,
        "ticket_phone_confirmed": None,
        "ticket_confirmed": None,
    }


async def test_an_unspecified_correction_asks_what_to_change() -> None:
    messages, events = await run(
        ValidateTicketForm(), user("刚才有个地方说错了", "correct_field"), slots={}
    )
    assert [m["response"] for m in messages] == ["utter_ask_what_to_correct"]
    assert slot_events(events) == {"ticket_confirmed": None}


@pytest.mark.parametrize(
    "ticket_type, accepted, said",
    [("report", "匿名", []), ("complaint", None, ["utter_invalid_ticket_contact"])],
)
async def test_anonymity_only_for_reports_and_suggestions(
    ticket_type: str, accepted: Any, said: list
) -> None:
    messages, events = await run(
        ValidateTicketForm(),
        user("匿名吧", "deny"),
        slots={
            "ticket_type": ticket_type,
            "ticket_description": "有人在河边偷排污水",
            "ticket_location": "临江镇",
            "ticket_time": "未说明",
            "requested_slot": "ticket_contact",
        },
    )
    values = slot_events(events)
    assert values["ticket_contact"] == accepted
    assert [m["response"] for m in messages] == said
    if accepted:  # no phone or reply asked of an anonymous citizen
        assert values["requested_slot"] == "ticket_confirmed"


async def test_an_faq_mid_form_is_not_taken_as_the_answer() -> None:
    _, events = await run(
        ValidateTicketForm(),
        user("公积金怎么取", "faq"),
        slots={
            "ticket_type": "complaint",
            "ticket_description": "路灯坏了三天没人修",
            "requested_slot": "ticket_location",
        },
    )
    assert "ticket_location" not in slot_events(events)


async def test_summary_masks_the_phone_and_after_no_asks_what_to_change() -> None:
    slots = {
        "ticket_type": "complaint",
        "ticket_description": "路灯坏了",
        "ticket_phone": PHONE,
        "ticket_reply_wanted": True,
        "requested_slot": "ticket_reply_wanted",
    }
    messages, _ = await run(
        ActionAskTicketConfirmed(), user("需要", "affirm"), slots=slots
    )
    assert messages[0]["response"] == "utter_ticket_summary"
    assert messages[0]["phone"] == "138****5678"
    slots["requested_slot"] = "ticket_confirmed"
    messages, _ = await run(ActionAskTicketConfirmed(), user("不对", "deny"), slots=slots)
    assert messages[0]["response"] == "utter_ask_what_to_correct"


CONFIRMED = {
    "ticket_type": "help_request",
    "ticket_description": f"幸福路路灯坏了三天，我的电话{PHONE}",
    "ticket_location": "幸福路",
    "ticket_contact": "王女士",
    "ticket_phone": PHONE,
    "ticket_phone_confirmed": True,
    "ticket_reply_wanted": True,
    "ticket_confirmed": True,
    "ticket_started_at": "2026-11-27T10:00:00+08:00",
}


async def test_submit_files_once_tells_the_number_and_masks_the_tracker(store) -> None:
    messages, events = await run(
        ActionSubmitTicket(), user("确认", "affirm"), slots=CONFIRMED
    )
    [filed] = await store.list()
    assert messages[0]["response"] == "utter_ticket_filed"
    assert messages[0]["number"] == filed.number
    assert messages[0]["department"] == "人工分拨"
    assert filed.phone == PHONE and filed.description == CONFIRMED["ticket_description"]
    values = slot_events(events)
    assert values["ticket_number"] == filed.number
    assert values["ticket_phone"] == "138****5678"
    assert PHONE not in values["ticket_description"]

    again, _ = await run(ActionSubmitTicket(), user("确认", "affirm"), slots=CONFIRMED)
    assert again[0]["number"] == filed.number
    assert len(await store.list()) == 1


async def test_a_ticket_after_a_danger_is_urgent_and_says_so(store) -> None:
    messages, _ = await run(
        ActionSubmitTicket(),
        user("电梯里困了人，快来", "emergency"),
        {"event": "action", "name": "utter_emergency"},
        user("帮我登记一下", "file_ticket"),
        {"event": "action", "name": "action_start_ticket"},
        user("确认", "affirm"),
        slots=CONFIRMED,
    )
    [filed] = await store.list()
    assert filed.priority == URGENT
    assert [m["response"] for m in messages] == [
        "utter_ticket_urgent",
        "utter_ticket_filed",
    ]
    filed_on = date.fromisoformat(filed.created_at[:10])
    assert filed.due_date == add_working_days(filed_on, 1).isoformat()


async def test_a_danger_long_before_the_ticket_does_not_make_it_urgent(store) -> None:
    earlier = [user("家里燃气味很重", "emergency")] + [user("谢谢", "thank") for _ in range(4)]
    messages, _ = await run(
        ActionSubmitTicket(),
        *earlier,
        user("我要投诉", "complaint"),
        {"event": "action", "name": "action_start_ticket"},
        user("确认", "affirm"),
        slots=CONFIRMED,
    )
    [filed] = await store.list()
    assert filed.priority == NORMAL
    assert [m["response"] for m in messages] == ["utter_ticket_filed"]


async def test_a_store_failure_is_told_honestly(monkeypatch) -> None:
    class BrokenStore:
        async def file(self, ticket, key):
            raise OSError("disk full")

    monkeypatch.setattr(tickets, "ticket_store", lambda: BrokenStore())
    monkeypatch.setattr(tickets, "router", lambda: None)
    messages, events = await run(
        ActionSubmitTicket(), user("确认", "affirm"), slots=CONFIRMED
    )
    assert [m["response"] for m in messages] == ["utter_ticket_not_filed"]
    assert "number" not in messages[0] and events == []


async def test_nothing_is_filed_without_confirmation(store) -> None:
    messages, _ = await run(
        ActionSubmitTicket(),
        user("算了", "stop"),
        slots={**CONFIRMED, "ticket_confirmed": None},
    )
    assert messages == [] and await store.list() == []


async def test_an_address_the_model_files_under_an_faq_is_still_the_answer() -> None:
    _, events = await run(
        ValidateTicketForm(),
        user("示例一区东城街道幸福路12号", "faq"),
        slots={
            "ticket_type": "complaint",
            "ticket_description": "路灯坏了三天没人修",
            "requested_slot": "ticket_location",
        },
    )
    assert slot_events(events)["ticket_location"] == "示例一区东城街道幸福路12号"
