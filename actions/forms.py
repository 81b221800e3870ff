"""What every form here shares: repeated-failure handling and reading the answer."""

from __future__ import annotations

import abc
import re
from typing import Any, Callable, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

# Intents that interrupt a form instead of answering its question; the form then
# rejects the turn and a rule handles it (stop, hand over, answer an FAQ...).
INTERRUPTIONS = {"stop", "request_human", "correct_field", "emergency", "faq"}
MAX_FAILURES = 3
# An FAQ interrupts only when it is asked as a question: answers to the form's
# questions (an address, a name) are statements, even when the model files them
# under an FAQ.
_QUESTION = re.compile(r"[?？]|吗|呢|怎么|如何|什么|哪|多少|多久|能不能|可不可以|是否|咋|啥")


def _latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def original_text(tracker: Tracker) -> str:
    """The citizen's latest message as typed (the parse holds a normalised copy)."""
    text = _latest_user_event(tracker).get("text")
    return str(text or tracker.latest_message.get("text") or "").strip()


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    """What the channel sent along with the latest message (the caller's number…)."""
    return dict(_latest_user_event(tracker).get("metadata") or {})


def _without_cleared_candidates(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events with the trailing slot candidates that clear a slot left out."""
    start = len(events)
    while start and events[start - 1].get("event") == "slot":
        start -= 1
    kept = [e for e in events[start:] if e.get("value") is not None]
    return events[:start] + kept


class RepeatedFailureFormValidation(FormValidationAction):
    """A form validation that explains a rejected answer and, on the third, offers help."""

    failures_slot = "form_failures"

    @abc.abstractmethod
    def name(self) -> str:
        """``validate_<form name>`` (abstract, so the base is never registered)."""

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        """Validates the answers just given; a slot just cleared is no answer.

        rasa-sdk validates every slot set since the last other event, so the
        slots an action cleared right before the form starts would each be
        "rejected", one complaint per slot, before the first question.
        """
        answered = tracker.copy()
        answered.events = _without_cleared_candidates(tracker.events)
        return await super().get_validation_events(dispatcher, answered, domain)

    def answer(self, tracker: Tracker, free_text_slot: str | None = None) -> str:
        """The text answering the requested slot, or "" if the message interrupts.

        An FAQ-like message still answers a free-text question (a description of
        a problem often reads like a question), and any question when it is not
        phrased as one.
        """
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = original_text(tracker)
        if intent == "faq":
            free = tracker.get_slot("requested_slot") == free_text_slot
            return text if free or not _QUESTION.search(text) else ""
        return "" if intent in INTERRUPTIONS else text

    def reject(
        self,
        slot: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        explanation: str | None = None,
    ) -> Dict[str, Any]:
        """Clears a rejected slot and says why, offering a human on the third time."""
        failures = dict(tracker.get_slot(self.failures_slot) or {})
        failures[slot] = failures.get(slot, 0) + 1
        if failures[slot] >= MAX_FAILURES:
            dispatcher.utter_message(response="utter_ticket_offer_human")
        else:
            dispatcher.utter_message(response=explanation or f"utter_invalid_{slot}")
        return {slot: None, self.failures_slot: failures}

    def take(
        self,
        tracker: Tracker,
        slot: str,
        find: Callable[[str], str | None],
        free_text: bool = False,
        exact: bool = False,
    ) -> Dict[str, Any]:
        """The requested slot takes the answer; an empty one takes what `find` spots.

        With `exact`, the requested slot takes what `find` spots in the answer too
        (a phone number inside "我的手机是…"); with `free_text`, an FAQ-like
        answer still counts (see `answer`).
        """
        text = self.answer(tracker, slot if free_text else None)
        if not text:
            return {}
        found = find(text)
        if tracker.get_slot("requested_slot") == slot:
            return {slot: (found if exact else None) or text}
        return {slot: found} if found and not tracker.get_slot(slot) else {}

    def keep_if(
        self,
        valid: bool,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> Dict[str, Any]:
        """Accepts `value` when `valid`, else rejects it with the slot's explanation."""
        if valid:
            return self.accept(slot, value, tracker)
        return self.reject(slot, dispatcher, tracker)

    def accept(self, slot: str, value: Any, tracker: Tracker) -> Dict[str, Any]:
        """Keeps a valid value and forgets the slot's earlier failures."""
        failures = dict(tracker.get_slot(self.failures_slot) or {})
        failures.pop(slot, None)
        return {slot: value, self.failures_slot: failures}
