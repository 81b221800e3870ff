"""Rasa's event classes found by type name once, not for every event read.

Rasa 3.6 finds the class of each event it reads back (from the tracker store, from
the action server) by walking every subclass of ``Event`` anew
(``Event.resolve_by_type``): a ninth of the Rasa server's time in a ticket
conversation. Once the classes are imported the answer for a name never changes,
so ``install()`` remembers it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Type

from rasa.shared.core.events import Event

_walk = Event.resolve_by_type


@lru_cache(maxsize=256)
def resolve_by_type(
    type_name: str, default: Type[Event] | None = None
) -> Type[Event] | None:
    """The event class named `type_name`, as Rasa's walk finds it."""
    return _walk(type_name, default)


def install() -> None:
    """Makes Rasa look event classes up through the remembered answers."""
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore
