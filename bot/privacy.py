"""Masking of citizens' phone and ID-card numbers outside the ticket record.

Phone and ID numbers are kept whole only inside a ticket; logs, analytics and the
conversation tracker see them masked (138****5678, 110101********1234).
"""

from __future__ import annotations

import logging
import re
from typing import Any

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(number: str) -> str:
    """Masks a mobile number, keeping the first three and last four digits."""
    return _MOBILE.sub(r"\1****\2", number)


def mask_pii(text: str) -> str:
    """Masks every ID-card and mobile number in a text."""
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1********\2", text))


def mask_log_records() -> None:
    """Masks PII in every log record this process creates, whatever its handler.

    A record factory, not a handler filter: Rasa and rasa-sdk replace the root
    handlers (coloredlogs) after start-up, and a filter would go with them.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_pii", False):
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    masking_factory.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
