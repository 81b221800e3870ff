"""Routes a ticket to a category and a department with a spaCy text classifier.

Two exclusive text classifiers share one Chinese (jieba) pipeline: one for the
first-level category, one for the second level. A prediction below the
threshold goes to the manual-dispatch queue instead of a guess.

Training: ``python -m actions.routing train data/routing/train.yml OUT_DIR``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml

from actions.ticket import ticket_config
from bot.profile import load_profile

JIEBA_DICTIONARY = Path(__file__).resolve().parent.parent / "bot" / "jieba"
LEVELS = ("textcat_first", "textcat_second")
DEFAULT_THRESHOLD = 0.5
EPOCHS = 12
SEED = 12345


def _blank_pipeline():  # type: ignore[no-untyped-def]
    import jieba
    import spacy

    for dictionary in sorted(JIEBA_DICTIONARY.glob("*.txt")):
        jieba.load_userdict(str(dictionary))
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, "first/second") pairs from a routing examples file."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return [(e["text"], e["category"]) for e in data["examples"]]


def taxonomy_labels() -> Tuple[List[str], List[str]]:
    """First-level and second-level ("first/second") labels of the taxonomy."""
    taxonomy: Dict[str, List[str]] = ticket_config()["taxonomy"]
    seconds = [
        f"{first}/{second}" for first, items in taxonomy.items() for second in items
    ]
    return list(taxonomy), seconds


def train(examples: Iterable[Tuple[str, str]], out_dir: Path) -> None:
    """Trains both classifiers and writes the pipeline to `out_dir`."""
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(SEED)
    firsts, seconds = taxonomy_labels()
    nlp = _blank_pipeline()
    bow = {
        "@architectures": "spacy.TextCatBOW.v2",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
    }
    for name, labels in zip(LEVELS, (firsts, seconds), strict=True):
        textcat = nlp.add_pipe("textcat", name=name, config={"model": bow})
        for label in labels:
            textcat.add_label(label)
    data = []
    for text, category in examples:
        first = category.split("/", 1)[0]
        cats = {label: float(label == first) for label in firsts}
        cats.update({label: float(label == category) for label in seconds})
        data.append(Example.from_dict(nlp.make_doc(text), {"cats": cats}))
    nlp.initialize(lambda: data)
    for _ in range(EPOCHS):
        random.Random(SEED).shuffle(data)
        for batch in minibatch(data, size=16):
            nlp.update(batch)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)


@dataclass(frozen=True)
class Routing:
    """Where a ticket goes and how sure the classifier is."""

    category: str | None  # "first/second", None when sent to manual dispatch
    department: str
    confidence: float


class Router:
    """A trained routing pipeline plus the profile's department map."""

    def __init__(self, model_dir: Path) -> None:
        """Loads the pipeline trained by `train`."""
        import spacy

        _blank_pipeline()  # loads the jieba dictionary the model was trained with
        self._nlp = spacy.load(model_dir)
        self.threshold = float(
            ticket_config().get("routing_threshold", DEFAULT_THRESHOLD)
        )

    def predict(self, text: str) -> Tuple[str, float]:
        """The best "first/second" label (second within first) and its confidence."""
        cats = self._nlp(text).cats
        firsts, _ = taxonomy_labels()
        first = max(firsts, key=lambda label: cats.get(label, 0.0))
        second = max(
            (label for label in cats if label.startswith(f"{first}/")),
            key=lambda label: cats[label],
        )
        return second, cats[first]

    def route(self, text: str) -> Routing:
        """The category and department for a ticket text."""
        profile = load_profile()
        category, confidence = self.predict(text)
        department = profile.get("departments", {}).get(category.split("/", 1)[0])
        if confidence < self.threshold or not department:
            return Routing(None, str(profile["manual_dispatch_queue"]), confidence)
        return Routing(category, str(department), confidence)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "train":
        sys.exit(__doc__)
    train(load_examples(Path(sys.argv[2])), Path(sys.argv[3]))
