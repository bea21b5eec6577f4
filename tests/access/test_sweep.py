"""The access sweep: every API operation and every page, as every role, against the objects of
the other side of the world (tests/access/world.py).

- An object of the other side is never shown or changed: reads answer 404, writes 404 (or 403
  when the refusal does not depend on the object, e.g. an API client writing), anonymous
  callers 401/403 (API) or the log-in page; no name, masked ID number, title … of the other
  side appears in any answer, lists included.
- The operations come from the OpenAPI schema and the pages from the URL resolver, so a new
  endpoint or page is swept as soon as it exists; one the sweep cannot place fails the test.
- Every 403/404 answered to a signed-in user or API client is logged ("laborlink.access").
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from tests.access.world import ROLES, Side, World, api_for, client_for

pytestmark = pytest.mark.django_db

DIRECTIONS = [("A", "B"), ("B", "A")]  # (caller's side, target side)
DENIED = {403, 404}

# --- API: what each path parameter names ----------------------------------------------------

API_OBJECT_KINDS = {
    "/api/v1/agreements/{id}/": "agreement",
    "/api/v1/applicants/{id}/": "applicant",
    "/api/v1/applicants/{id}/reveal/": "applicant",
    "/api/v1/certificates/{id}/": "certificate",
    "/api/v1/certificates/{id}/revoke/": "certificate",
    "/api/v1/issuing-keys/{kid}/": "issuing_key",
    "/api/v1/matching/matches/{id}/": "match",
    "/api/v1/matching/runs/{id}/": "run",
    "/api/v1/postings/{id}/": "posting",
    "/api/v1/postings/{id}/close/": "posting",
    "/api/v1/postings/{id}/pause/": "posting",
    "/api/v1/postings/{id}/publish/": "posting",
    "/api/v1/provinces/{code}/": "province",
    "/api/v1/transport/bookings/{id}/": "booking",
    "/api/v1/transport/bookings/{id}/cancel/": "booking",
    "/api/v1/transport/bookings/{id}/change-seat/": "booking",
    "/api/v1/transport/flags/{id}/": "flag",
    "/api/v1/transport/flags/{id}/resolve/": "flag",
    "/api/v1/transport/placements/{id}/": "placement",
    "/api/v1/transport/placements/{id}/absences/": "placement",
    "/api/v1/transport/placements/{id}/departure/": "placement",
    "/api/v1/transport/trips/{id}/": "scheduled_trip",
    "/api/v1/transport/trips/{id}/arrive/": "trip",
    "/api/v1/transport/trips/{id}/boarding-check/": "scheduled_trip",
    "/api/v1/transport/trips/{id}/bookings/": "scheduled_trip",
    "/api/v1/transport/trips/{id}/cancel/": "scheduled_trip",
    "/api/v1/transport/trips/{id}/depart/": "trip",
    "/api/v1/transport/trips/{id}/manifest/": "trip",
    "/api/v1/transport/trips/{id}/start-boarding/": "scheduled_trip",
    "/api/v1/whitelist/{id}/": "whitelist_entry",
}
# Public reference data: anyone signed in reads it, whichever "side" it is on.
PUBLIC_KINDS = {"province"}
# Matching runs hold no personal data; every bureau (and its API client) reads every run.
SHARED = {"run": {"exporting_officer", "importing_officer", "exporting_api_client"}}
SHARED["run"] |= {"importing_api_client"}


def _soon(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def object_body(path: str, method: str, target: Side) -> dict[str, Any]:
    """A request body that would be valid if the object were the caller's own, so that only
    the object decides the answer."""
    token = None
    if path.endswith("boarding-check/"):
        from health.services import certificate_token

        token = certificate_token(target.certificates[2])
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/applicants/{id}/": {"minimum_wage": 4100},
        "/api/v1/applicants/{id}/reveal/": {"field": "national_id", "reason": "核对身份"},
        "/api/v1/certificates/{id}/revoke/": {"reason": "复查不合格"},
        "/api/v1/postings/{id}/": {"title": "改名岗位", "positions": 4},
        "/api/v1/transport/bookings/{id}/cancel/": {"reason": "行程变更"},
        "/api/v1/transport/bookings/{id}/change-seat/": {"seat": 30, "reason": "调座"},
        "/api/v1/transport/flags/{id}/resolve/": {"resolution": "已联系"},
        "/api/v1/transport/placements/{id}/absences/": {"days": [_soon(-1)]},
        "/api/v1/transport/placements/{id}/departure/": {"reason": "quit", "date": _soon(0)},
        "/api/v1/transport/trips/{id}/": {"seats": 50},
        "/api/v1/transport/trips/{id}/boarding-check/": {"certificate": token},
        "/api/v1/transport/trips/{id}/bookings/": {"placements": [target.placements[2].pk]},
        "/api/v1/transport/trips/{id}/cancel/": {"reason": "天气原因"},
    }
    if path == "/api/v1/postings/{id}/" and method == "put":
        from tests.factories import posting_values

        values = posting_values(title="改名岗位")
        return {k: str(v) if hasattr(v, "isoformat") else v for k, v in values.items()}
    return bodies.get(path, {})


def collection_body(path: str, caller: Side, target: Side) -> dict[str, Any] | None:
    """Bodies of the operations without a path parameter that name objects: they name the
    other side's. None: the operation names no existing object (it creates one of the
    caller's own, or reads the caller's own data)."""
    entries = [e.pk for e in target.entries]
    applicants = [a.pk for a in target.applicants]
    return {
        "/api/v1/applicants/": {
            "national_id": target.national_ids[0],
            "name": "重复登记",
            "phone": target.phones[0],
            "consent": True,
        },
        "/api/v1/applicants/lookup/": {"national_id": target.national_ids[0]},
        "/api/v1/certificates/": {
            "applicant": applicants[0],
            "examined_on": _soon(0),
            "result": "fit",
            "valid_until": _soon(60),
        },
        "/api/v1/transport/arrivals/": {
            "placement": target.placements[1].pk,
            "result": "pass",
        },
        "/api/v1/whitelist/approve/": {
            "applicants": applicants,
            "importing_province": caller.spec.importing,
            "expires_on": _soon(90),
        },
        "/api/v1/whitelist/reject/": {
            "applicants": applicants,
            "importing_province": caller.spec.importing,
            "reason": "材料不全",
        },
        "/api/v1/whitelist/revoke/": {"entries": entries, "reason": "撤回"},
        "/api/v1/whitelist/countersign/": {"entries": entries},
        "/api/v1/whitelist/return/": {"entries": entries, "reason": "退回"},
    }.get(path)


# Operations without a path parameter that name no object of anyone: they are swept for
# foreign data in their answer only.
OWN_DATA_OPERATIONS = {
    ("post", "/api/v1/postings/"),  # creates the caller's own posting (empty body: invalid)
    ("post", "/api/v1/transport/trips/"),  # same for a trip
    ("post", "/api/v1/matching/runs/"),  # a run covers the whole country
    ("post", "/api/v1/issuing-keys/rotate/"),  # the caller's own key
    ("post", "/api/v1/certificates/verify/"),  # a token is checked against public keys
}
# Operations anyone may call, signed in or not.
PUBLIC_OPERATIONS = {("post", "/api/v1/certificates/verify/")}
# Query parameters that name an object: lists are also asked for the other side's objects.
FILTER_KINDS = {
    "applicant": "applicant",
    "posting": "posting",
    "trip": "trip",
    "placement": "placement",
}


@dataclass
class Sweep:
    """What the sweep did and what it found."""

    calls: int = 0
    problems: list[str] = field(default_factory=list)
    denied: list[tuple[str, str, int]] = field(default_factory=list)  # to be logged
    operations: set[tuple[str, str]] = field(default_factory=set)

    def check(self, who: str, method: str, url: str, response, *, allowed, markers) -> None:
        self.calls += 1
        status = response.status_code
        if status not in allowed:
            self.problems.append(f"{who} {method.upper()} {url}: {status} not in {allowed}")
        body = body_text(response)
        leaked = [m for m in markers if m in body]
        if leaked:
            self.problems.append(f"{who} {method.upper()} {url}: shows {leaked}")

    def expect_logged(self, role: str, method: str, url: str, status: int) -> None:
        if status in DENIED and role != "anonymous":
            self.denied.append((method.upper(), url.split("?")[0], status))


def body_text(response) -> str:
    """The answer as text; an XLSX (a zip) is read cell by cell."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw.startswith(b"PK"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return raw.decode(errors="replace")


