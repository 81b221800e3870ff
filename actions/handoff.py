"""Handing a conversation to a human agent, inside the profile's staffed hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.ticket import now
from actions.tickets import channel_name, ticket_store
from bot.privacy import mask_pii
from bot.profile import SPOKEN_CHANNELS, load_profile

SUMMARY_MESSAGES = 3


def staffed(at: datetime) -> bool:
    """Whether agents are on duty at `at` (profile ``staffed_hours``)."""
    hours = load_profile().get("staffed_hours") or {}
    span = hours.get("weekends" if at.weekday() >= 5 else "weekdays")
    if not span:
        return False
    start, end = (part.strip() for part in str(span).split("-"))
    return start <= at.strftime("%H:%M") < end


def handoff_summary(tracker: Tracker) -> str:
    """The citizen's last few messages, masked, for the agent who picks up."""
    said = [
        str(e.get("text") or "")
        for e in tracker.events
        if e.get("event") == "user" and not str(e.get("text") or "").startswith("/")
    ]
    return mask_pii(" / ".join(said[-SUMMARY_MESSAGES:]))


class ActionHandoff(Action):
    """Queues the conversation for an agent and pauses the bot, or offers a ticket."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        if not staffed(now()):
            hours = load_profile().get("staffed_hours") or {}
            dispatcher.utter_message(
                response="utter_handoff_closed",
                weekdays=hours.get("weekdays", ""),
                weekends=hours.get("weekends", ""),
            )
            return []
        channel = channel_name(tracker)
        try:
            await ticket_store().enqueue_handoff(
                tracker.sender_id, channel, handoff_summary(tracker)
            )
        except Exception:  # the queue is down: say so, keep the bot answering
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        dispatcher.utter_message(response="utter_handoff_queued")
        if channel in SPOKEN_CHANNELS:  # the phone line transfers the call itself
            target = load_profile()["ivr_transfer_target"]
            dispatcher.utter_message(json_message={"transfer": target})
        return [ConversationPaused()]
