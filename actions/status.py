"""Ticket status lookup: ticket number plus the phone's last four digits, throttled."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import RepeatedFailureFormValidation
from actions.tickets import chinese_date, digits_finder, ticket_store, type_name

# After this many failed lookups in one conversation, lookups stop answering.
MAX_LOOKUP_FAILURES = 3
_NUMBER = re.compile(r"(?<!\d)20\d{12}(?!\d)")
_LAST4 = re.compile(r"(?<!\d)\d{4}(?!\d)")


class ValidateStatusForm(RepeatedFailureFormValidation):
    """Takes the ticket number and the phone's last four digits from any answer."""

    failures_slot = "status_failures"

    def name(self) -> str:
        return "validate_status_form"

    async def extract_status_ticket_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return self.take(
            tracker, "status_ticket_number", digits_finder(_NUMBER), exact=True
        )

    def validate_status_ticket_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        valid = bool(_NUMBER.fullmatch(str(value)))
        return self.keep_if(valid, "status_ticket_number", value, dispatcher, tracker)

    async def extract_status_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot("requested_slot") != "status_phone_last4":
            return {}  # four digits said in passing are not taken for these
        return self.take(
            tracker, "status_phone_last4", digits_finder(_LAST4), exact=True
        )

    def validate_status_phone_last4(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        valid = bool(_LAST4.fullmatch(str(value)))
        return self.keep_if(valid, "status_phone_last4", value, dispatcher, tracker)


class ActionCheckTicketStatus(Action):
    """Answers only when number and phone digits both match; one reply for any miss."""

    def name(self) -> str:
        return "action_check_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        failures = int(tracker.get_slot("status_lookup_failures") or 0)
        cleared = [
            SlotSet("status_ticket_number", None),
            SlotSet("status_phone_last4", None),
        ]
        if failures >= MAX_LOOKUP_FAILURES:
            dispatcher.utter_message(response="utter_status_throttled")
            return cleared
        number = tracker.get_slot("status_ticket_number")
        last4 = tracker.get_slot("status_phone_last4")
        ticket = await ticket_store().get(str(number)) if number else None
        if ticket is None or not ticket.phone or ticket.phone[-4:] != last4:
            dispatcher.utter_message(response="utter_status_not_found")
            return cleared + [SlotSet("status_lookup_failures", failures + 1)]
        dispatcher.utter_message(
            response="utter_status_found",
            number=ticket.number,
            type_name=type_name(ticket.type),
            status=ticket.status,
            department=ticket.department or "待分拨",
            due_date=chinese_date(ticket.due_date),
            reply=ticket.reply or "暂无",
        )
        return cleared
