"""The text normaliser as a Rasa component, run before tokenising (see ``bot/text.py``).

Citizens type on phones, paste from documents and dictate through speech recognition:
full-width letters and digits, traditional characters, emoji, stray spaces and
"？？？" all reach the assistant. Normalising them first lets the tokenizer and the
featurizers see one spelling of each word.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text import normalize_with_offsets


def _moved_entity(entity: Dict[str, Any], offsets: List[int]) -> Dict[str, Any] | None:
    start = next((i for i, src in enumerate(offsets) if src >= entity["start"]), None)
    end = next(
        (i + 1 for i in reversed(range(len(offsets))) if offsets[i] < entity["end"]),
        None,
    )
    if start is None or end is None or end <= start:
        return None
    return {**entity, "start": start, "end": end}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class TextNormalizer(GraphComponent):
    """Rewrites the message text into one canonical spelling before tokenising."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Creates the component (it has no state)."""
        return cls()

    @staticmethod
    def _normalize_message(message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        normalized, offsets = normalize_with_offsets(text)
        message.set(TEXT, normalized)
        entities = message.get(ENTITIES)
        if entities:
            moved = (_moved_entity(e, offsets) for e in entities)
            message.set(ENTITIES, [e for e in moved if e is not None])

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises every training example (entity positions follow)."""
        for example in training_data.training_examples:
            self._normalize_message(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalises incoming messages."""
        for message in messages:
            self._normalize_message(message)
        return messages
