"""The custom NLU components, trained in-process on a tiny data set."""

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.common import override_defaults
from rasa.utils.tensorflow.models import RasaModel

from bot import model_loading
from bot.nlu.fallback import RetrievalAwareFallbackClassifier
from bot.nlu.faq_selector import LinearResponseSelector, sentence_features
from bot.nlu.intent_blend import BlendedIntentClassifier

EXAMPLES = {
    "faq/shebao_card_replace": ["社保卡丢了怎么补办", "社保卡补卡去哪里", "社保卡坏了能换吗"],
    "faq/gongjijin_withdraw_rent": ["租房怎么提取公积金", "公积金能付房租吗", "租房提公积金"],
    "faq/hunyin_marriage_register": ["结婚登记要带什么", "怎么领结婚证", "结婚证在哪办"],
}


@pytest.fixture
def context(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    execution = ExecutionContext(GraphSchema({}), "test")
    tokenizer = JiebaTokenizer(
        JiebaTokenizer.get_default_config(), storage, Resource("tokenizer")
    )
    featurizer = CountVectorsFeaturizer.create(
        {
            **CountVectorsFeaturizer.get_default_config(),
            "analyzer": "char_wb",
            "max_ngram": 3,
        },
        storage,
        Resource("features"),
        execution,
    )
    return storage, execution, tokenizer, featurizer


def _featurised(messages: list, tokenizer, featurizer) -> TrainingData:
    data = TrainingData(messages)
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data


def _faq_messages() -> list:
    return [
        Message(
            data={"text": text, "intent": key.split("/")[0], "intent_response_key": key}
        )
        for key, texts in EXAMPLES.items()
        for text in texts
    ]


def _training_data(tokenizer, featurizer) -> TrainingData:
    return _featurised(_faq_messages(), tokenizer, featurizer)


def _parse(text, tokenizer, featurizer, selector) -> Message:
    message = Message(data={"text": text})
    tokenizer.process([message])
    featurizer.process([message])
    message.set("intent", {"name": "faq", "confidence": 0.99})
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.99}])
    selector.process([message])
    return message


def test_sentence_features_are_rasas_combined_sentence_features(context) -> None:
    storage, execution, tokenizer, characters = context
    words = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(),
        storage,
        Resource("words"),
        execution,
    )
    data = TrainingData(_faq_messages())
    tokenizer.process_training_data(data)
    for featurizer in (words, characters):
        featurizer.train(data)
        featurizer.process_training_data(data)

    for message in data.training_examples:
        _, combined = message.get_sparse_features("text")
        expected = np.log1p(combined.features.toarray().astype(np.float64))
        expected /= np.linalg.norm(expected)
        assert sentence_features(message).toarray() == pytest.approx(expected)


def test_linear_selector_answers_in_rasa_format_and_survives_reloading(context) -> None:
    storage, execution, tokenizer, featurizer = context
    config = LinearResponseSelector.get_default_config()
    resource = Resource("selector")
    selector = LinearResponseSelector.create(config, storage, resource, execution)
    selector.train(_training_data(tokenizer, featurizer))
    reloaded = LinearResponseSelector.load(config, storage, resource, execution)

    for component in (selector, reloaded):
        parsed = _parse("我的社保卡丢了", tokenizer, featurizer, component)
        faq = parsed.get("response_selector")["faq"]
        assert faq["response"]["intent_response_key"] == "faq/shebao_card_replace"
        assert faq["response"]["utter_action"] == "utter_faq/shebao_card_replace"
        confidences = [r["confidence"] for r in faq["ranking"]]
        assert confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0)
        assert faq["response"]["confidence"] == confidences[0]


def test_untrained_selector_leaves_messages_alone(context) -> None:
    storage, execution, tokenizer, featurizer = context
    _training_data(tokenizer, featurizer)
    selector = LinearResponseSelector.load(
        LinearResponseSelector.get_default_config(),
        storage,
        Resource("none"),
        execution,
    )
    parsed = _parse("社保卡", tokenizer, featurizer, selector)
    assert parsed.get("response_selector") is None


def _message(intent_confidence: float, answers: list) -> Message:
    return Message(
        data={
            "text": "x",
            "intent": {"name": "faq", "confidence": intent_confidence},
            "intent_ranking": [
                {"name": "faq", "confidence": intent_confidence},
                {"name": "greet", "confidence": 1 - intent_confidence},
            ],
            "response_selector": {
                "faq": {"ranking": [{"confidence": c} for c in answers]}
            },
        }
    )


