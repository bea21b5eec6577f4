"""Bulk import of applicants from a CSV or XLSX file: read, check, write all or nothing.

The pipeline, shared by the dry run (`import_check`, in the request) and the real import
(`import_run`, in a Celery task):

1. the upload is refused before anything is stored if it is too big, not a .csv/.xlsx, an
   XLSX whose zip would expand to too much (checked with `zipfile` before openpyxl opens
   it), unreadable, without the template's columns, empty, or longer than MAX_ROWS;
2. every row goes through `registry.clean_applicant`, the code path of the form and the
   API, so a file accepts and refuses exactly what they do; an ID number twice in the file
   is an error on the later row;
3. existing registrations are looked up in bulk by blind index, a chunk of rows per query:
   the bureau's own (its `registry_scope`) count as unchanged, which makes re-importing a
   file harmless; anyone else's is an error naming the bureau;
4. the real import checks everything again and COPYs the prepared rows
   (`services._applicant_row_values`: encryption, blind indexes, masks) into the applicant
   table, chunk by chunk, in one transaction: every new applicant is written or none is.
   When the dry run found nobody registered already, the look-ups are skipped and the
   unique index on the blind index is the check; if it fires (someone registered one of
   them since), the transaction is rolled back and the import redone with look-ups.

Errors are stored as message keys and parameters (`FieldError.as_json()` plus the row
number, the name and the masked ID number) and rendered when read, in the reader's language.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import logging
import os
import re
import traceback
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink import outbox, personal_data
from laborlink.errors import Conflict, DomainError, NotFound
from laborlink.models import Organization, User
from recruitment.models import Applicant, ImportBatch
from recruitment.national_id import normalize_national_id
from recruitment.registry import ApplicantData, FieldError, clean_applicant
from recruitment.selectors import import_batches_visible_to, registry_scope
from recruitment.services import (
    _applicant_row_values,
    applicant_index,
    require_registry_officer,
)

logger = logging.getLogger(__name__)

Status = ImportBatch.Status

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# An XLSX is a zip of XML files; a "zip bomb" declares little and expands to gigabytes.
MAX_XLSX_UNCOMPRESSED = 150 * 1024 * 1024
# openpyxl holds every shared string in memory: this part alone is capped (a legitimate
# 200,000-row file of the template needs about 40 MB).
MAX_XLSX_SHARED_STRINGS = 50 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_XLSX_MEMBERS = 1_000
# Members this small cannot hurt whatever their ratio (a styles.xml full of repetition).
XLSX_RATIO_EXEMPT_BYTES = 1024 * 1024
# openpyxl builds a whole row in memory before anything can look at it, and fills the gap
# before a row numbered n with n blank rows: within the limits above, one row of millions
# of cells (gigabytes) or a row numbered in the billions (hours) is a few megabytes of
# upload. Excel's own limits bound both; the sheets are scanned for them before parsing.
XLSX_MAX_ROW = 1_048_576
XLSX_MAX_CELLS_PER_ROW = 16_384
# The report keeps this many errors (every bad row is still counted); a file that is wrong
# throughout is better fixed from the first ones than listed in full.
MAX_STORED_ERRORS = 20_000
PROGRESS_EVERY = 5_000
LOOKUP_CHUNK = 5_000
HEADER_SEARCH_ROWS = 5
PROGRESS_TIMEOUT = 24 * 3600

# The template's columns, in order: field name and the Chinese header the template shows.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("national_id", "身份证号码"),
    ("phone", "手机号码"),
    ("skills", "技能工种"),
    ("preferred_provinces", "意向省份"),
    ("minimum_wage", "最低月薪"),
    ("available_from", "可到岗日期"),
    ("key_groups", "重点群体"),
    ("consent", "同意跨省共享"),
    ("notes", "备注"),
)
FIELDS = tuple(name for name, _header in COLUMNS)
HEADERS = dict(COLUMNS)
REQUIRED_FIELDS = ("name", "national_id", "phone")
# Headers people write instead of the template's, as found in bureaus' own sheets.
HEADER_ALIASES = {
    "身份证号": "national_id",
    "身份证": "national_id",
    "公民身份号码": "national_id",
    "手机号": "phone",
    "手机": "phone",
    "联系电话": "phone",
    "技能": "skills",
    "工种": "skills",
    "意向地区": "preferred_provinces",
    "期望月薪": "minimum_wage",
    "到岗日期": "available_from",
    "同意共享": "consent",
}
# Columns bureaus' sheets often have that the registry derives or does not need: ignored.
IGNORED_HEADERS = ("序号", "编号", "性别", "出生日期", "年龄")

UPLOAD_MESSAGES: dict[str, Any] = {
    "extension": _("Upload a .csv or .xlsx file (save an .xls file as .xlsx first)."),
    "too_big": _("The file is larger than %(max)d MB; split it into smaller files."),
    "empty": _("The file is empty."),
    "unreadable": _("This file cannot be read as a CSV or XLSX spreadsheet."),
    "encoding": _("The CSV file is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV."),
    "zip_bomb": _("The XLSX file would expand to too much data to be read safely."),
    "no_header": _("The first row must hold the column headers of the template."),
    "missing_columns": _("Columns missing: %(columns)s. Download the template to see the columns."),
    "unknown_columns": _("Unknown columns: %(columns)s. Use the headers of the template."),
    "duplicate_columns": _("These columns appear twice: %(columns)s."),
    "no_rows": _("The file has no applicant rows under the header."),
    "too_many_rows": _("The file has more than %(max)d rows; split it into smaller files."),
}

FAILURE_MESSAGES: dict[str, Any] = {
    "rows": _(
        "Rows have errors now (the registry changed since the check); nothing was imported. "
        "Correct the file and check it again."
    ),
    "changed": _(
        "Some of these people were registered by someone else during the import; nothing was "
        "imported. Check the file again."
    ),
    "forbidden": _("The uploader may no longer register applicants; nothing was imported."),
    "unreadable": _("The stored file could not be read; nothing was imported."),
    "internal": _("The import stopped on an internal error; nothing was imported."),
}


class UploadRefused(DomainError):
    """The file as a whole cannot be checked; nothing is stored. Shown against the file."""

    def __init__(self, key: str, **params: Any) -> None:
        message = UPLOAD_MESSAGES[key]
        super().__init__(message % params if params else message, code=key, field="file")


# --- Reading --------------------------------------------------------------------------------


def file_format_of(name: str) -> str:
    extension = os.path.splitext(name or "")[1].lower().lstrip(".")
    if extension not in ImportBatch.Format.values:
        raise UploadRefused("extension")
    return extension


def _normalize_header(text: Any) -> str:
    cleaned = unicodedata.normalize("NFKC", str(text or "")).strip().strip("*").strip()
    return "".join(cleaned.split()).casefold()


_HEADER_LOOKUP: dict[str, str] = {
    **{_normalize_header(name): name for name in FIELDS},
    **{_normalize_header(header): name for name, header in COLUMNS},
    **{_normalize_header(alias): name for alias, name in HEADER_ALIASES.items()},
}


_IGNORED = frozenset(_normalize_header(header) for header in IGNORED_HEADERS)


def check_xlsx_container(content: bytes) -> None:
    """Refuse an XLSX that is not a zip, has too many members, declares more than
    MAX_XLSX_UNCOMPRESSED in total or a member compressed more than MAX_XLSX_RATIO times.

    The sizes are those the archive declares; `zipfile` never inflates a member beyond its
    declared size (a lying member fails its CRC instead), so they bound what openpyxl reads.
    """
    buffer = io.BytesIO(content)
    if not zipfile.is_zipfile(buffer):
        raise UploadRefused("unreadable")
    try:
        with zipfile.ZipFile(buffer) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UploadRefused("unreadable") from exc
    if len(members) > MAX_XLSX_MEMBERS:
        raise UploadRefused("zip_bomb")
    if sum(member.file_size for member in members) > MAX_XLSX_UNCOMPRESSED:
        raise UploadRefused("zip_bomb")
    for member in members:
        if member.filename == "xl/sharedStrings.xml" and member.file_size > MAX_XLSX_SHARED_STRINGS:
            raise UploadRefused("zip_bomb")
        if member.file_size <= XLSX_RATIO_EXEMPT_BYTES:
            continue
        if member.file_size > MAX_XLSX_RATIO * max(member.compress_size, 1):
            raise UploadRefused("zip_bomb")
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise UploadRefused("unreadable")


_SHEET_MEMBER = re.compile(r"xl/worksheets/[^/]+\.xml")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_ROW_NUMBER = re.compile(rb'[^>]*?\sr\s*=\s*["\']\s*0*(\d{1,12})')
_SCAN_CHUNK = 4 * 1024 * 1024


def _cell_tags(data: bytes, start: int = 0, end: int | None = None) -> int:
    """At least the number of cells (`<c …>`, `<x:c …>`) in data[start:end]; other tags
    starting with c (`<color>` in rich text) are counted too, which only errs on the safe
    side."""
    end = len(data) if end is None else end
    return (
        data.count(b"<c", start, end)
        + data.count(b":c ", start, end)
        + data.count(b":c>", start, end)
    )


def check_xlsx_sheets(content: bytes) -> None:
    """Refuse a worksheet with a row numbered beyond XLSX_MAX_ROW or a row of more than
    XLSX_MAX_CELLS_PER_ROW cells. The sheet XML is streamed in chunks cut before a `<`, so
    no tag is split; memory stays at one chunk whatever the sheet's size. A member that
    does not inflate (damaged, or failing its CRC) makes the file unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.infolist():
                if _SHEET_MEMBER.fullmatch(member.filename):
                    with archive.open(member) as stream:
                        _scan_sheet(stream)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise UploadRefused("unreadable") from exc


