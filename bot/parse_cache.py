"""The NLU's reading of messages seen before, remembered per loaded model.

Citizens ask the same short questions in the same words ("公积金怎么提取") many
times a day. The NLU graph's reading depends only on the text: none of the
pipeline's components takes the tracker or reads the metadata. So the Rasa server
keeps the readings of the last ``NLU_CACHE_SIZE`` texts (default 4096; 0 turns it
off) for each loaded model, and a repeated text skips the graph
(``docs/performance.md`` has the figures). Texts with a phone or ID number are
never kept: they are personal, and nobody repeats them.
"""

from __future__ import annotations

import copy
import functools
import os
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable

from rasa.core.processor import MessageProcessor

from bot.privacy import mask_pii

Parse = Callable[..., Dict[str, Any]]


class ParseCache:
    """A bounded map from key to parse data, least recently used out first."""

    def __init__(self, size: int) -> None:
        """Creates an empty cache of at most `size` entries."""
        self.size = size
        self._entries: OrderedDict[Hashable, Dict[str, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Dict[str, Any] | None:
        """A copy of the stored parse data (callers change theirs), or None."""
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return copy.deepcopy(self._entries[key])

    def put(self, key: Hashable, parse_data: Dict[str, Any]) -> None:
        """Stores a copy of `parse_data`, dropping the oldest entry when full."""
        if self.size <= 0:
            return
        self._entries[key] = copy.deepcopy(parse_data)
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


def cached(parse: Parse) -> Parse:
    """`parse` (``MessageProcessor._parse_message_with_graph``) with a cache.

    The cache lives on the processor, so a newly loaded model starts empty.
    """

    @functools.wraps(parse)
    def parse_with_cache(
        processor: Any,
        message: Any,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> Dict[str, Any]:
        cache = processor.__dict__.setdefault(
            "_nlu_cache", ParseCache(int(os.environ.get("NLU_CACHE_SIZE", "4096")))
        )
        key = (message.text, only_output_properties)
        parse_data = cache.get(key)
        if parse_data is None:
            parse_data = parse(processor, message, tracker, only_output_properties)
            if mask_pii(message.text or "") == message.text:
                cache.put(key, parse_data)
        return parse_data

    parse_with_cache.uncached = parse  # type: ignore[attr-defined]
    return parse_with_cache


def install() -> None:
    """Makes the Rasa server's message processor use the cache (once)."""
    parse = MessageProcessor._parse_message_with_graph
    if not hasattr(parse, "uncached"):
        MessageProcessor._parse_message_with_graph = cached(parse)  # type: ignore
