"""A logging filter that takes ID numbers and mobile numbers out of log lines.

The code never logs personal data on purpose (the suite's leak checker fails a test that
does). This filter is the second line: a database error quotes the failed SQL statement
(`LINE 1: INSERT … VALUES (…)`) and a traceback may show values, so everything a handler
writes — message, arguments and exception text — is scrubbed before it leaves the process.
"""

from __future__ import annotations

import logging
import re

# 17 digits and a digit or X (GB 11643), or a mainland mobile number, not inside a longer
# run of digits.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _PERSONAL_NUMBER.sub(REDACTED, text)


class RedactPersonalNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the record as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
