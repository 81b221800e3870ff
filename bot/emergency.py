"""Danger to life or property, as named by the phrases in ``bot/emergency.yml``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from bot.text import normalize

PATTERNS = Path(__file__).resolve().parent / "emergency.yml"


def load_pattern(path: Path = PATTERNS) -> re.Pattern:
    """One regular expression joining every danger phrase of the file."""
    patterns = yaml.safe_load(path.read_text(encoding="utf-8"))["patterns"]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    return load_pattern()


def names_danger(text: str) -> bool:
    """Whether a citizen's text (as typed) names a danger of the list."""
    return bool(_pattern().search(normalize(text, name_numbers=False)))
