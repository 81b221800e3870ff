"""Ticket intake: start the form, check each answer, read back, file durably."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import (
    RepeatedFailureFormValidation,
    latest_metadata,
    original_text,
)
from actions.places import find_location
from actions.routing import Router, Routing, latest_router_dir
from actions.store import TicketStore, open_store
from actions.ticket import NORMAL, URGENT, Ticket, now, ticket_config
from bot.emergency import names_danger
from bot.privacy import mask_phone, mask_pii
from bot.profile import load_profile
from bot.text import normalize

logger = logging.getLogger(__name__)

ANONYMOUS = "匿名"
TICKET_SLOTS = (
    "ticket_type",
    "ticket_description",
    "ticket_location",
    "ticket_time",
    "ticket_contact",
    "ticket_phone",
    "ticket_phone_confirmed",
    "ticket_reply_wanted",
    "ticket_confirmed",
    "ticket_failures",
    "ticket_started_at",
)
# Intents that start a ticket, and the type each one files.
TICKET_INTENTS = {
    "complaint": "complaint",
    "help_request": "help_request",
    "report": "report",
    "suggestion": "suggestion",
    "file_ticket": None,
}
TYPE_WORDS = {
    "complaint": "投诉",
    "help_request": "求助",
    "report": "举报",
    "suggestion": "建议",
    "inquiry": "咨询",
}
# Words that say which answer a correction is about, checked in this order.
FIELD_WORDS = {
    "ticket_phone": ("电话", "手机", "号码"),
    "ticket_contact": ("名字", "称呼", "姓", "叫我"),
    "ticket_location": ("地址", "地点", "位置", "路", "街"),
    "ticket_time": ("时间", "日期", "什么时候", "几点"),
    "ticket_description": ("描述", "情况", "问题", "内容"),
}
DEPENDENT_SLOTS = {"ticket_phone": ("ticket_phone_confirmed",)}
# What is left of a request once its trigger words are gone must say something.
_TRIGGER_WORDS = re.compile(
    r"我要|我想|想要|要|投诉|举报|求助|建议|反映|反应|登记|诉求|工单|提交|一下|一个|个|"
    r"问题|情况|帮我|请|你好|您好|的|了|[,，。.!！?？\s]"
)
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-－—]+(?=\d)")
# When something happened, as citizens say it ("昨天晚上", "3月5日", "半个多月了").
_HOUR = r"(?:[\d一二两三四五六七八九十]{1,3}[点时](?:半|多)?)?"
_TIME = re.compile(
    "|".join(
        [
            r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]?(?:[上下]午|晚上|凌晨)?" + _HOUR,
            r"(?:今|昨|前)(?:天|晚|早)(?:[上下]午|晚上|早上|夜里|凌晨)?" + _HOUR,
            r"(?:上|这|本)个?(?:周|星期|礼拜|月)[一二三四五六日天末]?",
            r"(?:星期|周|礼拜)[一二三四五六日天末]",
            r"(?:好|这|最近)?[几一二两三四五六七八九十半\d]+个?多?" r"(?:天|周|星期|礼拜|月|年)多?了?",
            r"最近|这几天|这段时间|每天|天天|每晚|一直|长期|经常",
            r"(?:凌晨|半夜|深夜|早上|上午|中午|下午|傍晚|晚上)" + _HOUR,
        ]
    )
)
_UNKNOWN_TIME = ("不清楚", "不知道", "不记得", "记不清", "忘了", "说不清", "不确定", "跳过")
NO_TIME = "未说明"
_SURNAME = re.compile(r"(?:我姓|本人姓|免贵姓)([\u4e00-\u9fa5])")
_NO_WORDS = ("不", "没", "否", "别", "错")
_YES_WORDS = ("是", "对", "好", "需要", "要", "确认", "没错", "可以", "行", "嗯")


def compact_digits(text: str) -> str:
    """The normalised text with spaces and dashes inside digit runs removed."""
    return _DIGIT_GAPS.sub("", normalize(text, name_numbers=False))


def digits_finder(pattern: re.Pattern) -> Callable[[str], str | None]:
    """A function finding `pattern` in a text once digit runs are compacted."""

    def find(text: str) -> str | None:
        match = pattern.search(compact_digits(text))
        return match.group() if match else None

    return find


# The first mobile number in a text ("138 1234-5678" counts).
find_phone = digits_finder(_PHONE)


def find_time(text: str) -> str | None:
    """The first expression of when something happened in a text, if any."""
    match = _TIME.search(normalize(text, name_numbers=False))
    return match.group() if match else None


def surname_address(text: str) -> str | None:
    """The polite address ("王先生/女士") when only a surname ("我姓王") is given."""
    surname = _SURNAME.search(text)
    return f"{surname.group(1)}先生/女士" if surname else None


def yes_or_no(tracker: Tracker, text: str) -> bool | None:
    """True for yes, False for no, None when the message is neither."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent in ("affirm", "deny"):
        return intent == "affirm"
    normalized = normalize(text)
    if len(normalized) <= 6:
        if any(word in normalized for word in _NO_WORDS):
            return False
        if any(word in normalized for word in _YES_WORDS):
            return True
    return None


