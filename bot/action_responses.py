"""Rasa's check of the action server's answers, with the schema compiled once.

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate``,
which first checks the schema itself against JSON Schema's 2020-12 meta-schema and
builds a new validator: on every action call, about an eighth of the Rasa server's
time under load (``docs/performance.md``). ``install()`` keeps the same check of the
same answers against the same schema, and does the rest once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction


@lru_cache(maxsize=1)
def _validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_: RemoteAction, result: Dict[str, Any]) -> bool:
    """True for a well-formed answer; raises ``ValidationError`` as Rasa does."""
    error: ValidationError | None = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += ". Failed to validate Action server response from API."
    raise error


def install() -> None:
    """Makes the Rasa server check action answers with the compiled validator."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore
