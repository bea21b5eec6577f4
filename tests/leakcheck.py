"""A pytest plugin: personal data never reaches a log record or a URL.

Over the whole suite it captures every log record that reaches the root logger (message with
its arguments, and the formatted traceback of `exc_info`) and the path and query string of
every request the Django test client (or a live server) handles, and fails the test during
which a full mainland ID number or mobile number shows up in one of them. What leaks outside
any test (module fixtures, session set-up) is reported at the end and fails the session.

Levels are the ones configured (INFO and up by default), i.e. what production writes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import pytest
from django.core.signals import request_started

# 17 digits and a check character, not inside a longer run of digits.
_ID_CANDIDATE = re.compile(r"(?<!\d)(\d{17}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_checksum_valid(number: str) -> bool:
    """GB 11643-1999: the 18th character is the weighted sum of the 17 digits, mod 11."""
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()


def find_personal_data(text: str) -> list[str]:
    """Full ID numbers (with a valid check character) and mobile numbers found in `text`."""
    found = [m for m in _ID_CANDIDATE.findall(text) if id_checksum_valid(m)]
    found += _MOBILE.findall(text)
    return list(dict.fromkeys(found))


def _masked(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


@dataclass
class Finding:
    test: str
    where: str  # "log <logger>" or "URL"
    values: list[str]

    def describe(self) -> str:
        return f"{self.where}: {', '.join(_masked(v) for v in self.values)}"


@dataclass
class LeakCheck:
    current: str = "<outside any test>"
    findings: list[Finding] = field(default_factory=list)

    def record(self, where: str, text: str) -> None:
        values = find_personal_data(text)
        if values:
            self.findings.append(Finding(self.current, where, values))

    def of(self, test: str) -> list[Finding]:
        return [f for f in self.findings if f.test == test]


class _Handler(logging.Handler):
    def __init__(self, check: LeakCheck) -> None:
        super().__init__(level=logging.NOTSET)
        self.check = check
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: check its parts
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.check.record(f"log {record.name}", text)


_check = LeakCheck()
_handler = _Handler(_check)


def _on_request(sender, environ=None, scope=None, **kwargs) -> None:
    if environ is not None:
        url = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")
    elif scope is not None:
        url = scope.get("path", "") + "?" + scope.get("query_string", b"").decode("latin-1")
    else:
        return
    _check.record("URL", unquote_plus(url))


def _install() -> None:
    """(Re-)attach the handler: configuring logging (Django's set-up, a test overriding
    LOGGING) replaces the root logger's handlers."""
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)


def pytest_configure(config) -> None:
    _install()
    request_started.connect(_on_request, dispatch_uid="tests.leakcheck")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _check.current = item.nodeid
    yield
    _check.current = "<outside any test>"


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs_or_urls(request):
    """Fails (at teardown) the test during which a full ID number or mobile number was
    logged or put in a URL."""
    _install()
    yield
    _install()
    leaks = _check.of(request.node.nodeid)
    if leaks:
        pytest.fail(
            "personal data in logs or URLs: " + "; ".join(f.describe() for f in leaks),
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    outside = [f for f in _check.findings if f.test == "<outside any test>"]
    if outside:
        terminalreporter.section("personal data in logs or URLs outside tests")
        for finding in outside:
            terminalreporter.write_line(finding.describe())


def pytest_sessionfinish(session, exitstatus) -> None:
    if any(f.test == "<outside any test>" for f in _check.findings) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