def _scan_sheet(stream: Any) -> None:
    cells = 0
    carry = b""
    while True:
        chunk = stream.read(_SCAN_CHUNK)
        data = carry + chunk
        cut = data.rfind(b"<") if chunk else len(data)
        if cut <= 0:
            cut = len(data)
        data, carry = data[:cut], data[cut:]
        position = 0
        for row in _ROW_TAG.finditer(data):
            cells += _cell_tags(data, position, row.start())
            if cells > XLSX_MAX_CELLS_PER_ROW:
                raise UploadRefused("zip_bomb")
            cells, position = 0, row.start()
            number = _ROW_NUMBER.match(data, row.end() - 1)
            if number and int(number.group(1)) > XLSX_MAX_ROW:
                raise UploadRefused("zip_bomb")
        cells += _cell_tags(data, position)
        if cells > XLSX_MAX_CELLS_PER_ROW:
            raise UploadRefused("zip_bomb")
        if not chunk:
            return


def csv_encoding(content: bytes) -> str:
    """UTF-16 with a byte-order mark (Excel's "Unicode text"), UTF-8 (with or without its
    mark), else GB18030 (what Excel on a Chinese Windows writes). Checked in chunks so that
    no second copy of a large file is held."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    view = memoryview(content)
    step = 1024 * 1024
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), step):
                decoder.decode(view[start : start + step])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UploadRefused("encoding")


@dataclass
class Table:
    """An open sheet: the field of each column (None: ignored) and the data rows as
    (spreadsheet row number, cells), blank rows skipped."""

    header_row: int
    fields: list[str | None]
    rows: Iterator[tuple[int, list[Any]]]
    typed: bool = False  # cells may be numbers and dates (XLSX), not only text (CSV)


def _is_blank(cells: Any) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _map_header(cells: list[Any]) -> list[str | None]:
    """Fields of a header row, refusing unknown, repeated and missing columns."""
    fields: list[str | None] = []
    unknown: list[str] = []
    for cell in cells:
        text = _normalize_header(cell)
        if not text:
            fields.append(None)
            continue
        name = _HEADER_LOOKUP.get(text)
        if name is None and text not in _IGNORED:
            unknown.append(str(cell).strip())
        fields.append(name)
    named = [name for name in fields if name]
    repeated = sorted({name for name in named if named.count(name) > 1}, key=FIELDS.index)
    missing = [name for name in REQUIRED_FIELDS if name not in named]
    if missing and len(named) < 2:
        raise UploadRefused("no_header")
    if missing:
        raise UploadRefused("missing_columns", columns="、".join(HEADERS[n] for n in missing))
    if unknown:
        raise UploadRefused("unknown_columns", columns="、".join(unknown))
    if repeated:
        raise UploadRefused("duplicate_columns", columns="、".join(HEADERS[n] for n in repeated))
    while fields and fields[-1] is None:
        fields.pop()
    return fields


def _find_header(first_rows: list[tuple[int, list[Any]]]) -> tuple[int, list[str | None]]:
    """The header is the first row naming at least two template columns (a title row above
    it, common in bureaus' sheets, is skipped)."""
    candidates = [(number, cells) for number, cells in first_rows if not _is_blank(cells)]
    if not candidates:
        raise UploadRefused("empty")
    for number, cells in candidates:
        if sum(1 for cell in cells if _normalize_header(cell) in _HEADER_LOOKUP) >= 2:
            return number, _map_header(cells)
    return candidates[0][0], _map_header(candidates[0][1])


def _csv_table(content: bytes) -> Table:
    if b"\x00" in content[:4096] and not content.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise UploadRefused("unreadable")
    encoding = csv_encoding(content)
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    first_line = text.readline()
    text.seek(0)
    delimiter = max(",\t;", key=first_line.count) if first_line.strip() else ","
    reader = csv.reader(text, delimiter=delimiter)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from enumerate(reader, start=1)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UploadRefused("unreadable") from exc

    rows = numbered()
    first = [row for _i, row in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
    header_row, fields = _find_header(first)
    width = len(fields)

    def data() -> Iterator[tuple[int, list[Any]]]:
        yield from (row for row in first if row[0] > header_row)
        yield from rows

    return Table(header_row, fields, _trim(data(), width))


def _trim(rows: Iterator[tuple[int, list[Any]]], width: int) -> Iterator[tuple[int, list[Any]]]:
    """Skip blank rows; a row with values beyond the header's columns keeps them (as None
    fields) so that the check can report it."""
    for number, cells in rows:
        if _is_blank(cells):
            continue
        if len(cells) > width and _is_blank(cells[width:]):
            cells = cells[:width]
        yield number, list(cells)


def _xlsx_table(content: bytes, stack: contextlib.ExitStack) -> Table:
    from openpyxl import load_workbook

    check_xlsx_container(content)
    check_xlsx_sheets(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UploadRefused("unreadable") from exc
    stack.callback(workbook.close)
    if not workbook.worksheets:
        raise UploadRefused("empty")
    sheet = workbook.worksheets[0]
    # The dimension a file declares may be wrong (some tools write A1:A1); read them all.
    sheet.reset_dimensions()

    def numbered(**bounds: int) -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True, **bounds), 1):
                yield number + bounds.get("min_row", 1) - 1, list(cells)
        except UploadRefused:
            raise
        except Exception as exc:  # parse errors surface while iterating in read-only mode
            raise UploadRefused("unreadable") from exc

    first = list(numbered(max_row=HEADER_SEARCH_ROWS))
    header_row, fields = _find_header(first)
    width = len(fields)
    # A row is read one column wider than the header, to notice values outside the columns.
    rows = numbered(min_row=header_row + 1, max_col=width + 1)
    return Table(header_row, fields, _trim(rows, width), typed=True)


@contextlib.contextmanager
def open_table(content: bytes, file_format: str) -> Iterator[Table]:
    with contextlib.ExitStack() as stack:
        if file_format == ImportBatch.Format.XLSX:
            yield _xlsx_table(content, stack)
        else:
            yield _csv_table(content)


def _cell_value(name: str, value: Any) -> Any:
    """A cell as `clean_applicant` takes it. Spreadsheets store an ID number typed as a
    number as a float: 18 digits do not survive that, and the check digit then tells."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, datetime):
        return value.date() if name == "available_from" else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value if name == "available_from" else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Checking -------------------------------------------------------------------------------


class ErrorLog:
    """Errors by row, with the row's name and masked ID so the report can say who it is."""

    def __init__(self, limit: int = MAX_STORED_ERRORS) -> None:
        self.entries: list[dict[str, Any]] = []
        self.rows: set[int] = set()
        self.limit = limit

    def add(self, row: int, errors: list[FieldError], raw: dict[str, Any]) -> None:
        self.rows.add(row)
        name = unicodedata.normalize("NFKC", str(raw.get("name") or "")).strip()[:50]
        number = normalize_national_id(str(raw.get("national_id") or ""))[:40]
        masked = personal_data.mask_national_id(number) if number else ""
        for error in errors:
            if len(self.entries) < self.limit:
                entry = {"row": row, **error.as_json(), "name": name, "id_masked": masked}
                self.entries.append(entry)

    def sorted_entries(self) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda entry: entry["row"])

    def __bool__(self) -> bool:
        return bool(self.rows)


