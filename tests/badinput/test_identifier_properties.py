"""Property tests (hypothesis) of the identifiers the platform accepts: national ID numbers
(recruitment.national_id) and unified social credit codes (laborlink.validators).

Derandomised, with bounded example counts: the same examples on every run."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from laborlink.regions import PROVINCE_CODES
from laborlink.validators import normalize_credit_code, validate_credit_code
from recruitment.national_id import MESSAGES, normalize_national_id, parse_national_id

TODAY = date(2026, 6, 1)
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ID_ALPHABET = "0123456789X"
CANONICAL_ID = re.compile(r"[0-9]{17}[0-9X]")

# --- National ID numbers --------------------------------------------------------------------


@st.composite
def national_ids(draw) -> tuple[str, date, str]:
    """A valid 18-character number: a province's code, any county digits, a birth date from
    1900 to TODAY, a sequence number and its ISO 7064 MOD 11-2 check character."""
    region = draw(st.sampled_from(sorted(PROVINCE_CODES))) + draw(
        st.text("0123456789", min_size=4, max_size=4)
    )
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0"), birth, region


def spellings(number: str):
    """Ways people write the same number: lower-case x, full-width characters, spaces."""
    full_width = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    return st.sampled_from([number, number.lower(), f"  {number}\t", number.translate(full_width)])


@PROPERTY
@given(st.data())
def test_valid_national_ids_round_trip(data):
    number, birth, region = data.draw(national_ids())
    written = data.draw(spellings(number))
    parsed = parse_national_id(written, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.province_code == number[:2]
    assert parsed.region_code == region
    assert parsed.sex == ("male" if int(number[16]) % 2 else "female")


@PROPERTY
@given(st.data())
def test_any_single_character_change_is_rejected(data):
    number, _birth, _region = data.draw(national_ids())
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.one_of(st.sampled_from(ID_ALPHABET), st.characters(codec="utf-8")))
    changed = number[:position] + replacement + number[position + 1 :]
    # x for X, a full-width digit for the same digit: the same number, rightly accepted.
    assume(normalize_national_id(changed) != number)
    with pytest.raises(ValidationError) as caught:
        parse_national_id(changed, today=TODAY)
    assert caught.value.code in MESSAGES


@PROPERTY
@given(st.data())
def test_every_wrong_check_character_is_a_checksum_error(data):
    number, _birth, _region = data.draw(national_ids())
    wrong = data.draw(st.sampled_from([c for c in ID_ALPHABET if c != number[17]]))
    with pytest.raises(ValidationError) as caught:
        parse_national_id(number[:17] + wrong, today=TODAY)
    assert caught.value.code == "checksum"


@PROPERTY
@given(st.data())
def test_two_adjacent_digits_swapped_are_rejected(data):
    number, _birth, _region = data.draw(national_ids())
    position = data.draw(st.integers(0, 15))
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assume(swapped != number)
    with pytest.raises(ValidationError):
        parse_national_id(swapped, today=TODAY)


@PROPERTY
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(categories=["Nd"]), min_size=16, max_size=20),
        st.text("0123456789Xx ", min_size=15, max_size=21),
    )
)
def test_arbitrary_text_is_a_validation_error_or_a_canonical_number(text):
    """Nothing but ValidationError escapes, and whatever is accepted is 17 ASCII digits and
    a digit or X (other scripts' digits, such as ٣ or ३, are digits to Python's isdigit)."""
    try:
        parsed = parse_national_id(text, today=TODAY)
    except ValidationError as error:
        assert error.code in MESSAGES
        assert str(error.messages[0])
    else:
        assert CANONICAL_ID.fullmatch(parsed.number)
        assert parsed.number == ric.compact(parsed.number)
        assert ric.is_valid(parsed.number)


OTHER_SCRIPT_ZEROS = (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10, 0x1D7CE)


@PROPERTY
@given(st.data())
def test_digits_of_other_scripts_never_make_another_valid_number(data):
    """Arabic-Indic ٣, Devanagari ३ … pass Python's isdigit() and int(): such a spelling of
    a valid number must be refused (or, for full-width and mathematical digits, which NFKC
    turns into ASCII, read as the same number), never stored as a second person."""
    number, _birth, _region = data.draw(national_ids())
    positions = data.draw(st.sets(st.integers(2, 16), min_size=1, max_size=6))
    zero = data.draw(st.sampled_from(OTHER_SCRIPT_ZEROS))
    lookalike = "".join(chr(zero + int(c)) if i in positions else c for i, c in enumerate(number))
    try:
        parsed = parse_national_id(lookalike, today=TODAY)
    except ValidationError as error:
        assert error.code == "format"
    else:
        assert parsed.number == number


# --- Unified social credit codes ------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def credit_codes(draw) -> str:
    """A valid code: registering department and kind, six region digits, nine characters of
    organisation code, check character."""
    body = draw(st.text("0123456789", min_size=8, max_size=8)) + draw(
        st.text(USCC_ALPHABET, min_size=9, max_size=9)
    )
    return body + uscc.calc_check_digit(body)


def _ours_accepts(code: str) -> bool:
    try:
        validate_credit_code(code)
    except ValidationError as error:
        assert error.code in {"length", "format", "checksum", "invalid"}
        return False
    return True


@PROPERTY
@given(credit_codes())
def test_generated_credit_codes_are_valid_for_us_and_for_stdnum(code):
    assert uscc.is_valid(code)
    assert _ours_accepts(code)
    assert normalize_credit_code(f" {code[:9]}-{code[9:].lower()} ") == code


@PROPERTY
@given(st.data())
def test_changed_credit_codes_are_judged_as_stdnum_judges_them(data):
    code = data.draw(credit_codes())
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.one_of(st.sampled_from(USCC_ALPHABET), st.characters()))
    changed = code[:position] + replacement + code[position + 1 :]
    assert _ours_accepts(changed) == uscc.is_valid(changed)
    if normalize_credit_code(changed) != code:
        assert not _ours_accepts(changed)


@PROPERTY
@given(st.text())
def test_arbitrary_text_never_raises_anything_but_a_validation_error(text):
    assert _ours_accepts(text) == (uscc.is_valid(text) or not text)
