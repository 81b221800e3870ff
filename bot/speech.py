"""Turns text into something a phone line's text-to-speech reads correctly."""

from __future__ import annotations

_DIGITS = "零幺二三四五六七八九"


def digits_to_speech(number: str) -> str:
    """Reads a number digit by digit, as Chinese callers say phone numbers."""
    return "".join(_DIGITS[int(d)] if d.isdigit() else d for d in number)
