"""A safety net: danger to life or property is never left to a model's confidence.

Runs after the fallback classifier. A message matching one of the phrases in
``bot/emergency.yml`` gets the ``emergency`` intent with full confidence, so the
emergency numbers come first even when the model was unsure or thought otherwise.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergency import load_pattern

EMERGENCY = {"name": "emergency", "confidence": 1.0}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class EmergencyClassifier(GraphComponent):
    """Sets the emergency intent for messages that name a danger."""

    def __init__(self, pattern: re.Pattern) -> None:
        """Creates the classifier with the joined danger pattern."""
        self._pattern = pattern

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyClassifier:
        """Reads the danger phrases (they are data, not part of the model)."""
        return cls(load_pattern())

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of any message that names a danger."""
        for message in messages:
            if self._pattern.search(message.get(TEXT) or ""):
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT, dict(EMERGENCY), add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY,
                    [dict(EMERGENCY)]
                    + [i for i in ranking if i["name"] != "emergency"],
                    add_to_output=True,
                )
        return messages
