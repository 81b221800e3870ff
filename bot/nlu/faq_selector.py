"""A linear response selector for the FAQ retrieval intent.

Rasa's ``ResponseSelector`` reached 44% exact-answer accuracy on our held-out set
after five minutes of training, where a regularised logistic regression over the
very same word and character n-gram features reaches 96% in seconds (measured
side by side, see ``docs/evaluation.md``). This component trains that linear
model and writes its prediction in exactly the ``response_selector`` format of
Rasa's own selector, so rules (``utter_faq``), ``ActionRetrieveResponse`` and the
fallback work unchanged; its probabilities are calibrated enough to threshold.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_RESPONSE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

RESPONSE_SELECTOR = "response_selector"


def sentence_features(message: Message) -> scipy.sparse.csr_matrix | None:
    """The message's sparse sentence features, log-scaled and L2-normalised.

    The featurisers' sentence rows side by side, in their order, as Rasa's
    ``Message.get_sparse_features`` combines them; joined here directly, because
    that method also combines the sequence features, a third of a turn's NLU time.
    """
    parts = [
        scipy.sparse.coo_matrix(f.features)
        for f in message.features
        if f.attribute == TEXT and f.is_sparse() and f.type == FEATURE_TYPE_SENTENCE
    ]
    if not parts:
        return None
    offsets = np.cumsum([0] + [part.shape[1] for part in parts])
    columns = np.concatenate(
        [p.col + o for p, o in zip(parts, offsets[:-1], strict=True)]
    )
    row = scipy.sparse.csr_matrix(
        (
            np.concatenate([part.data for part in parts]).astype(np.float64),
            (np.zeros(len(columns), dtype=np.int32), columns),
        ),
        shape=(1, int(offsets[-1])),
    )
    row.data = np.log1p(row.data)
    norm = np.sqrt(row.multiply(row).sum())
    return row / norm if norm else row


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearResponseSelector(GraphComponent):
    """Selects the answer of a retrieval intent with a multinomial logistic model."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Retrieval intent, inverse regularisation strength and ranking size."""
        return {
            "retrieval_intent": "faq",
            "C": 20.0,
            "max_iter": 2000,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        labels: List[str] | None = None,
    ) -> None:
        """Creates the selector, trained when weights are given."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._set_weights(weights, bias)
        self._labels = labels or []

    def _set_weights(self, weights: np.ndarray | None, bias: np.ndarray | None) -> None:
        # Kept transposed and C-contiguous (features × labels): scipy multiplies a
        # sparse row by a dense matrix in place only in that layout, and copied the
        # whole matrix (tens of MB) on every message when given ``weights.T``. Single
        # precision halves it; on the held-out texts no answer changed and no
        # confidence moved by 1e-6 (docs/performance.md). The features are cast to
        # match, or scipy would cast the matrix instead, on every message.
        self._kernel = (
            None
            if weights is None
            else np.ascontiguousarray(weights.T, dtype=np.float32)
        )
        self._bias = bias

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearResponseSelector:
        """Creates an untrained model."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on the labelled examples (see ``_examples``)."""
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for features, label in self._examples(training_data):
            rows.append(features)
            labels.append(label)
        if len(set(labels)) < 2:
            return self._resource
        model = LogisticRegression(
            C=self._config["C"], max_iter=self._config["max_iter"]
        )
        model.fit(scipy.sparse.vstack(rows), labels)
        self._set_weights(model.coef_, model.intercept_)
        self._labels = [str(label) for label in model.classes_]
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / "weights.npz", weights=model.coef_, bias=model.intercept_
            )
            (directory / "labels.json").write_text(json.dumps(self._labels))
        return self._resource

    def _examples(
        self, training_data: TrainingData
    ) -> Iterator[Tuple[scipy.sparse.csr_matrix, str]]:
        """Features and answer key of each example of the retrieval intent."""
        for example in training_data.intent_examples:
            if example.get(INTENT) != self._config["retrieval_intent"]:
                continue
            features = sentence_features(example)
            if features is not None and example.get(INTENT_RESPONSE_KEY):
                yield features, str(example.get(INTENT_RESPONSE_KEY))

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearResponseSelector:
        """Loads the trained weights (no pickles: plain arrays and JSON)."""
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(directory / "weights.npz")
                labels = json.loads((directory / "labels.json").read_text())
                return cls(
                    config,
                    model_storage,
                    resource,
                    arrays["weights"],
                    arrays["bias"],
                    labels,
                )
        except ValueError:
            return cls(config, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the ranked answers to each message, as Rasa's selector does."""
        if self._kernel is None:
            return messages
        for message in messages:
            features = sentence_features(message)
            if features is not None:
                self._set_prediction(message, self._probabilities(features))
        return messages

    def _probabilities(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        assert self._kernel is not None and self._bias is not None
        if features.shape[1] != self._kernel.shape[0]:
            raise ValueError("features do not match the trained selector")
        scores = np.asarray(features.astype(np.float32) @ self._kernel).ravel()
        scores = scores + self._bias
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def _set_prediction(self, message: Message, probabilities: np.ndarray) -> None:
        order = np.argsort(-probabilities)[: self._config["ranking_length"]]
        ranking = [
            {
                "id": int(index),
                "confidence": float(probabilities[index]),
                INTENT_RESPONSE_KEY: self._labels[index],
            }
            for index in order
        ]
        best = ranking[0]
        key = best[INTENT_RESPONSE_KEY]
        retrieval_intent = self._config["retrieval_intent"]
        selector = dict(message.get(RESPONSE_SELECTOR) or {})
        selector["all_retrieval_intents"] = [retrieval_intent]
        selector[retrieval_intent] = {
            "response": {
                "responses": [],
                "confidence": best["confidence"],
                INTENT_RESPONSE_KEY: key,
                "utter_action": f"utter_{key}",
            },
            "ranking": ranking,
        }
        message.set(RESPONSE_SELECTOR, selector, add_to_output=True)
