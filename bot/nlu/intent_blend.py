"""DIET's intent ranking blended with a linear model over the same features.

DIET is seeded, but its threaded training is not repeatable: over six trainings of
the same data its FAQ-domain accuracy on the held-out set moved between 96.4% and
97.4%. A logistic regression over the same word and character n-gram features
trains in seconds and the same way every time; averaging the two rankings keeps
DIET in charge where it is sure and lets the steadier model settle the close calls.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.faq_selector import LinearResponseSelector, sentence_features


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class BlendedIntentClassifier(LinearResponseSelector):
    """Averages DIET's intent confidences with a linear model's probabilities."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The linear model's weight in the blend, its regularisation, ranking size."""
        return {"weight": 0.5, "C": 20.0, "max_iter": 2000, "ranking_length": 10}

    def _examples(
        self, training_data: TrainingData
    ) -> Iterator[Tuple[scipy.sparse.csr_matrix, str]]:
        """Features and intent of every training example."""
        for example in training_data.intent_examples:
            features = sentence_features(example)
            if features is not None and example.get(INTENT):
                yield features, str(example.get(INTENT))

    def _set_prediction(self, message: Message, probabilities: np.ndarray) -> None:
        """Replaces the message's intent ranking with the blended one."""
        weight = float(self._config["weight"])
        blended: Dict[str, float] = {
            label: weight * float(p)
            for label, p in zip(self._labels, probabilities, strict=True)
        }
        for entry in message.get(INTENT_RANKING_KEY) or []:
            name = str(entry["name"])
            blended[name] = blended.get(name, 0.0) + (1 - weight) * entry["confidence"]
        ranking = sorted(blended.items(), key=lambda item: -item[1])
        ranking = ranking[: self._config["ranking_length"]]
        names = [{"name": name, "confidence": conf} for name, conf in ranking]
        message.set(INTENT, dict(names[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, names, add_to_output=True)
