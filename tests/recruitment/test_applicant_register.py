"""Registering one applicant: validation, encryption at rest, masking, duplicates, reveal."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.utils import translation

from laborlink import personal_data
from laborlink.errors import Conflict, DomainError, NotFound
from recruitment.models import Applicant, PersonalDataReveal, WhitelistEntry
from recruitment.services import (
    ApplicantInvalid,
    applicant_register,
    applicant_reveal,
    applicant_update,
    whitelist_approve,
)
from tests.factories import make_applicant, national_id_for, phone_for

pytestmark = pytest.mark.django_db


def register(officer, **overrides):
    values = {
        "name": "李秀英",
        "national_id": national_id_for("511602", date(1992, 5, 17)),
        "phone": "13812345678",
        "skills": ["assembler", "welder"],
        "consent": True,
    }
    values.update(overrides)
    return applicant_register(actor=officer, **values)


def test_sex_birth_date_and_home_province_come_from_the_id(sichuan_officer):
    applicant = register(
        sichuan_officer, national_id=national_id_for("511602", date(1992, 5, 17), 124)
    )
    assert applicant.birth_date == date(1992, 5, 17)
    assert applicant.sex == "female"  # 124: even sequence digit
    assert applicant.home_province_id == "51"
    assert applicant.region_code == "511602"
    assert applicant.region_known is True


def test_id_and_phone_are_encrypted_at_rest_and_masked(sichuan_officer):
    number = national_id_for("510104", date(1990, 3, 7), 123)
    applicant = register(sichuan_officer, national_id=number, phone="138 1234 5678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM recruitment_applicant WHERE id = %s", [applicant.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert number not in row
    assert "13812345678" not in row
    assert applicant.national_id_masked == number[:4] + "*" * 10 + number[-4:]
    assert applicant.phone_masked == "138****5678"
    assert (
        personal_data.decrypt(applicant.national_id_encrypted, context="applicant.national_id")
        == number
    )


def test_lower_case_x_full_width_digits_and_spaces_are_normalised(sichuan_officer):
    number = None
    for serial in range(1000):
        candidate = national_id_for("510104", date(1991, 1, 1), serial)
        if candidate.endswith("X"):
            number = candidate
            break
    assert number is not None
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number[:17])
    applicant = register(sichuan_officer, national_id=f"  {full_width}x ")
    assert applicant.national_id_masked.endswith(number[-4:])
    with pytest.raises(Conflict):
        register(sichuan_officer, national_id=number)


def test_a_county_code_newer_than_the_birth_year_is_accepted(sichuan_officer):
    # 511602 (Guang'an district, Guang'an) was created in 2013; someone born in 1985 got it
    # on a card issued later.
    applicant = register(sichuan_officer, national_id=national_id_for("511602", date(1985, 2, 1)))
    assert applicant.pk


def test_an_unknown_county_code_is_flagged_not_refused(sichuan_officer):
    applicant = register(sichuan_officer, national_id=national_id_for("519999", date(1990, 1, 1)))
    assert applicant.region_known is False


def test_every_error_is_reported_at_once_in_chinese(sichuan_officer):
    with pytest.raises(ApplicantInvalid) as info:
        register(sichuan_officer, name="", national_id="51010419900307123", phone="12345")
    fields = {error.field for error in info.value.errors}
    assert fields == {"name", "national_id", "phone"}
    assert "18" in info.value.details["national_id"][0]
    assert "手机" in info.value.details["phone"][0]
    assert not Applicant.objects.exists()


def test_errors_are_translated_to_english(sichuan_officer):
    with translation.override("en"), pytest.raises(ApplicantInvalid) as info:
        register(sichuan_officer, phone="12345")
    assert info.value.details["phone"] == [
        "A mobile phone number is 11 digits starting with 13 to 19."
    ]


def test_an_id_of_another_province_is_refused_by_this_bureau(sichuan_officer):
    with pytest.raises(ApplicantInvalid) as info:
        register(sichuan_officer, national_id=national_id_for("520102"))
    assert "贵州省" in info.value.details["national_id"][0]


def test_home_province_must_equal_the_id_region(sichuan_officer):
    with pytest.raises(ApplicantInvalid) as info:
        register(sichuan_officer, home_province="52")
    assert "home_province" in info.value.details


def test_a_second_registration_anywhere_says_where_the_record_is(sichuan_officer, guizhou_officer):
    number = national_id_for("520102", date(1990, 6, 1), 77)
    make_applicant(guizhou_officer, national_id=number, name="王五")
    # Even the same bureau cannot register the person twice.
    with pytest.raises(Conflict) as info:
        make_applicant(guizhou_officer, national_id=number)
    assert "贵州省人力资源和社会保障厅" in str(info.value.message)
    assert "王五" not in str(info.value.message)
    assert Applicant.objects.count() == 1


def test_reveal_needs_a_reason_and_is_recorded(sichuan_officer):
    number = national_id_for("510104", date(1990, 3, 7), 321)
    applicant = register(sichuan_officer, national_id=number)
    with pytest.raises(DomainError):
        applicant_reveal(actor=sichuan_officer, applicant=applicant, field="national_id", reason="")
    assert not PersonalDataReveal.objects.exists()
    value = applicant_reveal(
        actor=sichuan_officer, applicant=applicant, field="national_id", reason="核对身份证原件"
    )
    assert value == number
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.actor, reveal.field, reveal.reason) == (
        sichuan_officer,
        "national_id",
        "核对身份证原件",
    )
    phone = applicant_reveal(
        actor=sichuan_officer, applicant=applicant, field="phone", reason="电话联系本人"
    )
    assert phone == "13812345678"


def test_another_province_cannot_reveal_or_edit(sichuan_officer, guizhou_officer):
    applicant = register(sichuan_officer)
    with pytest.raises(NotFound):
        applicant_reveal(actor=guizhou_officer, applicant=applicant, field="phone", reason="想看看")
    with pytest.raises(NotFound):
        applicant_update(actor=guizhou_officer, applicant=applicant, name="改名")
    assert not PersonalDataReveal.objects.exists()


def test_update_changes_phone_and_keeps_the_id(sichuan_officer):
    applicant = register(sichuan_officer)
    before = applicant.national_id_hash
    applicant_update(
        actor=sichuan_officer, applicant=applicant, phone="13900001111", minimum_wage=4500
    )
    applicant.refresh_from_db()
    assert applicant.phone_masked == "139****1111"
    assert applicant.minimum_wage == 4500
    assert applicant.national_id_hash == before
    with pytest.raises(TypeError):
        applicant_update(actor=sichuan_officer, applicant=applicant, national_id="x")


def test_withdrawing_consent_revokes_approvals(sichuan_officer, agreements):
    from datetime import timedelta

    from django.utils import timezone

    applicant = register(sichuan_officer, phone=phone_for())
    whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=90),
    )
    applicant_update(actor=sichuan_officer, applicant=applicant, consent=False)
    entry = WhitelistEntry.objects.get()
    assert entry.status == WhitelistEntry.Status.REVOKED
    assert entry.decisions.last().reason == "Consent withdrawn." or "同意" in entry.reason


def test_an_hr_officer_cannot_register(hr_officer):
    from laborlink.errors import Forbidden

    with pytest.raises(Forbidden):
        register(hr_officer)


def test_quoted_cell_values_never_carry_a_full_number():
    from recruitment.registry import clean_applicant

    _data, errors = clean_applicant(
        {"name": "王五", "skills": "13812345678", "preferred_provinces": "510104199003071234"},
        bureau_province="51",
        today=date(2026, 11, 22),
    )
    quoted = [e.params["value"] for e in errors if e.field in {"skills", "preferred_provinces"}]
    assert quoted == ["138********", "510***************"]
