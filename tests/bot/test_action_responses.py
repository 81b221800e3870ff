"""The action server's answers are checked as strictly as Rasa checks them."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.action_responses import validate_action_result

ACTION = RemoteAction("validate_ticket_form", None)
WELL_FORMED = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "ticket_phone", "value": "138****5678"},
            {"event": "active_loop", "name": "ticket_form"},
        ],
        "responses": [{"text": "请问您的手机号码是多少？"}],
    },
]
MALFORMED = [
    {"events": "slot"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "name": 5}]},
    {"responses": ["文本"]},
    [],
]


@pytest.mark.parametrize("result", WELL_FORMED)
def test_well_formed_answers_pass(result: dict) -> None:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    assert validate_action_result(ACTION, result) is True


@pytest.mark.parametrize("result", MALFORMED)
def test_malformed_answers_fail_as_they_do_in_rasa(result: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Action server response"):
        validate_action_result(ACTION, result)  # type: ignore[arg-type]


def test_the_rasa_server_checks_with_it() -> None:
    import connectors  # noqa: F401  (the Rasa server loads the channels first)

    assert RemoteAction._validate_action_result is validate_action_result
