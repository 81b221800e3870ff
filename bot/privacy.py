"""Masking of citizens' phone and ID-card numbers outside the ticket record.

Phone and ID numbers are kept whole only inside a ticket; logs, analytics and the
conversation tracker see them masked (138****5678, 110101********1234).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Iterator

from pythonjsonlogger.json import JsonFormatter

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(number: str) -> str:
    """Masks a mobile number, keeping the first three and last four digits."""
    return _MOBILE.sub(r"\1****\2", number)


def mask_pii(text: str) -> str:
    """Masks every ID-card and mobile number in a text."""
    return _MOBILE.sub(r"\1****\2", _ID_NUMBER.sub(r"\1********\2", text))


class MaskingJsonFormatter(JsonFormatter):
    """One JSON object per record (time, level, logger, message), PII masked."""

    def __init__(self) -> None:
        """Names the fields as log collectors expect them."""
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON, masked whole (tracebacks and extra fields too)."""
        return mask_pii(super().format(record))


def configure_logs() -> None:
    """Masks PII in every log record; with ``LOG_FORMAT=json``, logs JSON lines.

    Masking is a record factory, not a handler filter: Rasa and rasa-sdk replace the
    root handlers (coloredlogs) at start-up, and a filter would go with them. Each
    server calls this once its handlers are set up, so JSON reaches all of them.
    """
    _mask_records()
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        import jieba  # noqa: F401  (its import adds a console handler of its own)

        logging.captureWarnings(True)
        formatter = MaskingJsonFormatter()
        for handler in _handlers():
            handler.setFormatter(formatter)


def _handlers() -> Iterator[logging.Handler]:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        yield from logger.handlers


def _mask_records() -> None:
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
