"""Building import files for the tests: rows of the template, as CSV or XLSX uploads."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from recruitment.imports import COLUMNS
from tests.factories import national_id_for, phone_for

HEADER = [header for _name, header in COLUMNS]


def row(**values: Any) -> dict[str, Any]:
    """One applicant row by field name; a valid Sichuan applicant unless told otherwise."""
    base = {
        "name": "李四",
        "national_id": national_id_for("510104"),
        "phone": phone_for(),
        "skills": "welder、electrician",
        "preferred_provinces": "浙江",
        "minimum_wage": "4500",
        "available_from": "2027-01-15",
        "key_groups": "",
        "consent": "是",
        "notes": "",
    }
    base.update(values)
    return base


def cells(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r.get(name, "") for name, _header in COLUMNS] for r in rows]


def csv_bytes(
    rows: list[dict[str, Any]], *, encoding: str = "utf-8-sig", header: list[str] | None = None
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or HEADER)
    writer.writerows(cells(rows))
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, Any]], *, header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADER)
    for values in cells(rows):
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "applicants.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def csv_upload(rows: list[dict[str, Any]], name: str = "applicants.csv", **kwargs):
    return upload(csv_bytes(rows, **kwargs), name)