def says_something(text: str) -> bool:
    """Whether a request says more than "I want to complain"."""
    return len(_TRIGGER_WORDS.sub("", normalize(text))) >= 4


def type_name(ticket_type: str | None) -> str:
    """The Chinese name of a ticket type."""
    types = ticket_config()["types"]
    return str(types[ticket_type]["name"]) if ticket_type in types else "诉求"


def last_unanswered_question(tracker: Tracker) -> str | None:
    """The question the assistant could not answer just before, if any."""
    users = [e for e in reversed(tracker.events) if e.get("event") == "user"][1:4]
    for event in users:
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = str(event.get("text") or "")
        if intent == "nlu_fallback" and text and not text.startswith("/"):
            return text
    return None


def danger_named(tracker: Tracker, before: int = 3) -> bool:
    """Whether the citizen named a danger while filing or in the turns just before."""
    users: List[Dict[str, Any]] = []
    since_start = None
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users.append(event)
        elif event.get("name") == "action_start_ticket" and since_start is None:
            since_start = len(users)
    recent = users[: (since_start or 0) + 1 + before]
    return any(
        ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "emergency"
        or names_danger(str(e.get("text") or ""))
        for e in recent
    )


class ActionStartTicket(Action):
    """Clears earlier answers; sets the type from the intent, the phone from the call."""

    def name(self) -> str:
        return "action_start_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        values: Dict[str, Any] = {slot: None for slot in TICKET_SLOTS}
        values["ticket_type"] = TICKET_INTENTS.get(intent or "")
        values["ticket_started_at"] = now().isoformat()
        unanswered = (
            last_unanswered_question(tracker) if intent == "file_ticket" else None
        )
        if unanswered:
            values["ticket_type"] = "inquiry"
            values["ticket_description"] = unanswered
        # On the phone line the caller's number is offered for confirmation.
        values["ticket_phone"] = find_phone(
            str(latest_metadata(tracker).get("caller") or "")
        )
        warm_router()
        return [SlotSet(slot, value) for slot, value in values.items()]


