"""Fallback that also distrusts an uncertain FAQ answer, not only an uncertain intent.

Rasa's `FallbackClassifier` looks at the intent alone. For a retrieval intent the
intent ("this is an FAQ") is usually certain while the answer ("which FAQ") is not;
answering the wrong FAQ confidently is worse than asking, so the same thresholds
are applied to the response selector's ranking too.

The fallback guards against wrong answers, so it never overrides ``out_of_scope``:
that reply answers nothing, it says what the hotline does, which is also the best
reply when the model only leans towards it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message

RESPONSE_SELECTOR = "response_selector"
OUT_OF_SCOPE = "out_of_scope"


def retrieval_ranking(message_data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The response selector's ranking for the message's retrieval intent, if any."""
    intent = (message_data.get(INTENT) or {}).get(INTENT_NAME_KEY)
    selector = (message_data.get(RESPONSE_SELECTOR) or {}).get(intent or "")
    return list((selector or {}).get("ranking") or [])


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class RetrievalAwareFallbackClassifier(FallbackClassifier):
    """`FallbackClassifier` whose thresholds also apply to retrieval answers."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Adds thresholds for the selected answer of a retrieval intent."""
        return {
            **FallbackClassifier.get_default_config(),
            "retrieval_threshold": 0.4,
            "retrieval_ambiguity_threshold": 0.1,
        }

    def _should_fallback(self, message: Message) -> bool:
        if (message.data.get(INTENT) or {}).get(INTENT_NAME_KEY) == OUT_OF_SCOPE:
            return False
        if super()._should_fallback(message):
            return True
        uncertain, _ = self._retrieval_uncertain(message)
        return uncertain

    def _retrieval_uncertain(self, message: Message) -> Tuple[bool, float]:
        ranking = retrieval_ranking(message.data)
        if not ranking:
            return False, 1.0
        top = ranking[0].get("confidence", 0.0)
        if top < self.component_config["retrieval_threshold"]:
            return True, top
        second = ranking[1].get("confidence", 0.0) if len(ranking) > 1 else 0.0
        margin = top - second
        return margin < self.component_config["retrieval_ambiguity_threshold"], margin
