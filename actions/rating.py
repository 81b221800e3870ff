"""The citizen's 1–5 star rating of a conversation (好差评), recorded in the store."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.tickets import channel_name, ticket_store

logger = logging.getLogger(__name__)


class ActionRecordRating(Action):
    """Stores a valid rating and thanks the citizen; asks again for anything else."""

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        raw = str(tracker.get_slot("rating") or "").strip()
        if not (raw.isdigit() and 1 <= int(raw) <= 5):
            dispatcher.utter_message(response="utter_rating_invalid")
            return [SlotSet("rating", None)]
        try:
            await ticket_store().record_rating(
                tracker.sender_id, channel_name(tracker), int(raw)
            )
        except Exception as error:  # a lost rating must not break the conversation
            logger.error("rating not recorded: %r", error)
        dispatcher.utter_message(response="utter_rating_thanks")
        return [SlotSet("rating", None)]
