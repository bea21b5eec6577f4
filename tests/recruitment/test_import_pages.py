"""The import pages: upload and dry run, report, start and progress, downloads, access."""

from __future__ import annotations

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from recruitment import imports
from recruitment.models import Applicant, ImportBatch
from tests.recruitment.import_files import HEADER, csv_bytes, row, upload

Status = ImportBatch.Status
FORMULA = '=HYPERLINK("http://evil.example","点此领取补贴")'


@pytest.fixture
def officer_client(client, sichuan_officer):
    client.force_login(sichuan_officer)
    return client


def _post_file(client, content: bytes, name: str = "applicants.csv", language: str = "en"):
    return client.post(
        reverse("recruitment:import-new"),
        {"file": upload(content, name)},
        headers={"Accept-Language": language},
    )


def _batch(sichuan_officer, rows) -> ImportBatch:
    return imports.import_check(actor=sichuan_officer, upload=upload(csv_bytes(rows)))


def test_pages_ask_anonymous_visitors_to_log_in(client, sichuan_officer):
    batch = _batch(sichuan_officer, [row()])
    for url in (
        reverse("recruitment:import-list"),
        reverse("recruitment:import-new"),
        reverse("recruitment:import-template"),
        reverse("recruitment:import-detail", args=[batch.pk]),
        reverse("recruitment:import-progress", args=[batch.pk]),
        reverse("recruitment:import-errors", args=[batch.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_pages_are_for_bureau_officers_only(client, hr_officer):
    client.force_login(hr_officer)
    for name in ("import-list", "import-new", "import-template"):
        assert client.get(reverse(f"recruitment:{name}")).status_code == 404


def test_upload_runs_the_dry_run_and_the_report_lists_every_bad_row(officer_client):
    content = csv_bytes(
        [row(), row(national_id="510104199003071230"), row(phone="12345"), row(name=FORMULA)]
    )
    response = _post_file(officer_client, content)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recruitment:import-detail", args=[batch.pk])

    page = officer_client.get(response["Location"], headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert batch.status == Status.INVALID and Applicant.objects.count() == 0
    table = html[html.index('data-testid="error-table"') :]
    assert re.findall(r"<tr><td>(\d+)</td>", table) == ["3", "4", "5"]
    assert "The check digit is wrong: please compare the number with the ID card." in table
    assert "A mobile phone number is 11 digits starting with 13 to 19." in table
    assert "身份证号码" in table and "手机号码" in table  # the column, as in the template
    assert 'data-testid="start"' not in html
    assert reverse("recruitment:import-errors", args=[batch.pk]) in html


def test_report_is_shown_in_chinese_to_a_chinese_reader(officer_client):
    _post_file(officer_client, csv_bytes([row(national_id="510104199003071230")]))
    batch = ImportBatch.objects.get()
    page = officer_client.get(
        reverse("recruitment:import-detail", args=[batch.pk]),
        headers={"Accept-Language": "zh-hans"},
    )
    assert "身份证号码校验位不正确，请与身份证原件核对。" in page.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.xls", b"whatever", "Upload a .csv or .xlsx file"),
        ("a.csv", b"", "The submitted file is empty."),  # Django's own check
        ("a.csv", "姓名,身份证号码\n张三,1\n".encode(), "Columns missing: 手机号码."),
        ("a.xlsx", b"not a zip at all", "cannot be read as a CSV or XLSX"),
        ("a.csv", "\t".join(HEADER).encode() + b"\n", "no applicant rows"),
    ],
)
def test_refused_uploads_are_form_errors_and_nothing_is_stored(
    officer_client, name, content, message
):
    response = _post_file(officer_client, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_zip_bomb_upload_is_a_form_error(officer_client):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + bytes(40 * 1024 * 1024))
    response = _post_file(officer_client, buffer.getvalue(), "bomb.xlsx")
    assert response.status_code == 400
    assert "would expand to too much data" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_too_big_upload_is_a_form_error(officer_client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    response = _post_file(officer_client, b"x" * (3 * 1024 * 1024))
    assert response.status_code == 400
    assert "larger than 2 MB" in response.content.decode()


def test_clean_file_offers_the_import_and_starting_queues_it(
    officer_client, sichuan_officer, django_capture_on_commit_callbacks, monkeypatch
):
    from recruitment import tasks

    sent = []
    monkeypatch.setattr(
        tasks.import_batch, "apply_async", lambda *a, **k: sent.append(k["task_id"])
    )
    batch = _batch(sichuan_officer, [row(), row()])
    detail = reverse("recruitment:import-detail", args=[batch.pk])
    html = officer_client.get(detail, headers={"Accept-Language": "en"}).content.decode()
    assert "Import 2 applicants" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("recruitment:import-start", args=[batch.pk]))
    assert response.status_code == 302 and response["Location"] == detail
    batch.refresh_from_db()
    assert batch.status == Status.QUEUED and sent == [batch.task_id]

    html = officer_client.get(detail, headers={"Accept-Language": "en"}).content.decode()
    assert 'data-testid="import-progress"' in html
    assert 'data-testid="refresh"' in html  # works without the script
    assert "js/imports.js" in html
    assert 'data-testid="start"' not in html


def test_start_button_does_nothing_for_a_file_with_errors(officer_client, sichuan_officer):
    batch = _batch(sichuan_officer, [row(phone="1")])
    response = officer_client.post(reverse("recruitment:import-start", args=[batch.pk]))
    assert response.status_code == 302
    assert ImportBatch.objects.get(pk=batch.pk).status == Status.INVALID


def test_progress_endpoint_answers_json_for_the_polling_script(officer_client, sichuan_officer):
    batch = _batch(sichuan_officer, [row(), row()])
    imports.import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    url = reverse("recruitment:import-progress", args=[batch.pk])

    queued = officer_client.get(url).json()
    assert queued["status"] == "queued" and (queued["done"], queued["total"]) == (0, 2)

    imports.import_run(batch.pk)
    done = officer_client.get(url).json()
    assert {k: done[k] for k in ("status", "done", "total", "created", "unchanged", "errors")} == {
        "status": "done",
        "done": 2,
        "total": 2,
        "created": 2,
        "unchanged": 0,
        "errors": 0,
    }
    assert done["percent"] == 100


def test_error_report_downloads_escape_formulas(officer_client, sichuan_officer):
    batch = _batch(sichuan_officer, [row(name=FORMULA), row(phone="1")])
    url = reverse("recruitment:import-errors", args=[batch.pk])

    response = officer_client.get(url, headers={"Accept-Language": "en"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "Row,Name,ID number,Column,Reason"
    assert '"\'=HYPERLINK(""http://evil.example"",""点此领取补贴"")"' in text
    assert "A name cannot contain digits or symbols." in text

    response = officer_client.get(url + "?format=xlsx", headers={"Accept-Language": "en"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in r] for r in sheet.iter_rows()]
    assert values[0] == ["Row", "Name", "ID number", "Column", "Reason"]
    assert values[1][:2] == [2, "'" + FORMULA]
    assert values[2][0] == 3
    assert all(re.fullmatch(r"\d{4}\*{10}\w{4}", r[2]) for r in values[1:])  # masked only


def test_blank_templates_have_the_chinese_headers_and_an_example_row(officer_client):
    response = officer_client.get(reverse("recruitment:import-template"))
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["B2"].value == "11010519491231002X"
    assert sheet["I2"].value == "是"
    assert workbook.sheetnames[1] == "填写说明"
    notes = [r[0] for r in workbook.worksheets[1].iter_rows(values_only=True)]
    assert "welder" in [r[1] for r in workbook.worksheets[1].iter_rows(values_only=True)]
    assert "身份证号码" in notes

    response = officer_client.get(reverse("recruitment:import-template") + "?format=csv")
    text = b"".join(response.streaming_content)
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(HEADER)
    assert lines[1].startswith("张三,11010519491231002X,13800138000")


def test_the_example_row_left_in_by_mistake_is_refused(sichuan_officer):
    example = dict(zip(imports.FIELDS, imports.template_example_row(), strict=True))
    batch = _batch(sichuan_officer, [example])
    assert batch.status == Status.INVALID


def test_downloaded_template_filled_in_imports(officer_client, sichuan_officer):
    response = officer_client.get(reverse("recruitment:import-template"))
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    for index, values in enumerate([row(), row(phone="13912345678", consent="否")], start=2):
        for column, name in enumerate(imports.FIELDS, start=1):
            sheet.cell(row=index, column=column, value=values[name])
    filled = io.BytesIO()
    workbook.save(filled)

    assert _post_file(officer_client, filled.getvalue(), "填好的模板.xlsx").status_code == 302
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.total_rows) == (Status.CHECKED, 2), batch.errors
    imports.import_start(actor=sichuan_officer, batch=batch, enqueue=False)
    assert imports.import_run(batch.pk).created_count == 2


def test_another_bureaus_batch_is_not_found(client, sichuan_officer, guizhou_officer):
    batch = _batch(sichuan_officer, [row(phone="1")])
    client.force_login(guizhou_officer)
    for name in ("import-detail", "import-progress", "import-errors"):
        assert client.get(reverse(f"recruitment:{name}", args=[batch.pk])).status_code == 404
    assert client.post(reverse("recruitment:import-start", args=[batch.pk])).status_code == 404
    listing = client.get(reverse("recruitment:import-list")).content.decode()
    assert batch.file_name not in listing


def test_import_list_shows_my_batches_with_their_status(officer_client, sichuan_officer):
    _batch(sichuan_officer, [row()])
    _batch(sichuan_officer, [row(phone="1")])
    html = officer_client.get(
        reverse("recruitment:import-list"), headers={"Accept-Language": "en"}
    ).content.decode()
    assert html.count('data-testid="status"') == 2
    assert "badge-checked" in html and "badge-invalid" in html


def _make_batches(officer, count: int) -> None:
    ImportBatch.objects.bulk_create(
        ImportBatch(
            bureau=officer.organization,
            uploaded_by=officer,
            file_name=f"f{i}.csv",
            file_format="csv",
            file_size=1,
            file_sha256="0" * 64,
            status=Status.DONE,
        )
        for i in range(count)
    )


def test_import_list_query_count_does_not_grow_with_batches(officer_client, sichuan_officer):
    url = reverse("recruitment:import-list")
    _make_batches(sichuan_officer, 2)
    with CaptureQueriesContext(connection) as few:
        assert officer_client.get(url).status_code == 200
    _make_batches(sichuan_officer, 10)
    with CaptureQueriesContext(connection) as many:
        assert officer_client.get(url).status_code == 200
    assert len(many) == len(few)
