"""Bad uploads on the import page: too big, truncated or damaged XLSX, zip bombs (by size,
by row number, by row width), CSV in an unknown encoding or binary garbage, an extension
that lies about the content. Each is refused with a clear message in the reader's language,
nothing is stored (no batch, no applicant), and a bomb is refused from the archive's
declared sizes and a streamed scan, before openpyxl parses anything."""

from __future__ import annotations

import io
import os
import random
import tracemalloc
import zipfile

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from recruitment import imports
from recruitment.imports import UPLOAD_MESSAGES, UploadRefused, import_check
from recruitment.models import Applicant, ImportBatch
from tests.recruitment.import_files import csv_bytes, row, upload, xlsx_bytes

LANGUAGES = ("en", "zh-hans")


@pytest.fixture
def officer_client(client, sichuan_officer):
    client.force_login(sichuan_officer)
    return client


@pytest.fixture
def openpyxl_must_not_parse(monkeypatch):
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened a file that should have been refused first")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def message(key: str, language: str, **params) -> str:
    with translation.override(language):
        text = str(UPLOAD_MESSAGES[key])
    return text % params if params else text


def assert_refused_on_the_page(client, content: bytes, name: str, key: str, **params) -> None:
    """400 with the message in English and in Chinese (translated, not the English text),
    and nothing stored."""
    applicants = Applicant.objects.count()
    for language in LANGUAGES:
        response = client.post(
            reverse("recruitment:import-new"),
            {"file": upload(content, name)},
            headers={"Accept-Language": language},
        )
        assert response.status_code == 400
        assert escape(message(key, language, **params)) in response.content.decode()
    assert message(key, "zh-hans", **params) != message(key, "en", **params)
    assert ImportBatch.objects.count() == 0
    assert Applicant.objects.count() == applicants


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook (openpyxl's) whose first sheet's XML is replaced."""
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row()])))
    return _zip(
        {
            info.filename: sheet_xml
            if info.filename == "xl/worksheets/sheet1.xml"
            else original.read(info.filename)
            for info in original.infolist()
        }
    )


SHEET_START = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7\xe7\xa0\x81'
    b'</t></is></c><c r="C1" t="inlineStr"><is><t>\xe6\x89\x8b\xe6\x9c\xba\xe5\x8f\xb7\xe7\xa0'
    b"\x81</t></is></c></row>"
)
SHEET_END = b"</sheetData></worksheet>"


# --- Size -----------------------------------------------------------------------------------


def test_file_over_the_configured_limit_is_refused_on_the_page(officer_client):
    limit = imports.MAX_FILE_BYTES
    too_big = csv_bytes([row()]) + b"#" * (limit + 1)
    assert_refused_on_the_page(
        officer_client, too_big, "big.csv", "too_big", max=limit // (1024 * 1024)
    )


class _HugeUpload:
    """An upload that says it is 5 GB and must not be read at all."""

    name = "huge.csv"
    size = 5 * 1024**3

    def read(self, *args):
        raise AssertionError("an upload over the limit was read")


def test_an_upload_over_the_limit_is_refused_without_being_read(sichuan_officer):
    with pytest.raises(UploadRefused) as refused:
        import_check(actor=sichuan_officer, upload=_HugeUpload())
    assert refused.value.code == "too_big"
    assert ImportBatch.objects.count() == 0


# --- Damaged and lying files ----------------------------------------------------------------


def _flip_middle(content: bytes) -> bytes:
    middle = len(content) // 2
    return (
        content[:middle]
        + bytes(b ^ 0xFF for b in content[middle : middle + 64])
        + (content[middle + 64 :])
    )


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        # an XLSX cut off in transfer: no central directory
        ("cut.xlsx", xlsx_bytes([row()])[:1500], "unreadable"),
        # an XLSX damaged in the middle: a member fails its CRC
        ("damaged.xlsx", _flip_middle(xlsx_bytes([row(), row(), row()])), "unreadable"),
        # the extension lies: CSV text named .xlsx, an XLSX (zip) named .csv, an old binary
        # Excel file (OLE2) named .xlsx, a PNG named .csv
        ("applicants.xlsx", csv_bytes([row()]), "unreadable"),
        ("applicants.csv", xlsx_bytes([row()]), "unreadable"),
        ("applicants.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "unreadable"),
        ("applicants.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(512), "unreadable"),
        # binary garbage without a NUL byte, and Latin-1 text: neither UTF-8 nor GB18030
        ("garbage.csv", random.Random(7).randbytes(4096).replace(b"\x00", b"\x01"), "encoding"),
        ("latin1.csv", "Nom,Numéro\nÉlodie,1\n".encode("latin-1") + b"\x80\xff", "encoding"),
    ],
    ids=[
        "truncated",
        "damaged",
        "csv-as-xlsx",
        "xlsx-as-csv",
        "xls-as-xlsx",
        "png-as-csv",
        "garbage",
        "latin-1",
    ],
)
def test_damaged_or_mislabelled_file_is_refused_with_a_clear_message(
    officer_client, name, content, key
):
    assert_refused_on_the_page(officer_client, content, name, key)


# --- Zip bombs ------------------------------------------------------------------------------


def test_zip_bomb_is_refused_from_declared_sizes_in_bounded_memory(
    officer_client, sichuan_officer, openpyxl_must_not_parse
):
    """A 250 kB upload whose sheet inflates to 256 MB."""
    bomb = _with_sheet(SHEET_START + b" " * (256 * 1024 * 1024) + SHEET_END)
    assert len(bomb) < 400 * 1024
    assert_refused_on_the_page(officer_client, bomb, "bomb.xlsx", "zip_bomb")

    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused):
            import_check(actor=sichuan_officer, upload=upload(bomb, "bomb.xlsx"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # nothing near the 256 MB the archive would expand to


def test_sheet_with_a_row_numbered_beyond_excels_last_row_is_refused(
    officer_client, openpyxl_must_not_parse
):
    """openpyxl would fill the gap with blank rows: a row numbered in the billions keeps a
    worker busy for hours, from a 3 kB file."""
    data_row = b'<row r="2000000000"><c t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = _with_sheet(SHEET_START + data_row + SHEET_END)
    assert len(bomb) < 8 * 1024
    assert_refused_on_the_page(officer_client, bomb, "rows.xlsx", "zip_bomb")


def test_sheet_with_a_row_of_more_cells_than_excel_has_columns_is_refused(
    officer_client, openpyxl_must_not_parse
):
    """openpyxl holds a whole row in memory: a million cells in one row take gigabytes.
    Random values keep the compression ratio ordinary, so only the width gives it away."""
    rng = random.Random(11)
    cells = b"".join(b"<c><v>%d</v></c>" % rng.randrange(10**9) for _ in range(20_000))
    bomb = _with_sheet(SHEET_START + b'<row r="2">' + cells + b"</row>" + SHEET_END)
    assert_refused_on_the_page(officer_client, bomb, "wide.xlsx", "zip_bomb")


def test_namespace_prefixes_do_not_hide_a_wide_row(sichuan_officer, openpyxl_must_not_parse):
    cells = b"<x:c><x:v>1</x:v></x:c>" * (imports.XLSX_MAX_CELLS_PER_ROW + 1)
    sheet = SHEET_START.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=") + (
        b'<x:row r="2">' + cells + b"</x:row>" + SHEET_END
    )
    with pytest.raises(UploadRefused) as refused:
        import_check(actor=sichuan_officer, upload=upload(_with_sheet(sheet), "ns.xlsx"))
    assert refused.value.code == "zip_bomb"


def test_a_sheet_at_excels_limits_is_still_read(sichuan_officer):
    """The guards refuse only what Excel itself could not hold: the last row and a row of
    XLSX_MAX_CELLS_PER_ROW cells pass the scan."""
    last = imports.XLSX_MAX_ROW
    full_row = b"<c><v>1</v></c>" * (imports.XLSX_MAX_CELLS_PER_ROW - 1)
    sheet = (
        SHEET_START
        + b'<row r="3">'
        + full_row
        + b"</row>"
        + (b'<row r="%d"><c t="inlineStr"><is><t>x</t></is></c></row>' % last)
        + SHEET_END
    )
    imports.check_xlsx_sheets(_with_sheet(sheet))
