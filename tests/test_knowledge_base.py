"""The FAQ knowledge base, its training data and its held-out test set fit together."""

import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.evaluate import HELDOUT, load_examples
from bot.knowledge import DOMAINS, load_faqs
from bot.profile import PLACEHOLDERS
from bot.text import normalize

ROOT = Path(__file__).resolve().parent.parent
TRAINING = load_examples(ROOT / "data" / "nlu")
HELDOUT_EXAMPLES = load_examples(HELDOUT)
RESPONSES = {}
DOMAIN_INTENTS = set()
SLOTS = set()
for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    RESPONSES.update(content.get("responses") or {})
    DOMAIN_INTENTS.update(content.get("intents") or [])
    SLOTS.update(content.get("slots") or {})
FAQ_RESPONSES = {
    k[len("utter_faq/") :]: v
    for k, v in RESPONSES.items()
    if k.startswith("utter_faq/")
}
TRAINING_FAQS = Counter(i[len("faq/") :] for _, i in TRAINING if i.startswith("faq/"))
PAYLOAD_ONLY_INTENTS = {"choose_faq", "choose_ticket_type", "rate"}
# Values actions pass when they utter a response (tests/actions check each call).
ACTION_VALUES = {
    "type_name",
    "description",
    "location",
    "time",
    "contact",
    "phone",
    "reply",
}
ACTION_VALUES |= {"number", "department", "due_date", "status", "weekdays", "weekends"}

PLACEHOLDER = re.compile(r"\{(\w*)\}")
URL = re.compile(r"https?://|www\.|\.(cn|com|org|net)\b", re.I)
MARKUP = re.compile(r"[#*|<>`\[\]【】]|^\s*[-•]\s", re.M)
LABEL = re.compile(r"(材料|渠道|时限|费用|条件|提示)：")


def emoji_free(text: str) -> bool:
    return not re.search("[\U0001F000-\U0001FAFF\u2600-\u27BF]", text)


def test_knowledge_base_is_large_enough() -> None:
    faqs = load_faqs()
    assert len(faqs) >= 200
    domains = Counter(f.domain for f in faqs.values())
    assert set(domains) == set(DOMAINS)


def test_every_faq_has_record_answer_and_training_data() -> None:
    assert set(load_faqs()) == set(FAQ_RESPONSES) == set(TRAINING_FAQS)


@pytest.mark.parametrize("key", sorted(load_faqs()))
def test_faq_record(key: str) -> None:
    faq = load_faqs()[key]
    assert faq.domain in DOMAINS
    assert 2 <= len(faq.title) <= 14
    assert faq.basis.strip()
    assert date.fromisoformat(faq.reviewed) <= date.today()
    assert TRAINING_FAQS[key] >= 10


@pytest.mark.parametrize("key", sorted(FAQ_RESPONSES))
def test_faq_answer_has_a_written_and_a_spoken_variant(key: str) -> None:
    variants = FAQ_RESPONSES[key]
    written = [v["text"] for v in variants if not v.get("channel")]
    spoken = [v["text"] for v in variants if v.get("channel") == "ivr"]
    assert len(written) == 1 and len(spoken) == 1
    for text in written + spoken:
        assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDERS), text
        assert emoji_free(text)
        assert not MARKUP.search(text), text
    assert LABEL.search(written[0]), "written answers use the labelled lines"
    assert not URL.search(spoken[0]) and not LABEL.search(spoken[0]), spoken[0]


def test_every_response_uses_only_known_placeholders() -> None:
    known = set(PLACEHOLDERS) | SLOTS | ACTION_VALUES
    for name, variants in RESPONSES.items():
        for variant in variants:
            found = set(PLACEHOLDER.findall(variant.get("text", "")))
            assert found <= known, (name, found)


def test_every_domain_intent_has_training_examples() -> None:
    trained = {i.split("/", 1)[0] for _, i in TRAINING}
    assert DOMAIN_INTENTS - PAYLOAD_ONLY_INTENTS <= trained


def test_heldout_set_is_kept_apart_from_training_data() -> None:
    training = {normalize(t) for t, _ in TRAINING}
    leaked = [t for t, _ in HELDOUT_EXAMPLES if normalize(t) in training]
    assert leaked == []


def test_heldout_set_covers_every_faq_and_intent() -> None:
    per_label = defaultdict(int)
    for _, intent in HELDOUT_EXAMPLES:
        per_label[intent] += 1
    faqs = {f"faq/{k}" for k in load_faqs()}
    intents = DOMAIN_INTENTS - PAYLOAD_ONLY_INTENTS - {"faq"}
    assert all(per_label[label] >= 3 for label in faqs | intents)
    assert per_label["out_of_scope"] >= 300
