"""Formula injection: text that a spreadsheet would run (`=…`, `+…`, `-…`, `@…`, also behind
control characters) reaches every CSV and XLSX export escaped with a leading `'`, through
the one shared function (recruitment.exports.spreadsheet_safe). In XLSX, openpyxl stores
any text starting with `=` as a formula: every cell must load as a string (data type "s").

The names are stored directly (as an admin edit or old data could), past the registration
rules that refuse symbols in a person's name."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from laborlink.models import Organization, Province
from recruitment import imports
from recruitment.exports import FORMULA_PREFIXES, spreadsheet_safe, xlsx_bytes
from recruitment.models import Applicant, JobPosting
from tests.recruitment.import_files import csv_bytes, row, upload

HYPERLINK = '=HYPERLINK("http://x","y")'
PAYLOADS = {
    "employer": HYPERLINK,
    "title": "+1+1",
    "applicant": "@SUM(A1)",
    "hidden": "\x01=1+1",  # a control character a reader drops, then a formula
    "bureau": "-2+3",
    "province": "＝1+1",  # full-width: Excel and WPS read it as a formula too
}
_CONTROL = re.compile(r"^[\x00-\x08\x0b\x0c\x0e-\x1f]+")


def _dangerous(text: str) -> bool:
    return _CONTROL.sub("", text).startswith(FORMULA_PREFIXES)


def csv_cells(body: bytes) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in line]


def xlsx_cells(body: bytes) -> list:
    workbook = load_workbook(io.BytesIO(body))  # not data_only: formulas would show as such
    return [cell for sheet in workbook.worksheets for r in sheet.iter_rows() for cell in r]


def assert_csv_neutralised(body: bytes, expected: list[str]) -> None:
    cells = csv_cells(body)
    assert not [c for c in cells if _dangerous(c)], "a cell would run as a formula"
    for text in expected:
        assert "'" + text in cells, f"{text!r} missing from the export"


def assert_xlsx_neutralised(body: bytes, expected: list[str]) -> None:
    cells = xlsx_cells(body)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if c.data_type == "s"]
    assert not [t for t in texts if _dangerous(t)]
    for text in expected:
        escaped = "'" + re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
        assert escaped in texts, f"{text!r} missing from the export"


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    content = getattr(response, "streaming_content", None)
    return b"".join(content) if content is not None else response.content


@pytest.fixture
def poisoned(departed, hr_officer, sichuan_bureau):  # the transport cast, renamed
    employer = hr_officer.organization
    Organization.objects.filter(pk=employer.pk).update(name=PAYLOADS["employer"])
    Organization.objects.filter(pk=sichuan_bureau.pk).update(name=PAYLOADS["bureau"])
    JobPosting.objects.filter(employer=employer).update(title=PAYLOADS["title"])
    applicants = list(Applicant.objects.order_by("pk"))
    Applicant.objects.filter(pk=applicants[0].pk).update(name=PAYLOADS["applicant"])
    Applicant.objects.filter(pk=applicants[1].pk).update(name=PAYLOADS["hidden"])
    Province.objects.filter(code="51").update(name_zh=PAYLOADS["province"])
    return departed


def test_shared_function_escapes_every_payload():
    for text in PAYLOADS.values():
        assert spreadsheet_safe(text) == "'" + text
    assert [c.data_type for c in xlsx_cells(xlsx_bytes(["h"], [[t] for t in PAYLOADS.values()]))][
        1:
    ] == ["s"] * len(PAYLOADS)


def test_applicant_export_neutralises_names_and_bureau(client, poisoned, sichuan_officer):
    client.force_login(sichuan_officer)
    url = reverse("recruitment:applicant-export")
    expected = [PAYLOADS["applicant"], PAYLOADS["bureau"]]
    assert_csv_neutralised(_download(client, url), [*expected, PAYLOADS["hidden"]])
    assert_xlsx_neutralised(
        _download(client, f"{url}?format=xlsx"), [*expected, PAYLOADS["hidden"]]
    )


def test_manifest_neutralises_names_employer_and_title(client, poisoned, zhejiang_officer):
    client.force_login(zhejiang_officer)
    expected = [PAYLOADS["applicant"], PAYLOADS["employer"], PAYLOADS["title"], PAYLOADS["hidden"]]
    csv_body = _download(client, reverse("transport:trip-manifest-csv", args=[poisoned.pk]))
    assert_csv_neutralised(csv_body, expected)
    xlsx_body = _download(client, reverse("transport:trip-manifest-xlsx", args=[poisoned.pk]))
    assert_xlsx_neutralised(xlsx_body, expected)


def test_statistics_export_neutralises_province_names(client, poisoned, zhejiang_officer):
    client.force_login(zhejiang_officer)
    body = _download(client, reverse("transport:statistics-export"))
    assert_xlsx_neutralised(body, [PAYLOADS["province"]])


def test_import_error_report_neutralises_names_from_the_file(client, sichuan_officer):
    batch = imports.import_check(
        actor=sichuan_officer,
        upload=upload(csv_bytes([row(name=HYPERLINK), row(name="+1+1", phone="1")])),
    )
    client.force_login(sichuan_officer)
    url = reverse("recruitment:import-errors", args=[batch.pk])
    assert_csv_neutralised(_download(client, url), [HYPERLINK, "+1+1"])
    assert_xlsx_neutralised(_download(client, f"{url}?format=xlsx"), [HYPERLINK, "+1+1"])
