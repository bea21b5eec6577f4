"""Unified social credit codes (GB 32100-2015) are checked by their check digit."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from laborlink.errors import Conflict, DomainError
from laborlink.models import Organization
from laborlink.services import organization_create
from laborlink.validators import validate_credit_code
from tests.factories import province

VALID = ["913310837012345609", "914403007012345600", "91440800701234560R"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass(code):
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("913310837012345608", "checksum"),  # last character changed
        ("913310837012345690", "checksum"),  # two characters swapped
        ("91331083701234560", "length"),
        ("9133108370123456099", "length"),
        ("91331083701234560I", "format"),  # I, O, S, V, Z are not in the alphabet
        ("9A3310837012345609", "format"),  # the first eight are digits
    ],
)
def test_invalid_codes_are_refused_with_a_reason(code, reason):
    with pytest.raises(ValidationError) as info:
        validate_credit_code(code)
    assert info.value.code == reason


def test_employer_code_is_normalised_and_checked(db):
    org = organization_create(
        actor=None,
        name="测试企业",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        credit_code=" 91440800701234560r ",
    )
    assert org.credit_code == "91440800701234560R"
    with pytest.raises(DomainError) as info:
        organization_create(
            actor=None,
            name="坏企业",
            kind=Organization.Kind.EMPLOYER,
            province=province("33"),
            credit_code="913310837012345608",
        )
    assert info.value.field == "credit_code"
    with pytest.raises(Conflict):
        organization_create(
            actor=None,
            name="重复企业",
            kind=Organization.Kind.EMPLOYER,
            province=province("44"),
            credit_code="91440800701234560R",
        )


def test_employer_without_code_is_refused_by_service_and_database(db):
    with pytest.raises(DomainError):
        organization_create(
            actor=None, name="无码企业", kind=Organization.Kind.EMPLOYER, province=province("33")
        )
    with pytest.raises(IntegrityError):
        Organization.objects.create(
            name="无码企业", kind=Organization.Kind.EMPLOYER, province=province("33")
        )


def test_admin_form_reports_a_bad_code(db):
    from laborlink.admin import OrganizationAdminForm

    form = OrganizationAdminForm(
        data={
            "name": "表单企业",
            "kind": "employer",
            "level": "city",
            "province": "33",
            "credit_code": "913310837012345608",
            "is_active": True,
        }
    )
    assert not form.is_valid()
    assert "credit_code" in form.errors


def test_admin_form_reports_a_missing_employer_code_with_the_constraint_message(db):
    from django.utils import translation

    from laborlink.admin import OrganizationAdminForm

    form = OrganizationAdminForm(
        data={"name": "无码企业", "kind": "employer", "level": "city", "province": "33"}
    )
    with translation.override("zh-hans"):
        assert not form.is_valid()
        assert "用人单位必须填写统一社会信用代码。" in str(form.errors)
    assert not Organization.objects.filter(name="无码企业").exists()