class ValidateTicketForm(RepeatedFailureFormValidation):
    """Extracts and checks every ticket answer; handles corrections."""

    failures_slot = "ticket_failures"

    def name(self) -> str:
        return "validate_ticket_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """An anonymous citizen is not asked for a phone number or a reply."""
        if tracker.get_slot("ticket_contact") == ANONYMOUS:
            skipped = {"ticket_phone", "ticket_phone_confirmed", "ticket_reply_wanted"}
            return [slot for slot in domain_slots if slot not in skipped]
        return domain_slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        """Handles "电话说错了" before the usual extraction and validation."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent != "correct_field":
            return await super().run(dispatcher, tracker, domain)
        text = original_text(tracker)
        field = next(
            (
                slot
                for slot, words in FIELD_WORDS.items()
                if any(w in text for w in words)
            ),
            None,
        )
        if field is None:
            dispatcher.utter_message(response="utter_ask_what_to_correct")
            return [SlotSet("ticket_confirmed", None)]
        dispatcher.utter_message(response="utter_ticket_correcting")
        cleared = (field, *DEPENDENT_SLOTS.get(field, ()), "ticket_confirmed")
        events = [SlotSet(slot, None) for slot in cleared]
        phone = find_phone(text) if field == "ticket_phone" else None
        return events + ([SlotSet("ticket_phone", phone)] if phone else [])

    def _requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    async def extract_ticket_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if not self._requested(tracker, "ticket_type"):
            return {}
        chosen = next(tracker.get_latest_entity_values("ticket_type"), None)
        text = self.answer(tracker)
        if chosen is None:
            chosen = next((t for t, word in TYPE_WORDS.items() if word in text), text)
        return {"ticket_type": chosen} if chosen else {}

    def validate_ticket_type(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        valid = value in ticket_config()["types"]
        return self.keep_if(valid, "ticket_type", value, dispatcher, tracker)

    async def extract_ticket_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        starting = tracker.get_slot("requested_slot") is None
        return self.take(
            tracker,
            "ticket_description",
            lambda text: text if starting and says_something(text) else None,
            free_text=True,
        )

    def validate_ticket_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        valid = len(normalize(str(value))) >= 6
        return self.keep_if(
            valid, "ticket_description", str(value), dispatcher, tracker
        )

    async def extract_ticket_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.take(tracker, "ticket_location", find_location)

    def validate_ticket_location(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        valid = len(normalize(str(value))) >= 2
        return self.keep_if(valid, "ticket_location", str(value), dispatcher, tracker)

    async def extract_ticket_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.take(tracker, "ticket_time", find_time)

    def validate_ticket_time(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        """Any answer counts: the time is optional and "不清楚" is an answer."""
        text = normalize(str(value))
        if any(word in text for word in _UNKNOWN_TIME):
            return self.accept("ticket_time", NO_TIME, tracker)
        return self.keep_if(bool(text), "ticket_time", str(value), dispatcher, tracker)

    async def extract_ticket_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.take(tracker, "ticket_contact", surname_address)

    def validate_ticket_contact(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        contact = normalize(str(value))
        if ANONYMOUS in contact or "不留名" in contact:
            allowed = ticket_config()["types"].get(tracker.get_slot("ticket_type"), {})
            if allowed.get("anonymous"):
                return self.accept("ticket_contact", ANONYMOUS, tracker)
            return self.reject("ticket_contact", dispatcher, tracker)
        contact = surname_address(contact) or re.sub(r"^(叫我|我是|我叫|称呼我)", "", contact)
        if 1 <= len(contact) <= 12:
            return self.accept("ticket_contact", contact, tracker)
        return self.reject("ticket_contact", dispatcher, tracker)

    async def extract_ticket_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.take(tracker, "ticket_phone", find_phone, exact=True)

    def validate_ticket_phone(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        if _PHONE.fullmatch(str(value)):
            return {
                **self.accept("ticket_phone", value, tracker),
                "ticket_phone_confirmed": None,
            }
        return self.reject("ticket_phone", dispatcher, tracker)

    def _extract_yes_no(self, tracker: Tracker, slot: str) -> Dict[str, Any]:
        if not self._requested(tracker, slot):
            return {}
        text = self.answer(tracker)
        if not text:
            return {}
        answer = yes_or_no(tracker, text)
        return {slot: text if answer is None else answer}

    def _validate_yes_no(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any] | None:
        if isinstance(value, bool):
            return None
        return self.reject(slot, dispatcher, tracker, "utter_invalid_yes_no")

    async def extract_ticket_phone_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._extract_yes_no(tracker, "ticket_phone_confirmed")

    def validate_ticket_phone_confirmed(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        rejected = self._validate_yes_no(
            "ticket_phone_confirmed", value, dispatcher, tracker
        )
        if rejected is not None:
            return rejected
        if value:
            return self.accept("ticket_phone_confirmed", True, tracker)
        return {"ticket_phone_confirmed": None, "ticket_phone": None}

    async def extract_ticket_reply_wanted(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._extract_yes_no(tracker, "ticket_reply_wanted")

    def validate_ticket_reply_wanted(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        rejected = self._validate_yes_no(
            "ticket_reply_wanted", value, dispatcher, tracker
        )
        return rejected or self.accept("ticket_reply_wanted", value, tracker)

    async def extract_ticket_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self._extract_yes_no(tracker, "ticket_confirmed")

    def validate_ticket_confirmed(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        rejected = self._validate_yes_no("ticket_confirmed", value, dispatcher, tracker)
        if rejected is not None:
            return rejected
        # "No" leaves it unset: the summary question asks what to change.
        return self.accept("ticket_confirmed", True if value else None, tracker)


def summary_values(tracker: Tracker) -> Dict[str, str]:
    """The answers as the read-back shows them (the phone masked)."""
    reply = tracker.get_slot("ticket_reply_wanted")
    return {
        "type_name": type_name(tracker.get_slot("ticket_type")),
        "description": str(tracker.get_slot("ticket_description") or ""),
        "location": str(tracker.get_slot("ticket_location") or "未提供"),
        "time": str(tracker.get_slot("ticket_time") or NO_TIME),
        "contact": str(tracker.get_slot("ticket_contact") or ANONYMOUS),
        "phone": mask_phone(str(tracker.get_slot("ticket_phone") or "未提供")),
        "reply": "需要" if reply else ("不需要" if reply is False else "不适用"),
    }


class ActionAskTicketConfirmed(Action):
    """Reads the answers back before filing; after a "no", asks what to change."""

    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        asked_before = tracker.get_slot("requested_slot") == "ticket_confirmed"
        if asked_before and intent == "deny":
            dispatcher.utter_message(response="utter_ask_what_to_correct")
        else:
            dispatcher.utter_message(
                response="utter_ticket_summary", **summary_values(tracker)
            )
        return [SlotSet("requested_slot", "ticket_confirmed")]


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    """The store this action server files into (opened on first use)."""
    return open_store()


_router_loading = threading.Lock()


@lru_cache(maxsize=1)
def _trained_router() -> Router | None:
    model_dir = latest_router_dir()
    return Router(model_dir) if model_dir else None


def router() -> Router | None:
    """The trained ticket router, if one was trained (loaded once, about 3 s)."""
    with _router_loading:
        return _trained_router()


def warm_router() -> None:
    """Loads the router in a worker thread, while the citizen answers the form."""
    asyncio.get_running_loop().run_in_executor(None, router)


def route(text: str) -> Routing:
    """Routes a ticket text; without a trained router, to manual dispatch."""
    trained = router()
    if trained is None:
        return Routing(None, str(load_profile()["manual_dispatch_queue"]), 0.0)
    return trained.route(text)


def channel_name(tracker: Tracker) -> str:
    """The channel the citizen is on (web, ivr, wechat or rest)."""
    return tracker.get_latest_input_channel() or "rest"


def draft_ticket(tracker: Tracker) -> Ticket:
    """The ticket the form's answers describe, not yet numbered."""
    description = str(tracker.get_slot("ticket_description") or "")
    location = tracker.get_slot("ticket_location")
    return Ticket(
        type=tracker.get_slot("ticket_type") or "inquiry",
        description=description,
        channel=channel_name(tracker),
        conversation_id=tracker.sender_id,
        location=location,
        contact_name=tracker.get_slot("ticket_contact") or ANONYMOUS,
        phone=tracker.get_slot("ticket_phone"),
        reply_wanted=bool(tracker.get_slot("ticket_reply_wanted")),
        incident_time=tracker.get_slot("ticket_time"),
        priority=URGENT if danger_named(tracker) else NORMAL,
    )


def chinese_date(iso: str) -> str:
    """An ISO date as Chinese readers write it (2026年12月4日)."""
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


class ActionSubmitTicket(Action):
    """Routes and files the confirmed ticket; tells its number only once it is stored."""

    def name(self) -> str:
        return "action_submit_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("ticket_confirmed") is not True:
            return []
        ticket = draft_ticket(tracker)
        routing = await asyncio.to_thread(
            route, " ".join(filter(None, [ticket.description, ticket.location]))
        )
        ticket.category = routing.category
        ticket.department = routing.department
        ticket.routing_confidence = routing.confidence
        key = ticket.idempotency_key(str(tracker.get_slot("ticket_started_at") or ""))
        try:
            filed = await ticket_store().file(ticket, key)
        except Exception as error:  # any store failure: say so, never claim a number
            logger.error("ticket not filed: %s", mask_pii(repr(error)))
            dispatcher.utter_message(response="utter_ticket_not_filed")
            return []
        if filed.priority == URGENT:
            dispatcher.utter_message(response="utter_ticket_urgent")
        dispatcher.utter_message(
            response="utter_ticket_filed",
            type_name=type_name(filed.type),
            number=filed.number,
            department=filed.department,
            due_date=chinese_date(filed.due_date),
        )
        masked = {
            "ticket_phone": mask_phone(filed.phone) if filed.phone else None,
            "ticket_description": mask_pii(filed.description),
        }
        cleared = [SlotSet(s, None) for s in TICKET_SLOTS if s not in masked]
        return (
            cleared
            + [SlotSet(s, v) for s, v in masked.items()]
            + [SlotSet("ticket_number", filed.number)]
        )
