import logging

import pytest

from bot.privacy import mask_phone, mask_pii


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("电话13812345678", "电话138****5678"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("身份证11010119900307123X，电话15900001111", "身份证110101********123X，电话159****1111"),
        ("工单号20261127000123", "工单号20261127000123"),
        ("座机 010-12345678", "座机 010-12345678"),
        ("12345678901", "12345678901"),
    ],
)
def test_mask_pii(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_the_action_server_masks_every_log_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib
    import io

    import actions

    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)  # unmasked
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        importlib.reload(actions)  # as rasa-sdk imports it
        logging.getLogger("actions.tickets").warning("来电 %s", "13812345678")
        logging.getLogger("actions.tickets").warning("身份证110101199003071234")
    finally:
        root.removeHandler(handler)
    assert stream.getvalue() == "来电 138****5678\n身份证110101********1234\n"


def test_json_logs_are_one_masked_object_per_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import json

    from bot import privacy

    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("hotline.test.json")
    monkeypatch.setattr(privacy, "_handlers", lambda: iter([handler]))  # not pytest's
    monkeypatch.setattr(logging, "captureWarnings", lambda capture: None)
    logger.addHandler(handler)
    try:
        privacy.configure_logs()
        logger.warning("来电 %s", "13812345678")
        try:
            raise ValueError("身份证110101199003071234")
        except ValueError:
            logger.exception("提交失败")
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "来电 138****5678"
    assert (first["level"], first["logger"]) == ("WARNING", "hotline.test.json")
    assert first["time"]
    assert second["message"] == "提交失败"
    assert "110101********1234" in second["exc_info"]
    assert "110101199003071234" not in stream.getvalue()
