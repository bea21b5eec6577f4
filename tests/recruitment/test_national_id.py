"""National ID numbers: normalised, checked digit by digit, never rejected for a new county."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from stdnum.cn import ric

from recruitment.national_id import normalize_national_id, parse_national_id


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


GOOD = with_check("51010419900307123")  # Chengdu Jinjiang, 1990-03-07, odd → male


def test_a_valid_number_yields_sex_birth_date_and_region():
    parsed = parse_national_id(GOOD)
    assert parsed.number == GOOD
    assert parsed.birth_date == date(1990, 3, 7)
    assert parsed.sex == "male"
    assert parsed.province_code == "51"
    assert parsed.region_code == "510104"
    assert parsed.region_known


def test_even_sequence_digit_is_female():
    assert parse_national_id(with_check("52052219851120246")).sex == "female"


@pytest.mark.parametrize(
    "raw",
    [
        f"  {GOOD}  ",
        GOOD.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        f"\u3000{GOOD}\t",
    ],
)
def test_spaces_and_full_width_digits_are_normalised(raw):
    assert parse_national_id(raw).number == GOOD


def test_lower_case_x_is_accepted():
    # find a body whose check character is X
    number = next(
        with_check(f"510104199003{seq:05d}")
        for seq in range(7000, 8000)
        if with_check(f"510104199003{seq:05d}").endswith("X")
    )
    assert parse_national_id(number.lower()).number == number
    assert normalize_national_id(number.lower()) == number


def test_county_created_after_the_birth_year_is_accepted():
    # Yuhuan became the county-level city 331083 in 2017; someone born in 1990 who renewed
    # the card there carries 331083 (python-stdnum's own validate() rejects this).
    number = with_check("33108319900101002")
    with pytest.raises(ric.ValidationError):
        ric.validate(number)
    parsed = parse_national_id(number)
    assert parsed.region_known
    assert parsed.birth_date == date(1990, 1, 1)


def test_unknown_county_is_flagged_not_rejected():
    parsed = parse_national_id(with_check("51999919900307123"))
    assert parsed.region_known is False
    assert parsed.province_code == "51"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        (GOOD[:17], "length"),
        (GOOD + "1", "length"),
        (GOOD[:10] + "A" + GOOD[11:], "format"),
        (with_check("99010419900307123"), "province"),
        (GOOD[:17] + ("0" if GOOD[17] != "0" else "1"), "checksum"),
        (with_check("51010419900230123"), "birth_date"),  # 30 February
        (with_check("51010418500307123"), "birth_date_range"),  # before 1900
        (with_check("51010420990307123"), "birth_date_range"),  # in the future
    ],
)
def test_bad_numbers_are_refused_with_their_reason(raw, code):
    with pytest.raises(ValidationError) as info:
        parse_national_id(raw, today=date(2026, 11, 22))
    assert info.value.code == code


def test_every_single_digit_change_is_caught():
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == GOOD[position] or (position < 17 and replacement == "X"):
                continue
            changed = GOOD[:position] + replacement + GOOD[position + 1 :]
            with pytest.raises(ValidationError):
                parse_national_id(changed)


def test_errors_are_translated():
    with pytest.raises(ValidationError) as info:
        parse_national_id("123")
    with translation.override("zh-hans"):
        assert info.value.messages[0] == "身份证号码应为18位，当前为3位。"
    with translation.override("en"):
        assert info.value.messages[0] == ("A national ID number has 18 characters; this one has 3.")