class _ImportRefused(Exception):
    """Raised inside the import's transaction to roll it back; carries the failure's key
    (one of FAILURE_MESSAGES) and the row errors found, if any."""

    def __init__(self, failure: str, errors: ErrorLog | None = None) -> None:
        super().__init__(failure)
        self.failure = failure
        self.errors = errors


@dataclass
class CheckState:
    """What the pass over a file found so far. `seen` maps each valid ID number to the
    first row that has it."""

    bureau: Organization
    today: date
    errors: ErrorLog = field(default_factory=ErrorLog)
    seen: dict[str, int] = field(default_factory=dict)
    total_rows: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class CheckedRow:
    """One row after `clean_applicant`: `data` is None if it has errors (already logged);
    `number` is its normalised ID number when that is valid, else ""."""

    row: int
    raw: dict[str, Any]
    data: ApplicantData | None
    number: str


def _rows(
    table: Table, state: CheckState, progress: Callable[[int], None] | None
) -> Iterator[CheckedRow]:
    """Every row of the table through `clean_applicant`, duplicates in the file refused."""
    columns = [(index, name) for index, name in enumerate(table.fields) if name is not None]
    width = len(table.fields)
    province = state.bureau.province_id
    for row, cells in table.rows:
        state.total_rows += 1
        if state.total_rows > MAX_ROWS:
            raise UploadRefused("too_many_rows", max=MAX_ROWS)
        if progress is not None and state.total_rows % PROGRESS_EVERY == 0:
            progress(state.total_rows)
        count = len(cells)
        if table.typed:
            raw = {name: _cell_value(name, cells[i]) for i, name in columns if i < count}
        else:
            raw = {name: cells[i] for i, name in columns if i < count}
        data, errors = clean_applicant(raw, bureau_province=province, today=state.today)
        if count > width:
            errors.insert(0, FieldError("row", "row.columns"))
        number = ""
        if data is not None:
            number = data.national_id.number
        elif not any(error.field in ("national_id", "home_province") for error in errors):
            number = normalize_national_id(str(raw.get("national_id") or ""))
        if number:
            first = state.seen.setdefault(number, row)
            if first != row:
                errors.append(
                    FieldError("national_id", "national_id.duplicate_in_file", {"row": first})
                )
        if errors:
            state.errors.add(row, errors, raw)
            data = None
        yield CheckedRow(row, raw, data, number)


