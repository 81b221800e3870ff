"""Text normalisation for Chinese citizen messages, shared by the NLU and the actions.

Citizens type on phones, paste from documents and dictate through speech recognition:
full-width letters and digits, traditional characters, emoji, stray spaces and
"？？？" all reach the assistant. Normalising them first lets the tokenizer and the
featurizers see one spelling of each word. No Rasa imports here: the action server
uses these functions too, and Rasa's engine would load TensorFlow into it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, List, Tuple

_REPEATABLE_PUNCTUATION = set("!?.,~;:、。…！？，；：～-—=*#")
# Numbers citizens give are classes, not words: "13812345678" must not look like
# "12345" to the featurisers (it made a complaint with a phone number an FAQ about
# the 12345 hotline). Each is replaced by the name of its class.
_NUMBER_CLASSES = (
    (re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])"), "身份证号码"),
    (re.compile(r"(?<!\d)20\d{12}(?!\d)"), "工单编号"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "手机号码"),
)
_DROPPED_CATEGORIES = {"So", "Sk", "Cf", "Co", "Cs", "Cn", "Cc"}


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _to_simplified(text: str) -> str:
    """Converts traditional to simplified characters, keeping the length."""
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase conversion changed the length: fall back to one character at a time
    # so that positions still line up with the original text.
    return "".join(
        c if len(c) == 1 else o for o, c in ((o, _t2s().convert(o)) for o in text)
    )


def normalize_with_offsets(
    text: str, name_numbers: bool = True
) -> Tuple[str, List[int]]:
    """Normalises `text` and maps each output character to its source position.

    With `name_numbers`, phone, ID and ticket numbers become the name of their
    class (what the NLU needs); actions that read the numbers turn it off.

    Returns:
        The normalised text and, for every character of it, the index of the
        character of `text` it came from (used to move entity annotations).

    """
    chars: List[Tuple[str, int]] = []
    for index, char in enumerate(_to_simplified(text)):
        if char.isspace():
            chars.append((" ", index))
            continue
        for piece in unicodedata.normalize("NFKC", char):
            if unicodedata.category(piece) in _DROPPED_CATEGORIES:
                continue
            chars.append((piece, index))

    kept: List[Tuple[str, int]] = []
    for position, (char, index) in enumerate(chars):
        previous = kept[-1][0] if kept else ""
        if char == " ":
            following = next((c for c, _ in chars[position + 1 :] if c != " "), "")
            if not previous or not following or previous == " ":
                continue
            if _is_cjk(previous) or _is_cjk(following):
                continue
        elif char == previous and char in _REPEATABLE_PUNCTUATION:
            continue
        kept.append((char, index))
    text, offsets = "".join(c for c, _ in kept), [i for _, i in kept]
    return _name_number_classes(text, offsets) if name_numbers else (text, offsets)


def _name_number_classes(text: str, offsets: List[int]) -> Tuple[str, List[int]]:
    for pattern, name in _NUMBER_CLASSES:
        pieces, positions, last = [], [], 0
        for match in pattern.finditer(text):
            pieces.append(text[last : match.start()])
            positions += offsets[last : match.start()]
            pieces.append(name)
            positions += [offsets[match.start()]] * len(name)
            last = match.end()
        pieces.append(text[last:])
        positions += offsets[last:]
        text, offsets = "".join(pieces), positions
    return text, offsets


def normalize(text: str, name_numbers: bool = True) -> str:
    """Normalises a message text (see `normalize_with_offsets`)."""
    return normalize_with_offsets(text, name_numbers)[0]
