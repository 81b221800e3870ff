"""The widget's star rating is recorded once valid, and anything else is asked again."""

import pytest

from actions.rating import ActionRecordRating
from tests.actions.conftest import run, slot_events, user


async def test_a_rating_is_recorded_with_its_channel(store) -> None:
    messages, events = await run(
        ActionRecordRating(),
        user('/rate{"rating":"4"}', "rate", channel="web"),
        slots={"rating": "4"},
    )
    [recorded] = await store.ratings()
    assert (recorded["conversation_id"], recorded["channel"], recorded["stars"]) == (
        "citizen",
        "web",
        "4",
    )
    assert [m["response"] for m in messages] == ["utter_rating_thanks"]
    assert slot_events(events) == {"rating": None}


@pytest.mark.parametrize("given", ["0", "6", "五", "", None, "4.5"])
async def test_an_invalid_rating_is_not_recorded(store, given) -> None:
    messages, _ = await run(
        ActionRecordRating(), user("/rate", "rate"), slots={"rating": given}
    )
    assert await store.ratings() == []
    assert [m["response"] for m in messages] == ["utter_rating_invalid"]