def existing_registrations(
    bureau: Organization, hashes: list[str]
) -> tuple[set[str], dict[str, dict[str, str]]]:
    """Of these ID hashes, those the bureau registered itself (its registry scope) and,
    for the others already registered, where: {"bureau", "province"}. One query per
    LOOKUP_CHUNK hashes, sent as one array parameter."""
    own: set[str] = set()
    elsewhere: dict[str, dict[str, str]] = {}
    mine = ExpressionWrapper(registry_scope(bureau), output_field=BooleanField())
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[start : start + LOOKUP_CHUNK]
        found = (
            Applicant.objects.filter(
                national_id_hash__in=RawSQL("SELECT unnest(%s::varchar[])", (chunk,))
            )
            .annotate(mine=mine)
            .order_by()
            .values_list(
                "national_id_hash",
                "mine",
                "registering_bureau__name",
                "registering_bureau__province__name_zh",
            )
        )
        for id_hash, is_mine, bureau_name, province_name in found:
            if is_mine:
                own.add(id_hash)
            else:
                elsewhere[id_hash] = {"bureau": bureau_name, "province": province_name}
    return own, elsewhere


def checked_chunks(
    table: Table,
    state: CheckState,
    *,
    prepare: Callable[[ApplicantData], dict[str, Any]] | None = None,
    look_up: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[Any]]:
    """Check the file LOOKUP_CHUNK rows at a time and yield, per chunk, its new applicants:
    rows that pass and whose person nobody registered. Someone registered by the bureau
    itself counts as unchanged; by anyone else, as an error naming them.

    With `prepare` (the real import), a new applicant is yielded as its prepared row values,
    whose blind index then serves the look-up too; without, as its ApplicantData. Once an
    error is found, nothing more is prepared (the file will not be written), but every row
    is still checked for the report. `look_up=False` skips the registry look-up, for a
    writer that lets the unique index tell it that someone is registered already."""
    chunk: list[CheckedRow] = []
    for item in _rows(table, state, progress):
        if item.number:
            chunk.append(item)
        if len(chunk) >= LOOKUP_CHUNK:
            yield _resolve_chunk(chunk, state, prepare, look_up)
            chunk = []
    if chunk:
        yield _resolve_chunk(chunk, state, prepare, look_up)
    if state.total_rows == 0:
        raise UploadRefused("no_rows")


