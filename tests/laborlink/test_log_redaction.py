"""The log filter scrubs ID numbers and mobile numbers from what a handler writes."""

from __future__ import annotations

import io
import logging
from datetime import date

from laborlink.log_redaction import RedactPersonalNumbers, redact
from tests.factories import national_id_for


def _isolated_logger(stream: io.StringIO) -> logging.Logger:
    # not propagated: the suite's leak checker on the root logger must not see the test input
    logger = logging.getLogger("tests.redaction")
    logger.propagate = False
    logger.handlers.clear()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPersonalNumbers())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


def test_numbers_in_arguments_and_tracebacks_are_redacted():
    number = national_id_for("510104", date(1990, 3, 7), 5)
    phone = "13912345678"
    stream = io.StringIO()
    logger = _isolated_logger(stream)
    logger.warning("row for %s failed", number)
    try:
        raise ValueError(f"LINE 1: … VALUES ('{phone}')")
    except ValueError:
        logger.exception("database error")
    written = stream.getvalue()
    assert number not in written and phone not in written
    assert written.count("[redacted]") == 2
    assert "row for [redacted] failed" in written
    assert "ValueError" in written  # the traceback is still there


def test_longer_digit_runs_and_ordinary_numbers_stay():
    assert redact("order 1234567890123456789012") == "order 1234567890123456789012"
    assert redact("run 42 matched 67056") == "run 42 matched 67056"
    assert redact("x 51010419900307005X y") == "x [redacted] y"