def schema_operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method, path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _call(api, method: str, url: str, body: dict | None):
    if method == "get":
        return api.get(url)
    return getattr(api, method)(url, body or {}, format="json")


def _fill(path: str, value: Any) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def sweep_api(world: World, caller: Side, target: Side, sweep: Sweep) -> None:
    markers = target.markers()
    clients = {role: api_for(caller, role) for role in ROLES}
    for method, path, op in schema_operations():
        path_params = [p for p in op.get("parameters", []) if p["in"] == "path"]
        if path_params:
            kind = API_OBJECT_KINDS.get(path)
            if kind is None:
                sweep.problems.append(f"{method.upper()} {path}: not placed in API_OBJECT_KINDS")
                continue
            value = world.run.pk if kind == "run" else target.ids(kind)
            url = _fill(path, value)
            body = object_body(path, method, target)
        else:
            url = path
            body = collection_body(path, caller, target) if method != "get" else None
            if method != "get" and body is None and (method, path) not in OWN_DATA_OPERATIONS:
                sweep.problems.append(f"{method.upper()} {path}: no body in collection_body")
                continue
            kind = None
        sweep.operations.add((method, path))
        for role, api in clients.items():
            if role == "anonymous":
                cache.clear()  # 60 anonymous requests a minute at most
            response = _call(api, method, url, body)
            if (method, path) in PUBLIC_OPERATIONS:
                allowed = set(range(200, 500))
            elif role == "anonymous":
                allowed = {401, 403}
            elif kind in PUBLIC_KINDS or role in SHARED.get(kind, ()):
                allowed = {200} if method == "get" else {400, 403, 404, 405, 409}
            elif kind is not None:
                allowed = {404} if method == "get" else DENIED
            elif method == "get" or (method, path) in OWN_DATA_OPERATIONS:
                allowed = set(range(200, 500)) - {401}
            else:  # names the other side's objects
                allowed = {400, 403, 404, 409}
            sweep.check(
                f"{caller.spec.key}:{role}",
                method,
                url,
                response,
                allowed=allowed,
                markers=[] if kind in PUBLIC_KINDS else markers,
            )
            sweep.expect_logged(role, method, url, response.status_code)
            # Lists filtered by the other side's objects stay empty of them too.
            if method == "get" and kind is None:
                names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
                query = {
                    name: target.ids(kind_) for name, kind_ in FILTER_KINDS.items() if name in names
                }
                if "province" in names:
                    query["province"] = target.spec.importing
                if query:
                    if role == "anonymous":
                        cache.clear()
                    response = api.get(url, query)
                    sweep.check(
                        f"{caller.spec.key}:{role}",
                        "get",
                        f"{url}?{query}",
                        response,
                        allowed=set(range(200, 500)) - ({401} if role != "anonymous" else set()),
                        markers=markers,
                    )
                    sweep.expect_logged(role, "get", url, response.status_code)