def _resolve_chunk(
    chunk: list[CheckedRow],
    state: CheckState,
    prepare: Callable[[ApplicantData], dict[str, Any]] | None,
    look_up: bool,
) -> list[Any]:
    if not look_up:
        if state.errors or prepare is None:
            return [item.data for item in chunk if item.data is not None]
        return [prepare(item.data) for item in chunk if item.data is not None]
    entries: list[tuple[str, CheckedRow, Any]] = []
    for item in chunk:
        prepared: Any = item.data
        if item.data is not None and prepare is not None and not state.errors:
            prepared = prepare(item.data)
            id_hash = prepared["national_id_hash"]
        else:
            id_hash = applicant_index(item.number)
        entries.append((id_hash, item, prepared))
    own, elsewhere = existing_registrations(state.bureau, list({e[0] for e in entries}))
    new = []
    for id_hash, item, prepared in entries:
        where = elsewhere.get(id_hash)
        if where is not None:
            error = FieldError("national_id", "national_id.registered_elsewhere", where)
            state.errors.add(item.row, [error], item.raw)
        elif item.data is None:
            continue
        elif id_hash in own:
            state.unchanged += 1
        else:
            new.append(prepared)
    return new


# --- COPY -----------------------------------------------------------------------------------

_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_LINE_SPECIAL = re.compile(r"[\\\n\r]")
_ARRAY_PLAIN = re.compile(r"[A-Za-z0-9_.,-]*")


def _copy_str(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


_copied: dict[Any, str] = {}


def _memo(key: Any, make: Callable[[], str]) -> str:
    """Skills, provinces and dates repeat from row to row: format each once."""
    text = _copied.get(key)
    if text is None:
        if len(_copied) > 50_000:
            _copied.clear()
        text = _copied[key] = make()
    return text


def _copy_list(value: list[Any] | tuple[Any, ...]) -> str:
    if not value:
        return "{}"
    return _memo(("list", *value), lambda: _format_list(value))


def _format_list(value: list[Any] | tuple[Any, ...]) -> str:
    items = ",".join(map(str, value))
    if _ARRAY_PLAIN.fullmatch(items) and "" not in value:
        return "{" + items + "}"  # codes: nothing to quote
    quoted = ",".join(
        '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"' for item in value
    )
    return _copy_str("{" + quoted + "}")


def _copy_date(value: date) -> str:
    return _memo(value, value.isoformat)


_last_datetime: tuple[Any, str] = (None, "")


def _copy_datetime(value: datetime) -> str:
    # A prepared row holds the same "now" up to three times. (One tuple, swapped whole, so
    # that threads never see one datetime's text for another.)
    global _last_datetime
    cached = _last_datetime
    if cached[0] is value:
        return cached[1]
    text = value.isoformat()  # aware datetimes keep their offset
    _last_datetime = (value, text)
    return text


_COPY_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _copy_str,
    int: str,
    bool: lambda value: "t" if value else "f",
    type(None): lambda _value: "\\N",
    list: _copy_list,
    tuple: _copy_list,
    date: _copy_date,
    datetime: _copy_datetime,
}


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    return _COPY_BY_TYPE.get(type(value), _copy_other)(value)


def _copy_row(row: dict[str, Any]) -> str:
    """A row's values as one COPY line (without its end). Text is checked for characters
    COPY must escape once per line rather than once per value: almost no line has any."""
    by_type, other = _COPY_BY_TYPE.get, _copy_other
    line = "\t".join([v if type(v) is str else by_type(type(v), other)(v) for v in row.values()])
    if line.count("\t") == len(row) - 1 and not _LINE_SPECIAL.search(line):
        return line
    return "\t".join(map(copy_text, row.values()))


def _copy_other(value: Any) -> str:
    for kind in (bool, int, str, list, tuple, datetime, date):
        if isinstance(value, kind):
            return _COPY_BY_TYPE[kind](value)
    return _copy_str(str(value))