@pytest.mark.parametrize(
    "intent_confidence, answers, falls_back",
    [
        (0.95, [0.8, 0.1], False),  # sure of the intent and of the answer
        (0.95, [0.15, 0.1], True),  # the answer is too unsure
        (0.95, [0.45, 0.42], True),  # two answers too close to call
        (0.35, [0.9, 0.05], True),  # the intent itself is unsure
    ],
)
def test_fallback_distrusts_uncertain_answers(
    intent_confidence: float, answers: list, falls_back: bool
) -> None:
    classifier = RetrievalAwareFallbackClassifier(
        {
            **RetrievalAwareFallbackClassifier.get_default_config(),
            "threshold": 0.4,
            "retrieval_threshold": 0.2,
            "retrieval_ambiguity_threshold": 0.05,
        }
    )
    message = _message(intent_confidence, answers)
    classifier.process([message])
    assert (message.get("intent")["name"] == "nlu_fallback") is falls_back
    assert message.get("intent_ranking")[-1]["name"] == "greet"


@pytest.mark.parametrize(
    "text, emergency",
    [
        ("家里煤气味很大", True),
        ("我老公在打我", True),
        ("有人被困电梯里了", True),
        ("楼下着火了快来人", True),
        ("煤气费怎么交", False),
        ("电梯老是坏，物业不修", False),
        ("公积金怎么提取", False),
    ],
)
def test_danger_phrases_force_the_emergency_intent(text: str, emergency: bool) -> None:
    from bot.nlu.emergency import EmergencyClassifier, load_pattern

    message = Message(
        data={
            "text": text,
            "intent": {"name": "faq", "confidence": 0.9},
            "intent_ranking": [{"name": "faq", "confidence": 0.9}],
        }
    )
    EmergencyClassifier(load_pattern()).process([message])
    assert (message.get("intent")["name"] == "emergency") is emergency
    assert message.get("intent_ranking")[-1]["name"] == "faq"


def test_fallback_never_overrides_out_of_scope() -> None:
    classifier = RetrievalAwareFallbackClassifier(
        {**RetrievalAwareFallbackClassifier.get_default_config(), "threshold": 0.4}
    )
    message = Message(
        data={
            "text": "x",
            "intent": {"name": "out_of_scope", "confidence": 0.3},
            "intent_ranking": [
                {"name": "out_of_scope", "confidence": 0.3},
                {"name": "chitchat", "confidence": 0.25},
            ],
        }
    )
    classifier.process([message])
    assert message.get("intent")["name"] == "out_of_scope"


def _intent_data(tokenizer, featurizer) -> TrainingData:
    other = {"greet": ["你好", "您好呀", "早上好"], "complaint": ["我要投诉", "投诉物业", "投诉噪音扰民"]}
    messages = [
        Message(data={"text": text, "intent": intent})
        for intent, texts in other.items()
        for text in texts
    ]
    return _featurised(messages + _faq_messages(), tokenizer, featurizer)


def test_the_blend_settles_close_calls_and_keeps_sure_ones(context) -> None:
    storage, execution, tokenizer, featurizer = context
    config = BlendedIntentClassifier.get_default_config()
    blend = BlendedIntentClassifier.create(
        config, storage, Resource("blend"), execution
    )
    blend.train(_intent_data(tokenizer, featurizer))
    reloaded = BlendedIntentClassifier.load(
        config, storage, Resource("blend"), execution
    )

    def parse(text: str, ranking: list) -> Message:
        message = Message(data={"text": text})
        tokenizer.process([message])
        featurizer.process([message])
        message.set("intent", dict(ranking[0]))
        message.set("intent_ranking", ranking)
        reloaded.process([message])
        return message

    close = parse(
        "社保卡丢了怎么补办",
        [
            {"name": "complaint", "confidence": 0.52},
            {"name": "faq", "confidence": 0.48},
        ],
    )
    assert close.get("intent")["name"] == "faq"
    sure = parse("社保卡丢了怎么补办", [{"name": "greet", "confidence": 1.0}])
    assert sure.get("intent")["name"] == "greet"  # a sure DIET still decides
    ranking = sure.get("intent_ranking")
    confidences = [entry["confidence"] for entry in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert sure.get("intent") == ranking[0]


def test_diet_loaded_for_prediction_only_predicts_as_rasas_load(
    context, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, execution, tokenizer, featurizer = context
    config = override_defaults(
        DIETClassifier.get_default_config(),
        {"epochs": 2, "random_seed": 1, "entity_recognition": False},
    )
    resource = Resource("diet")
    DIETClassifier.create(config, storage, resource, execution).train(
        _intent_data(tokenizer, featurizer)
    )

    def loaded(loader) -> DIETClassifier:
        monkeypatch.setattr(RasaModel, "load", classmethod(loader))
        return DIETClassifier.load(config, storage, resource, execution)

    ours, rasas = loaded(model_loading.load), loaded(model_loading._rasa_load)
    assert ours.model.optimizer is None  # no optimiser slots held
    assert rasas.model.optimizer is not None
    for text in ("社保卡丢了怎么补办", "我要投诉噪音", "你好", "租房提取公积金"):
        rankings = []
        for classifier in (ours, rasas):
            message = Message(data={"text": text})
            tokenizer.process([message])
            featurizer.process([message])
            classifier.process([message])
            rankings.append(message.get("intent_ranking"))
        assert rankings[0] == rankings[1]
        assert {entry["name"] for entry in rankings[0]} == {"greet", "complaint", "faq"}