# --- Pages ----------------------------------------------------------------------------------

# Page URL names with arguments → the kind of object the argument names.
PAGE_OBJECT_KINDS = {
    "recruitment:posting-detail": "posting",
    "recruitment:posting-edit": "posting",
    "recruitment:posting-publish": "posting",
    "recruitment:posting-pause": "posting",
    "recruitment:posting-close": "posting",
    "recruitment:applicant-detail": "applicant",
    "recruitment:applicant-edit": "applicant",
    "recruitment:import-detail": "import_batch",
    "recruitment:import-start": "import_batch",
    "recruitment:import-progress": "import_batch",
    "recruitment:import-errors": "import_batch",
    "health:certificate-issue": "applicant",
    "health:certificate-detail": "certificate",
    "matching:run-detail": "run",
    "matching:run-progress": "run",
    "matching:answer-by-phone": "match",
    "transport:trip-detail": "scheduled_trip",
    "transport:trip-edit": "scheduled_trip",
    "transport:trip-book": "scheduled_trip",
    "transport:trip-book-posting": "scheduled_trip",
    "transport:trip-book-county": "scheduled_trip",
    "transport:trip-start-boarding": "scheduled_trip",
    "transport:trip-boarding": "scheduled_trip",
    "transport:trip-depart": "trip",
    "transport:trip-arrive": "trip",
    "transport:trip-cancel": "scheduled_trip",
    "transport:trip-manifest": "trip",
    "transport:trip-manifest-csv": "trip",
    "transport:trip-manifest-xlsx": "trip",
    "transport:booking-cancel": "booking",
    "transport:booking-seat": "booking",
    "transport:arrival-confirm": "unconfirmed_placement",
    "transport:placement-departure": "placement",
    "transport:placement-absence": "placement",
    "transport:flag-resolve": "flag",
    "offer": "offer_token",
}
# Page URL names with an argument that names no object: swept for foreign data only.
PAGE_NON_OBJECT_ARGS = {"transport:statistics-chart": {"name": "fill-rates"}}
# Pages that are not the app's (or that the API sweep covers).
SKIPPED_PREFIXES = ("admin/", "static/", "i18n/", "api/", "o/")
PAGE_POST_BODIES = {
    "transport:booking-seat": {"seat": "30", "reason": "调座"},
    "transport:booking-cancel": {"reason": "行程变更"},
    "transport:trip-cancel": {"reason": "天气原因"},
    "transport:flag-resolve": {"resolution": "已联系"},
    "matching:answer-by-phone": {"answer": "accept"},
}
ANONYMOUS_PAGE_ROLES = {"anonymous", "exporting_api_client", "importing_api_client"}
# Published for offline verification: every authority's public keys and name, and the
# numbers of revoked certificates.
PUBLIC_PAGES = {"health:trust-list", "health:revocations"}


