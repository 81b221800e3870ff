"""Routes a ticket to a category and a department with a spaCy text classifier.

One exclusive text classifier over the second-level categories runs on a Chinese
(jieba) pipeline; a first-level category's confidence is the sum of its
second-level probabilities. A prediction below the threshold goes to the
manual-dispatch queue instead of a guess.

Training: ``python -m actions.routing train data/routing/train.yml OUT_DIR`` (``make
train`` does it, into ``models/router-<hash of its inputs>``).
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml

from actions.ticket import ticket_config
from bot.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
JIEBA_DICTIONARY = ROOT / "bot" / "jieba"
DEFAULT_THRESHOLD = 0.5
EPOCHS = 20
SEED = 12345


def _blank_pipeline():  # type: ignore[no-untyped-def]
    import jieba
    import spacy

    for dictionary in sorted(JIEBA_DICTIONARY.glob("*.txt")):
        jieba.load_userdict(str(dictionary))
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})


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


def train(
    examples: Iterable[Tuple[str, str]], out_dir: Path, epochs: int = EPOCHS
) -> None:
    """Trains both classifiers and writes the pipeline to `out_dir`."""
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(SEED)
    _, seconds = taxonomy_labels()
    nlp = _blank_pipeline()
    bow = {
        "@architectures": "spacy.TextCatBOW.v2",
        "exclusive_classes": True,
        "ngram_size": 3,
        "no_output_layer": False,
    }
    textcat = nlp.add_pipe("textcat", config={"model": bow})
    for label in seconds:
        textcat.add_label(label)
    data = [
        Example.from_dict(
            nlp.make_doc(text),
            {"cats": {label: float(label == category) for label in seconds}},
        )
        for text, category in examples
    ]
    nlp.initialize(lambda: data)
    for _ in range(epochs):
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
        firsts: Dict[str, float] = {}
        for label, probability in cats.items():
            first = label.split("/", 1)[0]
            firsts[first] = firsts.get(first, 0.0) + probability
        first = max(firsts, key=firsts.__getitem__)
        second = max(
            (label for label in cats if label.startswith(f"{first}/")),
            key=cats.__getitem__,
        )
        return second, firsts[first]

    def route(self, text: str) -> Routing:
        """The category and department for a ticket text."""
        profile = load_profile()
        category, confidence = self.predict(text)
        department = profile.get("departments", {}).get(category.split("/", 1)[0])
        if confidence < self.threshold or not department:
            return Routing(None, str(profile["manual_dispatch_queue"]), confidence)
        return Routing(category, str(department), confidence)


def latest_router_dir() -> Path | None:
    """``ROUTER_MODEL`` if set, else the newest ``models/router-*``, if any."""
    configured = os.environ.get("ROUTER_MODEL")
    if configured:
        return Path(configured)
    trained = sorted(ROOT.glob("models/router-*"), key=lambda p: p.stat().st_mtime)
    return trained[-1] if trained else None


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "train":
        sys.exit(__doc__)
    train(load_examples(Path(sys.argv[2])), Path(sys.argv[3]))
