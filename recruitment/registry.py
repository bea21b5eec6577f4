"""Validation of one applicant's registration data, shared by the form, the API and the bulk
import, so that all three accept and refuse exactly the same input.

`clean_applicant` never raises for bad input: it returns the cleaned data or a list of
`FieldError`s. An error carries a message key and parameters rather than a rendered string,
so that an import's error report can be stored once and shown later in the reader's
language (`FieldError.message`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from laborlink.regions import PROVINCE_CODES, PROVINCES
from recruitment import national_id
from recruitment.models import KeyGroup
from recruitment.occupations import OCCUPATION_CODES

MAX_NAME_LENGTH = 50
MAX_NOTES_LENGTH = 500
MAX_WAGE = 100_000
MIN_AGE = 16
MAX_AGE = 65
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_LIST_SEPARATORS = re.compile(r"[,，、;；/\n]+")
_PROVINCE_NAMES = {row[0]: row[1] for row in PROVINCES}
_NAME = re.compile(r"^[^\d<>@#$%^&*={}\[\]\\|;:\"/?!~`+]+$")

MESSAGES: dict[str, Any] = {
    **{f"national_id.{key}": message for key, message in national_id.MESSAGES.items()},
    "name.required": _("Enter the applicant's name."),
    "name.too_long": _("The name is longer than %(max)d characters."),
    "name.invalid": _("A name cannot contain digits or symbols."),
    "national_id.other_province": _(
        "This ID number was issued in %(province)s; the person must be registered by a "
        "bureau of that province."
    ),
    "national_id.home_province": _(
        "The home province must be the province of the ID number (%(province)s)."
    ),
    "national_id.age": _(
        "The applicant is %(age)d years old; registration is for people aged %(min)d to %(max)d."
    ),
    "national_id.duplicate_in_file": _("The same ID number is already on row %(row)d."),
    "national_id.registered_elsewhere": _(
        "This person is already registered by %(bureau)s (%(province)s)."
    ),
    "phone.required": _("Enter a mobile phone number."),
    "phone.invalid": _("A mobile phone number is 11 digits starting with 13 to 19."),
    "skills.unknown": _("Unknown occupation: %(value)s."),
    "preferred_provinces.unknown": _("Unknown province: %(value)s."),
    "key_groups.unknown": _("Unknown key group: %(value)s."),
    "minimum_wage.invalid": _("The minimum wage must be a whole number of yuan from 0 to %(max)d."),
    "available_from.invalid": _("Enter the date as YYYY-MM-DD."),
    "consent.invalid": _("Consent must be yes or no."),
    "notes.too_long": _("The notes are longer than %(max)d characters."),
    "row.columns": _("The row does not have the template's columns."),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in the active language."""
        template = MESSAGES[self.key]
        return str(template) % self.params if self.params else str(template)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "key": self.key, "params": self.params}


@dataclass(frozen=True)
class ApplicantData:
    """A registration that passed every check that needs no database."""

    name: str
    national_id: national_id.NationalId
    phone: str
    skills: list[str]
    preferred_provinces: list[str]
    minimum_wage: int
    available_from: date | None
    key_groups: list[str]
    consent: bool
    notes: str


