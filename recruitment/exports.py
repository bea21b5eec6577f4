"""Spreadsheet downloads (CSV and XLSX) that cannot run formulae in the reader's Excel.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or the
full-width `＝＋－＠` that Excel and WPS also accept) is read as a formula: an uploaded name
such as `=HYPERLINK("http://…","click")` would become a live link in an error report or an
export. Every text cell goes through `spreadsheet_safe`, which prefixes a `'`, the usual
"this is text" mark (OWASP's advice for CSV injection).

`csv_response` writes UTF-8 with a byte-order mark, without which Excel opens Chinese text
as mojibake; `xlsx_response` uses openpyxl's write-only mode so that large exports stream
row by row instead of building the whole sheet in memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# Control characters a reader may drop (and that an XLSX cannot hold) before a formula.
_LEADING_CONTROL = re.compile(r"^[\x00-\x08\x0b\x0c\x0e-\x1f]+")


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet must store it: text that would start a formula (also
    behind control characters) gets a leading `'`; numbers, dates and None pass unchanged;
    other objects become text. The one escaping function of every CSV and XLSX export."""
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return value
    if not isinstance(value, str):
        value = str(value)
    if _LEADING_CONTROL.sub("", value).startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_cell(value: Any) -> Any:
    value = spreadsheet_safe(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else value


class _Echo:
    """A file whose write() returns what it was given, for csv.writer into a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    """The lines of a formula-safe CSV file, byte-order mark first."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([_csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([_csv_cell(cell) for cell in row])


def csv_response(
    filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download streamed row by row (`rows` may be a lazy iterator)."""
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(header, rows)),
        content_type=CSV_CONTENT_TYPE,
    )
    return attachment(response, filename)


def xlsx_cell(value: Any) -> Any:
    """A cell value for openpyxl: formula-safe text (openpyxl stores any text starting with
    `=` as a formula), control characters removed, Shanghai wall-clock times."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        # Control characters are not allowed in the XML of a sheet; openpyxl would refuse.
        # Removed first, so that "\x01=…" cannot turn into a formula once they are gone.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    value = spreadsheet_safe(value)
    if isinstance(value, datetime):
        # Excel has no time zones: write the Shanghai wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def sheet_title(text: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\ and no
    leading or trailing apostrophe."""
    return _SHEET_TITLE_FORBIDDEN.sub(" ", str(text)).strip("' ")[:31] or "Sheet"


def xlsx_bytes(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> bytes:
    """A one-sheet, formula-safe workbook."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title) if title else None)
    sheet.append([xlsx_cell(cell) for cell in header])
    for row in rows:
        sheet.append([xlsx_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(
    filename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
) -> HttpResponse:
    """An XLSX download of one sheet."""
    response = HttpResponse(xlsx_bytes(header, rows, title=title), content_type=XLSX_CONTENT_TYPE)
    return attachment(response, filename)
