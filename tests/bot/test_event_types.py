"""Event classes are found by name exactly as Rasa finds them."""

import pytest
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot import event_types


@pytest.mark.parametrize(
    "cls", [cls for cls in all_subclasses(Event) if cls.type_name != "event"]
)
def test_every_event_type_resolves_to_rasas_class(cls: type) -> None:
    assert event_types.resolve_by_type(cls.type_name) is event_types._walk(
        cls.type_name
    )


def test_unknown_names_fail_or_fall_back_as_in_rasa() -> None:
    with pytest.raises(ValueError):
        event_types.resolve_by_type("no_such_event")
    assert event_types.resolve_by_type("no_such_event", UserUttered) is UserUttered
    assert event_types.resolve_by_type("topic") is None


def test_the_rasa_server_reads_events_through_it() -> None:
    import connectors  # noqa: F401  (the Rasa server loads the channels first)

    event = Event.from_parameters({"event": "slot", "name": "city", "value": "某市"})
    assert isinstance(event, SlotSet) and event.value == "某市"
    assert Event.resolve_by_type is event_types.resolve_by_type
