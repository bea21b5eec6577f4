"""Personal data never leaks: not into logs or URLs (the suite-wide checker in
tests/leakcheck.py, tested here), not into error messages, not into query strings, and not
into downloads, which show masked numbers to every role."""

from __future__ import annotations

import logging
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from recruitment.models import Applicant, ImportBatch
from tests import leakcheck
from tests.access.test_sweep import body_text, page_patterns
from tests.access.world import ROLES, api_for, client_for
from tests.factories import national_id_for
from tests.recruitment.import_files import csv_bytes, row, upload

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"  # the standard's published sample
PERSONAL_PARAMETER = re.compile(r"national|id_?number|id_?card|phone|mobile|tel\b", re.IGNORECASE)


# --- The checker itself -----------------------------------------------------------------------


def test_the_scanner_finds_id_numbers_with_a_valid_check_digit_and_mobile_numbers():
    number = national_id_for("510104", date(1990, 3, 7), 123)
    assert leakcheck.find_personal_data(f"applicant {number} registered") == [number]
    assert leakcheck.find_personal_data(f"id={VALID_ID}&x") == [VALID_ID]
    assert leakcheck.find_personal_data("call 13812345678.") == ["13812345678"]
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    assert leakcheck.find_personal_data(f"order {wrong_check}") == []  # not an ID number
    assert leakcheck.find_personal_data(f"9{number}") == []  # inside a longer number
    assert leakcheck.find_personal_data("138123456789 and 12812345678") == []  # 12 digits; 12…
    assert leakcheck.find_personal_data("5101**********1234 138****5678") == []  # masked


def test_the_log_handler_sees_messages_arguments_and_tracebacks():
    check = leakcheck.LeakCheck(current="self-test")
    logger = logging.getLogger("tests.leakcheck.selftest")
    logger.propagate = False  # kept away from the suite-wide checker, which would fail us
    handler = leakcheck._Handler(check)
    logger.addHandler(handler)
    number = national_id_for("520102", date(1988, 1, 2), 7)
    try:
        logger.warning("registered %s", number)
        try:
            raise ValueError(f"duplicate phone 13912345678 for {number}")
        except ValueError:
            logger.exception("import failed")
        logger.info("nothing personal: applicant 42, masked %s", "5201**********0017")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    found = [(f.where, f.values) for f in check.findings]
    assert found == [
        ("log tests.leakcheck.selftest", [number]),
        # the message of the exception, and the line of source that raised it
        ("log tests.leakcheck.selftest", [number, "13912345678"]),
    ]
    assert "13912345678" not in check.findings[1].describe()  # the report masks them too


def test_the_checker_catches_an_id_number_in_a_url(client, request):
    number = national_id_for("510104", date(1991, 5, 6), 55)
    client.get("/healthz", {"q": number})
    mine = leakcheck._check.of(request.node.nodeid)
    assert [(f.where, f.values) for f in mine] == [("URL", [number])]
    for finding in mine:  # expected here: do not fail this test for it
        leakcheck._check.findings.remove(finding)


# --- Error messages -------------------------------------------------------------------------


def _without_input_values(html: str) -> str:
    """A form page gives the user's own typing back in its fields; the rest of the page (the
    error messages) must not repeat the number."""
    return re.sub(r'value="[^"]*"', 'value=""', html)


def _register_form(national_id: str) -> dict:
    return {
        "name": "重复登记",
        "national_id": national_id,
        "phone": "13600000000",
        "skills": ["welder"],
        "minimum_wage": "4000",
        "consent": "on",
    }


def test_register_errors_do_not_repeat_the_id_number(world):
    side = world.sides["A"]
    officer = side.users["exporting_officer"]
    registered = side.national_ids[0]
    wrong_check = registered[:17] + ("0" if registered[17] != "0" else "1")
    client = client_for(side, "exporting_officer")
    api = api_for(side, "exporting_officer")
    for number, status in ((registered, 409), (wrong_check, 400)):
        page = client.post(reverse("recruitment:applicant-new"), _register_form(number))
        assert page.status_code == status
        assert number not in _without_input_values(page.content.decode())
        answer = api.post("/api/v1/applicants/", _register_form(number), format="json")
        assert answer.status_code == status, answer.content
        assert number not in answer.content.decode()
        assert answer.json()["error"]["details"]["national_id"]  # the error is there
    assert Applicant.objects.filter(registered_by=officer).count() == len(side.applicants)


