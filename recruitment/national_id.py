"""Resident identity card numbers (GB 11643-1999): normalise, validate, derive.

An 18-character number is six digits of region (GB/T 2260), eight of birth date, three of
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.

The region is where the person was registered *when the card was issued*, so a county
code that did not exist in the birth year, or that has since been abolished, is genuine.
Such numbers are accepted; a county code missing from python-stdnum's table of historical
codes is only flagged (`region_known=False`) for a person to review. The province part
must be one of the 34 provincial-level codes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric

from laborlink.regions import PROVINCE_CODES

EARLIEST_BIRTH_YEAR = 1900
_CANONICAL = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class NationalId:
    number: str
    province_code: str
    region_code: str
    region_known: bool
    birth_date: date
    sex: str  # "male" or "female"


@lru_cache(maxsize=8192)
def region_code_known(code: str) -> bool:
    """Is this county-level code in the table of GB/T 2260 codes, in any year?

    Unlike `stdnum.cn.ric.get_birth_place`, the birth year is deliberately not compared with
    the years the code was in use: the code is assigned when the card is issued.
    """
    info = {
        key: value
        for _part, props in numdb.get("cn/loc").info(code)
        for key, value in props.items()
    }
    return bool(info.get("county"))


def normalize_national_id(raw: str) -> str:
    """Full-width digits and letters to ASCII, surrounding spaces removed, `x` to `X`."""
    return unicodedata.normalize("NFKC", raw or "").strip().upper()


MESSAGES = {
    "required": _("Enter the national ID number."),
    "length": _("A national ID number has 18 characters; this one has %(count)d."),
    "format": _("A national ID number is 17 digits followed by a digit or X."),
    "province": _("The first two digits %(code)s are not the code of any province."),
    "checksum": _("The check digit is wrong: please compare the number with the ID card."),
    "birth_date": _("The birth date in this number (%(digits)s) is not a real date."),
    "birth_date_range": _("The birth date in this number (%(date)s) is not possible."),
}


def _invalid(code: str, /, **params) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def parse_national_id(raw: str, *, today: date | None = None) -> NationalId:
    """Validate a national ID number and derive what it encodes; raises ValidationError
    whose `code` is a key of MESSAGES."""
    number = normalize_national_id(raw)
    if not number:
        raise _invalid("required")
    if len(number) != 18:
        raise _invalid("length", count=len(number))
    # ASCII only: str.isdigit() and int() also take other scripts' digits (٣, ३), which
    # would register the same person a second time under another spelling.
    if not _CANONICAL.fullmatch(number):
        raise _invalid("format")
    if number[:2] not in PROVINCE_CODES:
        raise _invalid("province", code=number[:2])
    if number[17] != ric.calc_check_digit(number):
        raise _invalid("checksum")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise _invalid("birth_date", digits=number[6:14]) from exc
    if birth.year < EARLIEST_BIRTH_YEAR or birth > (today or timezone.localdate()):
        raise _invalid("birth_date_range", date=birth.isoformat())
    return NationalId(
        number=number,
        province_code=number[:2],
        region_code=number[:6],
        region_known=region_code_known(number[:6]),
        birth_date=birth,
        sex="male" if int(number[16]) % 2 else "female",
    )
