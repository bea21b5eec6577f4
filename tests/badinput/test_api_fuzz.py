"""Schema-driven fuzzing of every API operation (schemathesis over the OpenAPI schema that
drf-spectacular generates), in-process through Django's WSGI application, with the cast's
data present, as three callers: the Zhejiang employer's HR officer and the Sichuan bureau
officer (session cookie and CSRF token, as a browser sends them) and the Sichuan province's
OAuth2 client (bearer token).

For every operation and caller, schemathesis generates requests that fit the schema and
requests that do not; a path id is the id of an object of the cast half of the time. Each
answer must not be a server error, and its status code, content type and body must be those
the schema documents (the error shape included). Every request runs in a savepoint that is
rolled back, so each one sees the same cast.

Run alone: `python3 dev.py test tests/badinput/test_api_fuzz.py`. The examples are
derandomised: a run is the same run every time.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from laborlink.services import api_client_create
from laborlink.throttling import AnonThrottle as AnonRateThrottle
from laborlink.throttling import UserThrottle as UserRateThrottle
from tests.api.test_api_client import SECRET, _token
from tests.leakcheck import find_personal_data

pytestmark = pytest.mark.django_db

# Examples per operation and caller, in requests that fit the schema and requests that do
# not: bounded so that the module stays well inside the suite's time (about 1,400
# requests in all). FUZZ_SCALE=10 fuzzes ten times as deep, e.g. before a release.
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
POSITIVE_EXAMPLES = 5 * SCALE
NEGATIVE_EXAMPLES = 3 * SCALE
# An API client is refused every write before its input is read: a couple of requests
# show that the refusal has the documented shape.
CLIENT_WRITE_EXAMPLES = 2 * SCALE
KNOWN_ID_SHARE = 0.5  # of generated path ids replaced by the id of an object of the cast


def _openapi_document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@pytest.fixture(scope="module")
def api_schema():
    import schemathesis

    schema = schemathesis.openapi.from_dict(_openapi_document())
    schema.app = WSGIHandler()
    return schema


@pytest.fixture
def unthrottled(monkeypatch):
    """A fuzz run sends more requests in a minute than one caller may; the throttle itself
    is tested in tests/api."""
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": None}
    )
    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {**AnonRateThrottle.THROTTLE_RATES, "anon": None}
    )


@contextmanager
def in_process_requests():
    """The WSGI handler closes a connection it finds inside a transaction at the end of a
    request, as it should in production; here the test's transaction must survive, as
    Django's test client also arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class Caller:
    label: str
    read_only: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


def session_caller(label: str, user) -> Caller:
    """A browser's credentials: the session cookie and a CSRF token, sent as the cookie and
    the X-CSRFToken header (SessionAuthentication checks it on unsafe methods)."""
    browser = Client()
    browser.force_login(user)
    csrf = get_random_string(32)
    return Caller(
        label,
        headers={"X-CSRFToken": csrf},
        cookies={
            settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: csrf,
        },
    )


def bearer_caller(label: str, bureau) -> Caller:
    _machine, application, secret = api_client_create(
        actor=None, bureau=bureau, name="四川省就业信息系统", client_secret=SECRET
    )
    return Caller(
        label,
        read_only=True,
        headers={"Authorization": f"Bearer {_token(application.client_id, secret)}"},
    )


@pytest.fixture
def callers(hr_officer, sichuan_officer, sichuan_bureau):
    return {
        "hr_officer": lambda: session_caller("hr_officer", hr_officer),
        "sichuan_bureau": lambda: session_caller("sichuan_bureau", sichuan_officer),
        "sichuan_client": lambda: bearer_caller("sichuan_client", sichuan_bureau),
    }


def collection_of(path: str) -> str:
    """`/api/v1/transport/trips/{id}/manifest/` → `transport/trips`."""
    return path.removeprefix("/api/v1/").split("/{", 1)[0].rstrip("/")


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def _url_text(case) -> str:
    values = [*case.path_parameters.values(), *(case.query or {}).values()]
    return " ".join(str(value) for value in values)


def _has_input(operation) -> bool:
    """Parameters or a body that a request can get wrong (a path's free-text key cannot)."""
    parameters = operation.definition.raw.get("parameters", [])
    return bool(operation.definition.raw.get("requestBody")) or any(
        parameter.get("in") != "path" or parameter.get("schema", {}).get("type") != "string"
        for parameter in parameters
    )


def fuzz_operation(
    operation, caller: Caller, known_ids: dict[str, list], statuses: Counter
) -> None:
    from schemathesis import GenerationMode

    checks = _checks()
    known = known_ids.get(collection_of(operation.path), [])

    def run(mode, examples: int) -> None:
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def example(data) -> None:
            case = data.draw(operation.as_strategy(generation_mode=mode))
            if known and case.path_parameters:
                name = next(iter(case.path_parameters))
                if data.draw(st.floats(0, 1)) < KNOWN_ID_SHARE:
                    case.path_parameters[name] = data.draw(st.sampled_from(known))
            # A random number shaped like an ID or mobile number in a URL would be logged as
            # sent (the access log) and fail the suite's personal-data check: not generated.
            assume(not find_personal_data(_url_text(case)))
            with transaction.atomic():
                try:
                    response = case.call(headers=caller.headers, cookies=caller.cookies)
                    statuses[response.status_code] += 1
                    case.validate_response(response, checks=checks)
                finally:
                    transaction.set_rollback(True)

        example()

    if caller.read_only and operation.method.upper() != "GET":
        run(GenerationMode.POSITIVE, CLIENT_WRITE_EXAMPLES)
        return
    run(GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
    if _has_input(operation):
        run(GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)


@pytest.mark.parametrize("caller_name", ["hr_officer", "sichuan_bureau", "sichuan_client"])
def test_every_operation_survives_fuzzing_and_answers_as_documented(
    caller_name, api_schema, world, callers, unthrottled
):
    caller = callers[caller_name]()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 70
    failures: list[str] = []
    statuses: Counter = Counter()
    with in_process_requests():
        for operation in operations:
            try:
                fuzz_operation(operation, caller, world.ids, statuses)
            except (Exception, BaseExceptionGroup) as exc:  # every failing one, not the first
                notes = "\n".join(getattr(exc, "__notes__", []))
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}\n{notes}")
    assert not failures, f"{len(failures)} operations failed as {caller_name}:\n\n" + "\n\n".join(
        failures
    )
    # The caller was who it claimed to be throughout (never 401), and the fuzzing reached the
    # cast's data, not only validation and 404s.
    assert statuses[401] == 0, statuses
    assert sum(n for status, n in statuses.items() if 200 <= status < 300) >= 60, statuses
    assert statuses[400] >= 30 and statuses[404] >= 30, statuses
