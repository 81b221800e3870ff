"""Masking of citizens' phone and ID-card numbers outside the ticket record.

Phone and ID numbers are kept whole only inside a ticket; logs, analytics and the
conversation tracker see them masked (138****5678, 110101********1234).
"""

from __future__ import annotations

import logging
import re

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(number: str) -> str:
    """Masks a mobile number, keeping the first three and last four digits."""
    return _MOBILE.sub(r"\1****\2", number)


def mask_pii(text: str) -> str:
    """Masks every ID-card and mobile number in a text."""
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1********\2", text))


class MaskingFilter(logging.Filter):
    """A logging filter that masks PII in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record's message with PII masked; never drops it."""
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
