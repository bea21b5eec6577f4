"""Factories for the cast the tests use."""

from __future__ import annotations

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