def test_import_errors_do_not_repeat_the_id_number(world):
    side = world.sides["A"]
    registered = side.national_ids[1]
    wrong_check = registered[:17] + ("0" if registered[17] != "0" else "1")
    twice = national_id_for(side.spec.region, date(1993, 4, 4), 321)
    rows = [
        row(name="已登记", national_id=registered),
        row(name="校验位错", national_id=wrong_check),
        row(name="重复一", national_id=twice),
        row(name="重复二", national_id=twice),
    ]
    client = client_for(side, "exporting_officer")
    response = client.post(
        reverse("recruitment:import-new"), {"file": upload(csv_bytes(rows), "errors.csv")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ImportBatch.objects.filter(file_name="errors.csv").get()
    assert {e["key"] for e in batch.errors} >= {
        "national_id.checksum",
        "national_id.duplicate_in_file",
    }
    numbers = [registered, wrong_check, twice]
    downloads = [
        client.get(reverse("recruitment:import-detail", args=[batch.pk])),
        client.get(reverse("recruitment:import-errors", args=[batch.pk])),
        client.get(reverse("recruitment:import-errors", args=[batch.pk]), {"format": "xlsx"}),
    ]
    for answer in downloads:
        assert answer.status_code == 200
        text = body_text(answer)
        assert "校验位错" in text and "重复二" in text
        assert not [n for n in numbers if n in text]
    stored = str(batch.errors)
    assert not [n for n in numbers if n in stored]


# --- No ID number or phone in a query string -------------------------------------------------


def test_no_api_query_parameter_takes_an_id_number_or_a_phone():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {
        (path, p["name"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    assert len(parameters) > 50
    assert not [(path, name) for path, name in parameters if PERSONAL_PARAMETER.search(name)]


class _GetForms(HTMLParser):
    """The names of the fields of every form that submits with GET."""

    def __init__(self) -> None:
        super().__init__()
        self.in_get_form = False
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.in_get_form = (values.get("method") or "get").lower() == "get"
        elif self.in_get_form and tag in {"input", "select", "textarea"} and values.get("name"):
            self.names.add(values["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_get_form = False


def test_no_page_form_sends_an_id_number_or_a_phone_with_get(world):
    side = world.sides["A"]
    names: set[str] = set()
    pages = [reverse(name) for _route, name, args in page_patterns() if not args and name]
    for role in ("hr_officer", "exporting_officer", "importing_officer", "health_officer"):
        client = client_for(side, role)
        for url in pages:
            response = client.get(url)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                parser = _GetForms()
                parser.feed(response.content.decode())
                names |= parser.names
    assert {"q", "page"} & names  # the filter forms were found
    assert not [n for n in names if PERSONAL_PARAMETER.search(n)]


def test_searches_never_look_into_id_numbers_or_phones(world):
    search_fields: set[str] = set()
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for _path, _regex, _method, callback in generator.endpoints:
        search_fields |= set(getattr(callback.cls, "search_fields", None) or [])
    assert "name" in search_fields
    assert not [f for f in search_fields if PERSONAL_PARAMETER.search(f)]

    side = world.sides["A"]
    api = api_for(side, "exporting_officer")
    client = client_for(side, "exporting_officer")
    applicant = side.applicants[0]
    assert api.get("/api/v1/applicants/", {"search": applicant.name}).json()["count"] == 1
    # Full numbers are never typed into a URL (the leak checker would fail this test); the
    # parts that are stored in clear, masked, are not searchable either.
    number, phone = side.national_ids[0], side.phones[0]
    for term in (applicant.national_id_masked, number[-4:], applicant.phone_masked, phone[-4:]):
        assert api.get("/api/v1/applicants/", {"search": term}).json()["count"] == 0
        page = client.get(reverse("recruitment:applicant-list"), {"q": term})
        assert applicant.national_id_masked not in _without_input_values(page.content.decode())


# --- Downloads --------------------------------------------------------------------------------

# The import template's example row: the standard's published sample ID number and a
# well-known service number, not anybody's data.
TEMPLATE_SAMPLES = {VALID_ID, "13800138000"}


def _downloads(world) -> list[str]:
    side = world.sides["A"]
    trip, batch = side.trips[0], side.batch
    return [
        reverse("recruitment:applicant-export"),
        reverse("recruitment:applicant-export") + "?format=xlsx",
        reverse("recruitment:import-errors", args=[batch.pk]),
        reverse("recruitment:import-errors", args=[batch.pk]) + "?format=xlsx",
        reverse("recruitment:import-template"),
        reverse("recruitment:import-template") + "?format=csv",
        reverse("transport:trip-manifest-csv", args=[trip.pk]),
        reverse("transport:trip-manifest-xlsx", args=[trip.pk]),
        reverse("transport:statistics-export"),
    ]


def test_downloads_hold_only_masked_numbers_for_every_role(world):
    side = world.sides["A"]
    masked = {a.national_id_masked for a in side.applicants}
    served = {}
    for role in ROLES:
        client = client_for(side, role)
        for url in _downloads(world):
            response = client.get(url)
            if response.status_code != 200:
                continue
            text = body_text(response)
            found = set(leakcheck.find_personal_data(text)) - TEMPLATE_SAMPLES
            assert not found, f"{role} {url}: full numbers in the download"
            if masked & set(re.findall(r"\d{4}\*+\d{3}[\dX]", text)):
                served.setdefault(url.split("?")[0], set()).add(role)
    # the downloads did hold rows: applicants for the bureaus, the manifest for its readers
    assert {"exporting_officer"} <= served[reverse("recruitment:applicant-export")]
    manifest = served[reverse("transport:trip-manifest-csv", args=[side.trips[0].pk])]
    assert {"importing_officer", "exporting_officer"} <= manifest
