"""The dry run (`imports.import_check`): every bad row reported with its row number and a
reason in the reader's language, nothing written; whole-file refusals store nothing."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date

import pytest
from django.utils import translation

from laborlink import personal_data
from laborlink.errors import Forbidden
from laborlink.models import Organization
from recruitment import imports
from recruitment.imports import UploadRefused, import_check
from recruitment.models import Applicant, ImportBatch
from recruitment.registry import clean_applicant
from recruitment.services import NATIONAL_ID_CONTEXT, _applicant_row_values
from tests.factories import OrganizationFactory, UserFactory, make_applicant, national_id_for
from tests.factories import province as province_of
from tests.recruitment.import_files import (
    HEADER,
    csv_bytes,
    csv_upload,
    row,
    upload,
    xlsx_bytes,
)


def _messages(batch: ImportBatch, language: str) -> dict[int, list[str]]:
    with translation.override(language):
        found: dict[int, list[str]] = {}
        for entry in batch.errors:
            found.setdefault(entry["row"], []).append(imports.error_message(entry))
        return found


def test_dry_run_reports_every_bad_row_with_its_row_number_and_writes_nothing(sichuan_officer):
    rows = [
        row(),
        row(national_id="510104199003071230"),  # row 3: wrong check digit
        row(phone="12345"),  # row 4
        row(),
        row(skills="宇航员"),  # row 6
        row(name="", available_from="下个月"),  # row 7: two errors
    ]
    batch = import_check(actor=sichuan_officer, upload=csv_upload(rows))

    assert batch.status == ImportBatch.Status.INVALID
    assert (batch.total_rows, batch.error_rows) == (6, 4)
    assert [(e["row"], e["key"]) for e in batch.errors] == [
        (3, "national_id.checksum"),
        (4, "phone.invalid"),
        (6, "skills.unknown"),
        (7, "name.required"),
        (7, "available_from.invalid"),
    ]
    english = _messages(batch, "en")
    assert english[3] == ["The check digit is wrong: please compare the number with the ID card."]
    assert english[6] == ["Unknown occupation: 宇航员."]
    assert Applicant.objects.count() == 0
    assert batch.content is None  # a file with errors is never imported: not kept


def test_reasons_are_rendered_in_the_readers_language(sichuan_officer):
    batch = import_check(
        actor=sichuan_officer,
        upload=csv_upload([row(), row(national_id="510104199003071230")]),
    )
    assert _messages(batch, "zh-hans")[3] == ["身份证号码校验位不正确，请与身份证原件核对。"]
    assert _messages(batch, "en")[3] == [
        "The check digit is wrong: please compare the number with the ID card."
    ]


def test_error_entries_say_who_the_row_is_with_the_id_number_masked(sichuan_officer):
    number = national_id_for("510104")
    batch = import_check(
        actor=sichuan_officer, upload=csv_upload([row(name="王芳", national_id=number, phone="1")])
    )
    entry = batch.errors[0]
    assert entry["name"] == "王芳"
    assert entry["id_masked"] == number[:4] + "**********" + number[-4:]
    assert number not in str(batch.errors)


def test_clean_file_is_checked_and_kept_for_the_import_without_writing(sichuan_officer):
    content = csv_bytes([row(), row(), row()])
    batch = import_check(actor=sichuan_officer, upload=upload(content))

    assert batch.status == ImportBatch.Status.CHECKED
    assert (batch.total_rows, batch.error_rows, batch.unchanged_count) == (3, 0, 0)
    # kept encrypted for the import
    assert (
        personal_data.decrypt_bytes(
            bytes(batch.content), context=imports.upload_context(batch.file_sha256)
        )
        == content
    )
    assert batch.file_format == "csv" and batch.file_size == len(content)
    assert len(batch.file_sha256) == 64
    assert Applicant.objects.count() == 0


def test_same_id_number_twice_in_the_file_is_an_error_on_the_later_row(sichuan_officer):
    number = national_id_for("510104")
    rows = [row(national_id=number), row(), row(national_id=number.lower() + " ")]
    batch = import_check(actor=sichuan_officer, upload=csv_upload(rows))

    assert [(e["row"], e["key"], e["params"]) for e in batch.errors] == [
        (4, "national_id.duplicate_in_file", {"row": 2})
    ]
    with translation.override("en"):
        assert imports.error_message(batch.errors[0]) == "The same ID number is already on row 2."


def _register_elsewhere(number: str, bureau: Organization, officer) -> None:
    """A Sichuan person on the Guizhou bureau's books (say, from its former system)."""
    data, errors = clean_applicant(
        {"name": "赵六", "national_id": number, "phone": "13900001111"},
        bureau_province="51",
        today=date(2026, 1, 1),
    )
    assert not errors
    Applicant.objects.create(
        registering_bureau=bureau, registered_by=officer, **_applicant_row_values(data)
    )


