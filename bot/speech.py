"""Turns text into something a phone line's text-to-speech reads correctly."""

from __future__ import annotations

import re
import unicodedata
from typing import List, Sequence

_DIGITS = "零幺二三四五六七八九"
# A link, with the words that point to it ("详情见", "请访问", "网址：").
_URL = re.compile(
    r"(?:详情见|详见|请见|请访问|访问|请登录|登录|网址[：:]?)?\s*"
    r"(?:https?://|www\.)[A-Za-z0-9_\-./?%&=#:~+]*",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"[*_#`|>~\[\]<>]+")
_TIME_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*[-~－—至到]\s*(\d{1,2}):(\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# Numbers callers hear digit by digit: phone, ticket and hotline numbers (5+ digits).
_LONG_NUMBER = re.compile(r"\d{5,}")
# A masked phone number (138****5678) is read as its last four digits.
_MASKED_PHONE = re.compile(r"\d{3}\*{4}(\d{4})")
_BREAKS = re.compile(r"\s*\n+\s*")
_REPEATED = re.compile(r"([，。；！？、])[，。；！？、\s]+")
MAX_MENU = 9


def digits_to_speech(number: str) -> str:
    """Reads a number digit by digit, as Chinese callers say phone numbers."""
    return "".join(_DIGITS[int(d)] if d.isdigit() else d for d in number)


def _clock(hours: str, minutes: str) -> str:
    return f"{int(hours)}点" + ("" if minutes == "00" else f"{int(minutes)}分")


def _spoken_symbol(char: str) -> bool:
    """Whether a character is read aloud (emoji and pictographs are not)."""
    return not unicodedata.category(char).startswith(("So", "Sk", "Cs", "Co"))


def speakable(text: str) -> str:
    """One prompt without links, emoji or markup, with numbers written as read."""
    text = _URL.sub("", text)
    text = _MASKED_PHONE.sub(lambda m: f"尾号{digits_to_speech(m.group(1))}", text)
    text = "".join(char for char in text if _spoken_symbol(char))
    text = _MARKUP.sub("", text).replace("\ufe0f", "")
    text = _TIME_RANGE.sub(
        lambda m: f"{_clock(*m.groups()[:2])}到{_clock(*m.groups()[2:])}", text
    )
    text = _CLOCK.sub(lambda m: _clock(*m.groups()), text)
    text = _LONG_NUMBER.sub(lambda m: digits_to_speech(m.group()), text)
    text = _BREAKS.sub("。", text.strip())
    text = re.sub(r"([：:])。", r"\1", text)
    text = _REPEATED.sub(r"\1", text)
    return re.sub(r"[ \t]+", " ", text).strip(" ，").lstrip("。")


def menu_prompt(titles: Sequence[str]) -> str:
    """A spoken menu for buttons: "请说「投诉」或按1，说「求助」或按2。"."""
    choices: List[str] = [
        f"{'请说' if index == 1 else '说'}{speakable(title)}或按{index}"
        for index, title in enumerate(titles[:MAX_MENU], start=1)
    ]
    return "，".join(choices) + "。" if choices else ""
