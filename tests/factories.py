"""Factories for the cast the tests use."""

from __future__ import annotations

import itertools
from datetime import date

import factory

from laborlink.models import CooperationAgreement, Organization, Province, User

TEST_PASSWORD = "Test-pass-2026!"


def province(code: str) -> Province:
    return Province.objects.get(code=code)


def credit_code_for(region: str, serial: int) -> str:
    from stdnum.cn import uscc

    body = f"91{region}{serial:09d}"[:17]
    return body + uscc.calc_check_digit(body)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"机构{n}")
    kind = Organization.Kind.BUREAU
    level = Organization.Level.PROVINCE
    province = factory.LazyFunction(lambda: province("51"))
    city = ""
    credit_code = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == Organization.Kind.EMPLOYER),
        yes_declaration=factory.Sequence(lambda n: credit_code_for("330100", 700000000 + n)),
        no_declaration="",
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.BUREAU_OFFICER
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CooperationAgreement

    title = factory.Sequence(lambda n: f"劳务协作协议{n}")
    importing_province = factory.LazyFunction(lambda: province("33"))
    exporting_province = factory.LazyFunction(lambda: province("51"))
    signed_on = date(2024, 2, 20)
    valid_from = date(2024, 2, 20)
    valid_until = date(2027, 2, 19)
    status = CooperationAgreement.Status.ACTIVE


# --- Recruitment ----------------------------------------------------------------------------

_id_serial = itertools.count(1)


def national_id_for(
    region: str = "510104", birth: date = date(1990, 3, 7), serial: int | None = None
) -> str:
    """A valid 18-character ID number in `region`, born on `birth` (serial → unique)."""
    from stdnum.cn import ric

    number = serial if serial is not None else next(_id_serial)
    body = f"{region}{birth:%Y%m%d}{number % 1000:03d}"
    if serial is None and number >= 1000:
        body = (
            f"{region}{birth.replace(year=birth.year - number // 1000):%Y%m%d}{number % 1000:03d}"
        )
    return body + ric.calc_check_digit(body + "0")


_phone_serial = itertools.count(10000000)


def phone_for() -> str:
    return f"138{next(_phone_serial):08d}"


def make_applicant(officer: User, **overrides):
    """Register an applicant through the service, as the officer's bureau would."""
    from recruitment.services import applicant_register

    region = overrides.pop("region", None) or f"{officer.organization.province_id}0104"
    values = {
        "name": "张三",
        "national_id": national_id_for(region),
        "phone": phone_for(),
        "skills": ["assembler"],
        "minimum_wage": 4000,
        "consent": True,
    }
    values.update(overrides)
    return applicant_register(actor=officer, **values)


def posting_values(**overrides) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    values = {
        "title": "医疗器械装配工",
        "occupation": "medical_device_assembler",
        "positions": 20,
        "wage_min": 5000,
        "wage_max": 7000,
        "city": "台州市",
        "start_date": today + timedelta(days=30),
        "deadline": today + timedelta(days=20),
        "urgency": "urgent",
    }
    values.update(overrides)
    return values


def make_posting(hr_officer: User, *, publish: bool = True, **overrides):
    """Create (and by default publish) a posting through the services."""
    from recruitment.services import posting_create, posting_publish

    targets = overrides.pop("target_provinces", None)
    posting = posting_create(
        actor=hr_officer, target_provinces=targets, **posting_values(**overrides)
    )
    if publish:
        posting = posting_publish(actor=hr_officer, posting=posting)
    return posting