def test_person_registered_by_the_guizhou_bureau_is_an_error_naming_that_bureau(
    sichuan_officer, guizhou_officer
):
    number = national_id_for("510104")
    _register_elsewhere(number, guizhou_officer.organization, guizhou_officer)

    batch = import_check(actor=sichuan_officer, upload=csv_upload([row(), row(national_id=number)]))

    assert batch.status == ImportBatch.Status.INVALID
    assert [(e["row"], e["key"]) for e in batch.errors] == [(3, "national_id.registered_elsewhere")]
    with translation.override("en"):
        assert imports.error_message(batch.errors[0]) == (
            "This person is already registered by 贵州省人力资源和社会保障厅 (贵州省)."
        )


def test_city_bureau_is_told_that_its_province_registered_the_person(guizhou_officer):
    """A city bureau's registry is its own: the provincial bureau's record is elsewhere."""
    registered = make_applicant(guizhou_officer)
    city = OrganizationFactory(
        name="黔东南州人力资源和社会保障局",
        province=province_of("52"),
        level=Organization.Level.CITY,
    )
    city_officer = UserFactory(organization=city)
    number = personal_data.decrypt(registered.national_id_encrypted, context=NATIONAL_ID_CONTEXT)
    batch = import_check(
        actor=city_officer, upload=csv_upload([row(national_id=number, phone="13700001111")])
    )
    assert batch.errors[0]["key"] == "national_id.registered_elsewhere"
    assert batch.errors[0]["params"]["bureau"] == "贵州省人力资源和社会保障厅"


def test_people_the_bureau_registered_already_count_as_unchanged(sichuan_officer):
    registered = make_applicant(sichuan_officer)
    number = personal_data.decrypt(registered.national_id_encrypted, context=NATIONAL_ID_CONTEXT)
    batch = import_check(actor=sichuan_officer, upload=csv_upload([row(national_id=number), row()]))
    assert batch.status == ImportBatch.Status.CHECKED
    assert batch.unchanged_count == 1


def test_csv_saved_by_chinese_excel_in_gb18030_is_read(sichuan_officer):
    content = csv_bytes(
        [row(name="欧阳娜娜", skills="welder", notes="愿意倒班")], encoding="gb18030"
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    batch = import_check(actor=sichuan_officer, upload=upload(content))
    assert batch.status == ImportBatch.Status.CHECKED, batch.errors
    assert batch.total_rows == 1


def test_excel_unicode_text_export_utf16_with_tabs_is_read(sichuan_officer):
    lines = ["\t".join(HEADER), "\t".join(str(v) for v in row(name="欧阳娜娜").values())]
    content = "\r\n".join(lines).encode("utf-16")
    batch = import_check(actor=sichuan_officer, upload=upload(content, "名单.csv"))
    assert batch.status == ImportBatch.Status.CHECKED, batch.errors


def test_title_row_above_the_header_is_skipped_and_row_numbers_stay_the_sheets(
    sichuan_officer,
):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["四川省劳务输出人员名单（第一批）"])
    writer.writerow(HEADER)
    writer.writerow(list(row().values()))
    writer.writerow(list(row(phone="1").values()))
    batch = import_check(
        actor=sichuan_officer, upload=upload(buffer.getvalue().encode("utf-8-sig"))
    )
    assert batch.total_rows == 2
    assert [e["row"] for e in batch.errors] == [4]


def test_english_field_names_are_accepted_as_headers(sichuan_officer):
    content = csv_bytes([row()], header=[name for name, _h in imports.COLUMNS])
    batch = import_check(actor=sichuan_officer, upload=upload(content))
    assert batch.status == ImportBatch.Status.CHECKED


def test_values_outside_the_columns_are_reported(sichuan_officer):
    content = csv_bytes([row()]) + "张三,多余的值".encode() + b"," * 9 + b"extra\r\n"
    batch = import_check(actor=sichuan_officer, upload=upload(content))
    assert ("row.columns", 3) in [(e["key"], e["row"]) for e in batch.errors]


def test_xlsx_with_numbers_and_dates_in_cells_is_read(sichuan_officer):
    rows = [row(phone=13800000001, minimum_wage=4500, available_from=date(2027, 1, 15))]
    batch = import_check(actor=sichuan_officer, upload=upload(xlsx_bytes(rows), "名单.xlsx"))
    assert batch.status == ImportBatch.Status.CHECKED, batch.errors
    assert (batch.file_format, batch.file_name) == ("xlsx", "名单.xlsx")


def test_xlsx_id_number_typed_as_a_number_is_refused_by_its_check_digit(sichuan_officer):
    number = national_id_for("510104")
    content = xlsx_bytes([row(national_id=float(number[:17] + "0"))])
    batch = import_check(actor=sichuan_officer, upload=upload(content, "a.xlsx"))
    assert batch.status == ImportBatch.Status.INVALID


