"""The deployment profile: the local facts (city, hotline, hall, districts) an office edits.

Responses never hard-code local facts; they name placeholders such as ``{city}`` that
are filled from this file when the server starts, so editing it needs a restart, not
retraining. ``HOTLINE_PROFILE`` points at another profile file.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

from bot.speech import digits_to_speech

DEFAULT_PROFILE = Path(__file__).with_name("profile.yml")
PLACEHOLDERS = (
    "city",
    "hotline",
    "service_hall",
    "service_address",
    "service_hours",
    "gov_website",
    "gov_app",
)
# Entries that are not placeholders but that the assistant cannot run without.
REQUIRED = ("manual_dispatch_queue", "ivr_transfer_target")
SPOKEN_CHANNELS = {"ivr"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ProfileError(ValueError):
    """The deployment profile is missing or lacks a required entry."""


@lru_cache(maxsize=8)
def _load(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            profile = yaml.safe_load(handle) or {}
    except OSError as error:
        raise ProfileError(f"cannot read deployment profile {path}: {error}") from error
    required = (*PLACEHOLDERS, *REQUIRED)
    missing = [key for key in required if not str(profile.get(key) or "").strip()]
    if missing:
        raise ProfileError(f"deployment profile {path} lacks: {', '.join(missing)}")
    return profile


def load_profile() -> Dict[str, Any]:
    """The profile named by ``HOTLINE_PROFILE``, else the shipped example."""
    return _load(os.environ.get("HOTLINE_PROFILE") or str(DEFAULT_PROFILE))


def placeholder_values(channel: str = "") -> Dict[str, str]:
    """Values for the response placeholders, spoken-friendly on voice channels."""
    profile = load_profile()
    values = {key: str(profile[key]) for key in PLACEHOLDERS}
    if channel in SPOKEN_CHANNELS:
        values["hotline"] = digits_to_speech(values["hotline"])
    return values


def fill(text: str, channel: str = "") -> str:
    """Fills the profile placeholders in a response text, leaving other braces."""
    values = placeholder_values(channel)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group()), text)