class ApplicantCopy:
    """Writes prepared applicant rows into the applicant table, one COPY per chunk, each
    sent and finished in a background thread while the caller checks the next chunk.

    Why: PostgreSQL checks the foreign keys of copied rows at the end of each statement,
    and ingests the data at its own pace; done in line, both would add to the import's time
    instead of overlapping with the Python work (checking and encrypting rows). At most one
    COPY is in flight, on the caller's connection and inside its transaction: the caller
    must not use the connection until `wait()` (the look-up path calls it after each write).
    The text is formatted here, several times faster than psycopg's per-value adaptation."""

    def __init__(self, cursor: Any, *, extra: tuple[Any, ...]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.raw = cursor.cursor.connection  # the psycopg connection under Django's cursor
        self.tail = "\t" + "\t".join(map(copy_text, extra))
        self.sql = ""
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        self.pending: Any = None
        self.written = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.sql:
            columns = [*rows[0], "registering_bureau_id", "registered_by_id", "import_batch_id"]
            names = ", ".join(connection.ops.quote_name(column) for column in columns)
            table = connection.ops.quote_name(Applicant._meta.db_table)
            self.sql = f"COPY {table} ({names}) FROM STDIN"
        tail = self.tail
        text = "".join([_copy_row(row) + tail + "\n" for row in rows])
        self.wait()
        self.pending = self.executor.submit(self._copy, self.sql, text)
        self.written += len(rows)

    def _copy(self, sql: str, text: str) -> None:
        with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(text)

    def wait(self) -> None:
        """Until the COPY in flight is finished; its database errors (a unique violation…)
        are raised here, as Django's."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            with connection.wrap_database_errors:
                pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.executor.shutdown()

    def abort(self) -> None:
        """Stop writing (the transaction will be rolled back): wait for the COPY in flight,
        whatever its outcome, so that nothing else uses the connection meanwhile."""
        with contextlib.suppress(Exception):
            self.wait()
        self.executor.shutdown()


# --- Services -------------------------------------------------------------------------------


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """Keep the collector off the objects that exist already (Django's own: hundreds of
    thousands) while a file is processed: a pass over 100,000 rows otherwise spends a tenth
    of its time in full collections that find nothing. New objects are still collected."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def import_check(*, actor: User, upload: Any) -> ImportBatch:
    """The dry run: check an uploaded file in full and store the batch with its report
    (status checked, or invalid with every bad row). Writes no applicant. A file that
    cannot be checked at all raises UploadRefused and nothing is stored."""
    bureau = require_registry_officer(actor)
    file_name = os.path.basename(str(getattr(upload, "name", "") or ""))[:255]
    file_format = file_format_of(file_name)
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise UploadRefused("too_big", max=MAX_FILE_BYTES // (1024 * 1024))
    content = upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise UploadRefused("too_big", max=MAX_FILE_BYTES // (1024 * 1024))
    if not content.strip():
        raise UploadRefused("empty")

    state = CheckState(bureau=bureau, today=timezone.localdate())
    with _gc_frozen(), open_table(content, file_format) as table:
        for _new in checked_chunks(table, state):
            pass
    invalid = bool(state.errors)
    content_sha256 = hashlib.sha256(content).hexdigest()
    import_uploads_purge()
    return ImportBatch.objects.create(
        bureau=bureau,
        uploaded_by=actor,
        file_name=file_name,
        file_format=file_format,
        file_size=len(content),
        file_sha256=content_sha256,
        # A file with errors is never imported: only its report is kept. A clean one waits,
        # encrypted like all personal data, until it is imported or purged.
        content=None
        if invalid
        else personal_data.encrypt_bytes(content, context=upload_context(content_sha256)),
        status=Status.INVALID if invalid else Status.CHECKED,
        total_rows=state.total_rows,
        error_rows=len(state.errors.rows),
        unchanged_count=state.unchanged,
        errors=state.errors.sorted_entries(),
    )


UPLOAD_KEPT_HOURS = 24


def upload_context(sha256: str) -> str:
    return f"recruitment.import_batch:{sha256}"


def import_uploads_purge(*, older_than_hours: int = UPLOAD_KEPT_HOURS) -> int:
    """Discard the stored files of checked batches nobody imported (they hold ID numbers and
    phones); returns how many were discarded."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    return ImportBatch.objects.filter(
        status=Status.CHECKED, content__isnull=False, created_at__lt=cutoff
    ).update(content=None)


def import_start(*, actor: User, batch: ImportBatch | int, enqueue: bool = True) -> ImportBatch:
    """Queue a clean, checked batch for import. The task is sent after the commit; with
    `enqueue=False` the caller runs `import_run` itself (benchmark, tests)."""
    bureau = require_registry_officer(actor)
    pk = batch.pk if isinstance(batch, ImportBatch) else int(batch)
    found = import_batches_visible_to(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    if found.status == Status.INVALID or found.error_rows:
        raise Conflict(
            _("This file has rows with errors: correct them and check the file again."),
            code="invalid",
        )
    if (
        found.status == Status.CHECKED
        and not ImportBatch.objects.filter(pk=pk, content__isnull=False).exists()
    ):
        raise Conflict(
            _(
                "This upload was not imported within %(hours)d hours and was discarded: check "
                "the file again."
            )
            % {"hours": UPLOAD_KEPT_HOURS},
            code="expired",
        )
    with transaction.atomic():
        claimed = ImportBatch.objects.filter(
            pk=pk, bureau=bureau, status=Status.CHECKED, error_rows=0
        ).update(status=Status.QUEUED)
        if claimed != 1:
            raise Conflict(_("This file is already being imported or was imported."), code="status")
        if enqueue:
            # Committed with the claim, sent after the commit, and sent again by the outbox
            # reconciler should the broker be down or lose it (`import_run` runs once).
            deferred = outbox.outbox_enqueue(task="recruitment.import_batch", args=[pk])
            ImportBatch.objects.filter(pk=pk).update(task_id=outbox.message_id(deferred))
    report_progress(pk, phase="queued", done=0, total=found.total_rows)
    found.refresh_from_db()
    return found


def _claim(batch_id: int) -> bool:
    """Take a queued batch, or one left importing by a worker that died (its transaction
    was rolled back, so nothing of it was written)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    claimed = (
        ImportBatch.objects.filter(pk=batch_id)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.IMPORTING, started_at__lt=stale))
        .update(status=Status.IMPORTING, started_at=now, failure="")
    )
    return claimed == 1


def import_run(batch_id: int) -> ImportBatch | None:
    """Import a queued batch: check every row again (the registry may have changed since
    the dry run) and write all its new applicants in one transaction, or none. Safe to run
    twice: only the run that claims the batch does anything; the other returns None."""
    if not _claim(batch_id):
        logger.info("import batch %s was not queued; nothing to do", batch_id)
        return None
    batch = ImportBatch.objects.select_related("bureau", "uploaded_by__organization").get(
        pk=batch_id
    )
    report_progress(batch.pk, phase="validating", done=0, total=batch.total_rows)
    errors: list[dict[str, Any]] = []
    error_rows = 0
    try:
        try:
            # The dry run found nobody registered already: write straight away and let the
            # unique index say if someone was registered since. Otherwise, or then, look
            # every row up.
            with _gc_frozen():
                created, unchanged, total = _write(batch, look_up=batch.unchanged_count > 0)
        except IntegrityError:
            with _gc_frozen():
                created, unchanged, total = _write(batch, look_up=True)
    except _ImportRefused as refused:
        failure = refused.failure
        if refused.errors:
            errors = refused.errors.sorted_entries()
            error_rows = len(refused.errors.rows)
    except UploadRefused:
        failure = "unreadable"
    except DomainError:  # require_registry_officer: the uploader lost the role
        failure = "forbidden"
    except IntegrityError:
        # The unique index refused a row: someone registered that person after the look-up.
        failure = "changed"
    except Exception as exc:
        # The message of a database error may quote row values: log the kind and the place.
        logger.error(
            "import batch %s failed: %s\n%s",
            batch_id,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        failure = "internal"
    else:
        report_progress(batch.pk, phase="done", done=total, total=total)
        logger.info("import batch %s: %d created, %d unchanged", batch_id, created, unchanged)
        batch.refresh_from_db()
        return batch
    ImportBatch.objects.filter(pk=batch_id, status=Status.IMPORTING).update(
        status=Status.FAILED,
        failure=failure,
        errors=errors,
        error_rows=error_rows,
        content=None,
        finished_at=timezone.now(),
    )
    report_progress(batch.pk, phase="failed", done=0, total=batch.total_rows)
    logger.info("import batch %s failed: %s", batch_id, failure)
    batch.refresh_from_db()
    return batch


def _write(batch: ImportBatch, *, look_up: bool) -> tuple[int, int, int]:
    """The import proper, in one transaction: per chunk of rows, check (and look up), then
    COPY its new applicants into the table (PostgreSQL ingests a chunk while the next is
    being checked). Raises _ImportRefused, or IntegrityError from the unique index, to roll
    everything back."""
    actor = batch.uploaded_by
    bureau = require_registry_officer(actor)
    if bureau.pk != batch.bureau_id:
        raise _ImportRefused("forbidden")
    content = personal_data.decrypt_bytes(
        bytes(batch.content or b""), context=upload_context(batch.file_sha256)
    )
    state = CheckState(bureau=bureau, today=timezone.localdate())

    def progress(done: int) -> None:
        report_progress(batch.pk, phase="importing", done=done, total=batch.total_rows)

    with transaction.atomic(), connection.cursor() as cursor:
        # Imports into one province wait for each other, so that two files naming the same
        # person do not both pass the look-up.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, int(bureau.province_id)])
        # Django's foreign keys are deferred to the commit, where their checks would run one
        # after the other; checked as rows arrive, they overlap with the work done here.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        writer = ApplicantCopy(cursor, extra=(batch.bureau_id, actor.pk, batch.pk))
        try:
            with open_table(content, batch.file_format) as table:
                chunks = checked_chunks(
                    table, state, prepare=_applicant_row_values, look_up=look_up, progress=progress
                )
                for new in chunks:
                    if state.errors:
                        continue  # nothing more is written; the transaction rolls back
                    writer.write(new)
                    if look_up:
                        writer.wait()  # the next chunk's look-up needs the connection
            writer.close()
        except BaseException:
            writer.abort()
            raise
        created = writer.written
        if state.errors:
            raise _ImportRefused("rows", state.errors)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.DONE,
            total_rows=state.total_rows,
            created_count=created,
            unchanged_count=state.unchanged,
            error_rows=0,
            errors=[],
            content=None,
            finished_at=timezone.now(),
        )
    return created, state.unchanged, state.total_rows


# --- Progress and reading the report --------------------------------------------------------


def progress_key(batch_id: int) -> str:
    return f"recruitment:import-progress:{batch_id}"


def report_progress(batch_id: int, *, phase: str, done: int, total: int) -> None:
    """Progress lives in the cache: the import's transaction is invisible to the page."""
    try:
        cache.set(
            progress_key(batch_id),
            {"phase": phase, "done": done, "total": total},
            timeout=PROGRESS_TIMEOUT,
        )
    except Exception:  # progress is a nicety; a cache outage must not stop an import
        logger.warning("import batch %s: progress not recorded", batch_id, exc_info=True)


def import_progress(batch: ImportBatch) -> dict[str, Any]:
    """Where an import stands: {status, done, total, created, unchanged, errors, percent}."""
    total = batch.total_rows
    done = 0
    if batch.status in {Status.QUEUED, Status.IMPORTING}:
        try:
            state = cache.get(progress_key(batch.pk)) or {}
        except Exception:
            state = {}
        done = min(int(state.get("done") or 0), total)
    elif batch.status == Status.DONE:
        done = total
    return {
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 0,
        "created": batch.created_count,
        "unchanged": batch.unchanged_count,
        "errors": batch.error_rows,
    }


def error_message(entry: dict[str, Any]) -> str:
    """A stored error in the active language."""
    try:
        return FieldError(entry["field"], entry["key"], entry.get("params") or {}).message
    except (KeyError, TypeError, ValueError):
        return str(entry.get("key", ""))


def error_column(entry: dict[str, Any]) -> str:
    """The header of the column an error is about, as in the template."""
    return HEADERS.get(entry.get("field", ""), "")


def failure_message(batch: ImportBatch) -> str:
    if not batch.failure:
        return ""
    message = FAILURE_MESSAGES.get(batch.failure)
    return str(message) if message is not None else batch.failure


def error_report_rows(batch: ImportBatch) -> Iterator[list[Any]]:
    """The rows of the downloadable error report: row, name, masked ID, column, reason."""
    for entry in batch.errors or []:
        yield [
            entry.get("row"),
            entry.get("name", ""),
            entry.get("id_masked", ""),
            error_column(entry),
            error_message(entry),
        ]


# --- The downloadable template --------------------------------------------------------------

EXAMPLE_NOTE = "示例行：导入前请删除"


def importable_name(choice: Any) -> str:
    """A choice's name in the active language as a file may give it; its code where the name
    holds a space (lists in a cell are split at spaces too)."""
    label = str(choice.label)
    return choice.value if any(ch.isspace() for ch in label) else label


def template_example_row() -> list[Any]:
    """One filled-in row. Its ID number is the standard's published sample (Beijing, born
    1949), which no bureau can register, so a row left in by mistake is refused."""
    from django.utils import translation

    from recruitment.models import KeyGroup
    from recruitment.occupations import Occupation

    with translation.override("zh-hans"):
        skills = "、".join(importable_name(o) for o in (Occupation.WELDER, Occupation.ELECTRICIAN))
        key_group = importable_name(KeyGroup.LIFTED_OUT_OF_POVERTY)
    return [
        "张三",
        "11010519491231002X",
        "13800138000",
        skills,
        "浙江、江苏",
        4500,
        "2027-03-01",
        key_group,
        "是",
        EXAMPLE_NOTE,
    ]


def _column_notes() -> list[tuple[str, Any, Any]]:
    required = _("required")
    optional = _("optional")
    return [
        ("姓名", required, _("The applicant's name as on the ID card.")),
        (
            "身份证号码",
            required,
            _(
                "18 characters, the last may be X. Type it as text: Excel turns a long number "
                "into 5.10104E+17 and loses digits. Sex and birth date are read from it."
            ),
        ),
        ("手机号码", required, _("11-digit mobile number; +86 and spaces are removed.")),
        (
            "技能工种",
            optional,
            _("Occupation names or codes from the list below, separated by 、 or commas."),
        ),
        (
            "意向省份",
            optional,
            _("Province names (浙江 or 浙江省) or codes (33), separated by 、; empty: any."),
        ),
        ("最低月薪", optional, _("Whole yuan per month, 0 to 100000.")),
        ("可到岗日期", optional, _("A date as YYYY-MM-DD.")),
        ("重点群体", optional, _("Key-group names or codes from the list below.")),
        (
            "同意跨省共享",
            optional,
            _("是 (yes) or 否 (no); only applicants who consent can be whitelisted."),
        ),
        ("备注", optional, _("At most 500 characters.")),
    ]


def template_notes_rows() -> list[list[Any]]:
    """The notes sheet: what each column takes, then the occupations and key groups."""
    from django.utils import translation

    from recruitment.models import KeyGroup
    from recruitment.occupations import Occupation

    def names(choices) -> list[list[Any]]:
        rows = []
        for code, label in choices:
            with translation.override("zh-hans"):
                chinese = str(label)
            with translation.override("en"):
                english = str(label)
            rows.append([chinese, code, english])
        return rows

    rows: list[list[Any]] = [[str(_("Column")), str(_("Required")), str(_("What to enter"))]]
    rows += [[header, str(need), str(text)] for header, need, text in _column_notes()]
    rows += [
        [],
        [
            str(
                _(
                    "Rows are checked one by one: a dry run lists every bad row with the "
                    "reason, and nothing is imported until the file has no errors. "
                    "People the bureau registered already are left unchanged."
                )
            )
        ],
        [],
        [str(_("Occupations")), str(_("Code")), "English"],
        *names(Occupation.choices),
        [],
        [str(_("Key groups")), str(_("Code")), "English"],
        *names(KeyGroup.choices),
    ]
    return rows


def template_xlsx() -> bytes:
    """The XLSX template: the data sheet (ID and phone columns formatted as text, a 是/否
    list for consent) and a notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "申请人"
    sheet.append([header for _name, header in COLUMNS])
    sheet.append(template_example_row())
    for index, (name, _header) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = 22 if name in ("national_id", "notes") else 14
        if name in ("national_id", "phone"):
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 1001):
                sheet.cell(row=row, column=index).number_format = "@"
    consent = get_column_letter(FIELDS.index("consent") + 1)
    choice = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(choice)
    choice.add(f"{consent}2:{consent}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    for row in template_notes_rows():
        notes.append(row)
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 26
    notes.column_dimensions["C"].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