# --- Whole-file refusals: form errors, nothing stored -----------------------------------------


def _refused(officer, file) -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        import_check(actor=officer, upload=file)
    assert ImportBatch.objects.count() == 0
    assert info.value.field == "file"
    return info.value


def test_file_over_the_size_limit_is_refused(sichuan_officer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1024)
    content = csv_bytes([row() for _ in range(20)])
    assert len(content) > 1024
    assert _refused(sichuan_officer, upload(content)).code == "too_big"


def test_other_extensions_are_refused(sichuan_officer):
    assert _refused(sichuan_officer, upload(csv_bytes([row()]), "a.xls")).code == "extension"
    assert _refused(sichuan_officer, upload(b"x", "a.txt")).code == "extension"


def test_empty_file_and_header_only_file_are_refused(sichuan_officer):
    assert _refused(sichuan_officer, upload(b"", "a.csv")).code == "empty"
    assert _refused(sichuan_officer, upload(csv_bytes([]))).code == "no_rows"


def test_file_that_is_not_a_spreadsheet_is_refused(sichuan_officer):
    assert _refused(sichuan_officer, upload(b"\x89PNG\r\n\x1a\n" + bytes(200), "a.xlsx")).code == (
        "unreadable"
    )
    assert _refused(sichuan_officer, upload(b"\x00\x01\x02binary", "a.csv")).code == "unreadable"
    renamed = xlsx_bytes([row()])
    assert _refused(sichuan_officer, upload(renamed, "a.csv")).code == "unreadable"


def test_missing_and_unknown_columns_are_refused(sichuan_officer):
    missing = csv_bytes([], header=["姓名", "身份证号码", "备注"]) + "张三,1,x\n".encode()
    error = _refused(sichuan_officer, upload(missing))
    assert error.code == "missing_columns"
    with translation.override("en"):
        assert "手机号码" in str(error.message)
    unknown = csv_bytes([row()], header=[*HEADER[:-1], "婚姻状况"])
    assert _refused(sichuan_officer, upload(unknown)).code == "unknown_columns"


def test_usual_extra_columns_such_as_a_sequence_number_are_ignored(sichuan_officer):
    content = (
        csv_bytes([], header=["序号", *HEADER])
        + ("1," + ",".join(str(v) for v in row().values()) + "\n").encode()
    )
    batch = import_check(actor=sichuan_officer, upload=upload(content))
    assert batch.status == ImportBatch.Status.CHECKED, batch.errors


def test_file_with_more_rows_than_the_limit_is_refused(sichuan_officer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    assert _refused(sichuan_officer, csv_upload([row() for _ in range(4)])).code == (
        "too_many_rows"
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def openpyxl_must_not_parse(monkeypatch):
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened a file that should have been refused first")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_zip_bomb_is_refused_before_openpyxl_parses_it(sichuan_officer, openpyxl_must_not_parse):
    bomb = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<sheetData>" + b" " * (60 * 1024 * 1024),
        }
    )
    assert len(bomb) < 200 * 1024  # small on the wire
    assert _refused(sichuan_officer, upload(bomb, "bomb.xlsx")).code == "zip_bomb"


def test_xlsx_expanding_beyond_the_total_limit_is_refused(
    sichuan_officer, openpyxl_must_not_parse, monkeypatch
):
    monkeypatch.setattr(imports, "MAX_XLSX_UNCOMPRESSED", 10_000)
    archive = _zip({"xl/workbook.xml": b"<workbook/>", "xl/a.xml": bytes(range(256)) * 60})
    assert _refused(sichuan_officer, upload(archive, "a.xlsx")).code == "zip_bomb"


def test_xlsx_with_too_many_members_is_refused(
    sichuan_officer, openpyxl_must_not_parse, monkeypatch
):
    monkeypatch.setattr(imports, "MAX_XLSX_MEMBERS", 5)
    archive = _zip({f"xl/m{i}.xml": b"<x/>" for i in range(6)})
    assert _refused(sichuan_officer, upload(archive, "a.xlsx")).code == "zip_bomb"


def test_only_a_bureau_officer_may_check_a_file(hr_officer):
    with pytest.raises(Forbidden):
        import_check(actor=hr_officer, upload=csv_upload([row()]))
    assert ImportBatch.objects.count() == 0


def test_xlsx_whose_shared_strings_alone_are_too_large_is_refused(
    sichuan_officer, openpyxl_must_not_parse, monkeypatch
):
    # openpyxl keeps every shared string in memory: that part has its own cap, even when it
    # compresses no better than ordinary text.
    monkeypatch.setattr(imports, "MAX_XLSX_SHARED_STRINGS", 100_000)
    text = os.urandom(80_000).hex().encode()  # 160 kB, compresses about 2:1
    archive = _zip({"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": text})
    assert _refused(sichuan_officer, upload(archive, "a.xlsx")).code == "zip_bomb"