def normalize_phone(raw: str) -> str:
    """Full-width digits to ASCII; spaces, dashes and a +86 or 0086 prefix removed."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    text = _PHONE_NOISE.sub("", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        items: Iterable[Any] = value
    else:
        text = str(value)
        if not text:
            return []
        items = _LIST_SEPARATORS.split(unicodedata.normalize("NFKC", text))
    stripped = (str(item).strip() for item in items)
    return [item for item in stripped if item]


_LONG_NUMBER = re.compile(r"[0-9Xx]{7,}")


def quoted(value: str) -> str:
    """A cell value as an error message may quote it: short, and with any run of seven or
    more digits (a phone or ID number in the wrong column) masked."""
    text = _LONG_NUMBER.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 3), value)
    return text if len(text) <= 30 else text[:29] + "…"


def _lookup(values: list[str], table: dict[str, str]) -> tuple[list[str], list[str]]:
    """Map names or codes (either language, any case) to codes; return (codes, unknown)."""
    codes: list[str] = []
    unknown: list[str] = []
    for value in values:
        # "焊工 电工": names separated by spaces, unless the whole is one name ("General worker")
        parts = [value] if value.casefold() in table else value.split()
        for part in parts:
            code = table.get(part.casefold())
            if code is None:
                unknown.append(part)
            elif code not in codes:
                codes.append(code)
    return codes, unknown


def _table(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    from django.utils import translation

    table: dict[str, str] = {}
    for code, label in choices:
        table[code.casefold()] = code
        for language in ("zh-hans", "en"):
            with translation.override(language):
                table[str(label).casefold()] = code
    return table


_TABLES: dict[str, dict[str, str]] = {}


def lookup_table(kind: str) -> dict[str, str]:
    """Names and codes of occupations, key groups or provinces, in both languages."""
    if kind not in _TABLES:
        if kind == "occupation":
            from recruitment.occupations import Occupation

            _TABLES[kind] = _table(Occupation.choices)
        elif kind == "key_group":
            _TABLES[kind] = _table(KeyGroup.choices)
        else:
            from laborlink.regions import PROVINCES

            table = {}
            for row in PROVINCES:
                code, name_zh, name_en, abbreviation = row[0], row[1], row[2], row[3]
                for alias in (code, name_zh, name_en, abbreviation):
                    table[alias.casefold()] = code
                # "四川" for "四川省", "广西" for "广西壮族自治区"
                table.setdefault(name_zh[:2], code)
                table.setdefault(name_zh[:3], code)
            _TABLES[kind] = table
    return _TABLES[kind]


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return date.fromisoformat(text)  # the common case, YYYY-MM-DD
    text = unicodedata.normalize("NFKC", text).strip().replace("/", "-").replace(".", "-")
    return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))


_YES = {"是", "同意", "yes", "y", "true", "1", "√", "✓"}
_NO = {"否", "不同意", "no", "n", "false", "0", ""}


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    if text.casefold() in _YES:
        return True
    if text.casefold() in _NO:
        return False
    raise ValueError(text)


def clean_applicant(
    raw: dict[str, Any], *, bureau_province: str, today: date
) -> tuple[ApplicantData | None, list[FieldError]]:
    """Check one registration. `raw` holds the form/API/row values by field name; lists may
    be given as lists or as text separated by commas, 、 or semicolons."""
    errors: list[FieldError] = []

    name = unicodedata.normalize("NFKC", str(raw.get("name") or "")).strip()
    if not name:
        errors.append(FieldError("name", "name.required"))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(FieldError("name", "name.too_long", {"max": MAX_NAME_LENGTH}))
    elif not _NAME.match(name):
        errors.append(FieldError("name", "name.invalid"))

    parsed: national_id.NationalId | None = None
    try:
        parsed = national_id.parse_national_id(str(raw.get("national_id") or ""), today=today)
    except ValidationError as exc:
        errors.append(FieldError("national_id", f"national_id.{exc.code}", dict(exc.params or {})))
    if parsed is not None:
        home = str(raw.get("home_province") or "").strip()
        names = _PROVINCE_NAMES
        if home and home != parsed.province_code:
            errors.append(
                FieldError(
                    "home_province",
                    "national_id.home_province",
                    {"province": names[parsed.province_code]},
                )
            )
        elif parsed.province_code != bureau_province:
            errors.append(
                FieldError(
                    "national_id",
                    "national_id.other_province",
                    {"province": names[parsed.province_code]},
                )
            )
        age = today.year - parsed.birth_date.year
        if (today.month, today.day) < (parsed.birth_date.month, parsed.birth_date.day):
            age -= 1
        if not MIN_AGE <= age <= MAX_AGE:
            errors.append(
                FieldError(
                    "national_id", "national_id.age", {"age": age, "min": MIN_AGE, "max": MAX_AGE}
                )
            )

    phone = normalize_phone(str(raw.get("phone") or ""))
    if not phone:
        errors.append(FieldError("phone", "phone.required"))
    elif not _MOBILE.match(phone):
        errors.append(FieldError("phone", "phone.invalid"))

    skills, unknown = _lookup(_split(raw.get("skills")), lookup_table("occupation"))
    errors.extend(FieldError("skills", "skills.unknown", {"value": quoted(v)}) for v in unknown)
    skills = [code for code in skills if code in OCCUPATION_CODES]

    preferred, unknown = _lookup(_split(raw.get("preferred_provinces")), lookup_table("province"))
    errors.extend(
        FieldError("preferred_provinces", "preferred_provinces.unknown", {"value": quoted(v)})
        for v in unknown
    )
    preferred = [code for code in preferred if code in PROVINCE_CODES]

    key_groups, unknown = _lookup(_split(raw.get("key_groups")), lookup_table("key_group"))
    errors.extend(
        FieldError("key_groups", "key_groups.unknown", {"value": quoted(v)}) for v in unknown
    )

    minimum_wage = 0
    wage_raw = raw.get("minimum_wage")
    if wage_raw not in (None, ""):
        try:
            wage_value = float(unicodedata.normalize("NFKC", str(wage_raw)).strip())
            if not wage_value.is_integer() or not 0 <= wage_value <= MAX_WAGE:
                raise ValueError(wage_raw)
            minimum_wage = int(wage_value)
        except ValueError:
            errors.append(FieldError("minimum_wage", "minimum_wage.invalid", {"max": MAX_WAGE}))

    available_from = None
    try:
        available_from = _parse_date(raw.get("available_from"))
    except (ValueError, TypeError):
        errors.append(FieldError("available_from", "available_from.invalid"))

    consent = False
    try:
        consent = _parse_bool(raw.get("consent"))
    except ValueError:
        errors.append(FieldError("consent", "consent.invalid"))

    notes = str(raw.get("notes") or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        errors.append(FieldError("notes", "notes.too_long", {"max": MAX_NOTES_LENGTH}))

    if errors or parsed is None:
        return None, errors
    return (
        ApplicantData(
            name=name,
            national_id=parsed,
            phone=phone,
            skills=skills,
            preferred_provinces=preferred,
            minimum_wage=minimum_wage,
            available_from=available_from,
            key_groups=key_groups,
            consent=consent,
            notes=notes,
        ),
        [],
    )