def page_patterns() -> list[tuple[str, str, list[str]]]:
    """(route, name, argument names) of every page pattern."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, route, ns)
            elif isinstance(entry, URLPattern):
                if route.startswith(SKIPPED_PREFIXES):
                    continue
                args = list(entry.pattern.regex.groupindex)
                found.append((route, f"{namespace}{entry.name or ''}", args))

    walk(get_resolver(), "", "")
    return found


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def sweep_pages(world: World, caller: Side, target: Side, sweep: Sweep) -> set[str]:
    markers = target.markers()
    clients = {role: client_for(caller, role) for role in ROLES}
    swept: set[str] = set()
    for route, name, args in page_patterns():
        if not args:
            if name in {"logout", "login"}:
                continue
            url = reverse(name)
            for role, client in clients.items():
                response = client.get(url)
                sweep.check(
                    f"{caller.spec.key}:{role}",
                    "get",
                    url,
                    response,
                    allowed=set(range(200, 500)),
                    markers=[] if name in PUBLIC_PAGES else markers,
                )
                sweep.expect_logged(
                    role if role not in ANONYMOUS_PAGE_ROLES else "anonymous",
                    "get",
                    url,
                    response.status_code,
                )
            swept.add(name)
            continue
        if name in PAGE_NON_OBJECT_ARGS:
            url = reverse(name, kwargs=PAGE_NON_OBJECT_ARGS[name])
            for role, client in clients.items():
                response = client.get(url)
                sweep.check(
                    f"{caller.spec.key}:{role}",
                    "get",
                    url,
                    response,
                    allowed=set(range(200, 500)),
                    markers=markers,
                )
                sweep.expect_logged(
                    role if role not in ANONYMOUS_PAGE_ROLES else "anonymous",
                    "get",
                    url,
                    response.status_code,
                )
            swept.add(name)
            continue
        kind = PAGE_OBJECT_KINDS.get(name)
        if kind is None or len(args) != 1:
            sweep.problems.append(f"page {route} ({name}): not placed in PAGE_OBJECT_KINDS")
            continue
        if kind == "run":
            value = world.run.pk
        elif kind == "offer_token":
            value = target.ids(kind)[:-2] + "xx"  # a tampered link
        else:
            value = target.ids(kind)
        url = reverse(name, kwargs={args[0]: value})
        logged_url = url.replace(str(value), "<token>") if kind == "offer_token" else url
        swept.add(name)
        for role, client in clients.items():
            for method in ("get", "post"):
                if method == "get":
                    response = client.get(url)
                else:
                    response = client.post(url, PAGE_POST_BODIES.get(name, {}))
                anonymous = role in ANONYMOUS_PAGE_ROLES
                if kind == "offer_token":
                    allowed = {404}
                elif anonymous:
                    allowed = {302, 405}
                elif role in SHARED.get(kind, ()):
                    allowed = {200, 302, 400, 403, 404, 405, 409}
                else:
                    allowed = {404, 405} if method == "get" else {403, 404, 405}
                sweep.check(
                    f"{caller.spec.key}:{role}",
                    method,
                    url,
                    response,
                    allowed=allowed,
                    markers=markers,
                )
                if (
                    anonymous
                    and kind != "offer_token"
                    and response.status_code != 405
                    and not _is_login_redirect(response)
                ):
                    sweep.problems.append(f"{role} {method.upper()} {url}: not sent to log in")
                sweep.expect_logged(
                    "anonymous" if anonymous else role, method, logged_url, response.status_code
                )
    return swept


# --- The tests ------------------------------------------------------------------------------


@pytest.mark.parametrize(("caller", "target"), DIRECTIONS)
def test_api_never_serves_the_other_sides_objects(world, caller, target, caplog):
    caplog.set_level(logging.WARNING, logger="laborlink.access")
    sweep = Sweep()
    sweep_api(world, world.sides[caller], world.sides[target], sweep)

    assert not sweep.problems, "\n".join(sweep.problems)
    operations = {(m, p) for m, p, _op in schema_operations()}
    assert sweep.operations == operations, "an API operation was not swept"
    assert len(operations) > 60 and sweep.calls > len(operations) * len(ROLES)
    _assert_denials_logged(sweep, caplog)


@pytest.mark.parametrize(("caller", "target"), DIRECTIONS)
def test_pages_never_serve_the_other_sides_objects(world, caller, target, caplog):
    caplog.set_level(logging.WARNING, logger="laborlink.access")
    sweep = Sweep()
    swept = sweep_pages(world, world.sides[caller], world.sides[target], sweep)

    assert not sweep.problems, "\n".join(sweep.problems)
    assert set(PAGE_OBJECT_KINDS) <= swept, "a known page pattern no longer exists"
    _assert_denials_logged(sweep, caplog)


def _assert_denials_logged(sweep: Sweep, caplog) -> None:
    logged = [
        (r.args[1], r.args[2], r.args[0])
        for r in caplog.records
        if r.name == "laborlink.access" and r.levelno == logging.WARNING
    ]
    assert sweep.denied, "the sweep was never refused"
    missing = Counter(sweep.denied) - Counter(logged)
    unexpected = Counter(logged) - Counter(sweep.denied)
    assert not missing and not unexpected, f"not logged: {missing}; unexpected: {unexpected}"
