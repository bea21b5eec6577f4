"""The applicants endpoint: registration through the service, masked output, the access rules
of every role (Guizhou sees nothing of Sichuan's, an employer nothing before a placement and
no name before acceptance, an API client only its province), audited reveals, look-up by ID
number in a POST body, filters and a constant query count."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from laborlink.models import Organization, User
from laborlink.services import api_client_create
from recruitment.models import Applicant, PersonalDataReveal, Placement
from recruitment.services import whitelist_approve
from tests.api.masked_client import MaskCheckingClient, api_as, assert_no_personal_data
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    make_applicant,
    make_posting,
    national_id_for,
    phone_for,
    province,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/applicants/"
SECRET = "another-long-client-secret-for-the-applicants-api-0123"


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _registration(**overrides) -> dict:
    values = {
        "name": "王小红",
        "national_id": national_id_for("510104", birth=date(1995, 6, 1)),
        "phone": phone_for(),
        "skills": ["assembler", "welder"],
        "preferred_provinces": ["33"],
        "minimum_wage": 4500,
        "available_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "key_groups": ["lifted_out_of_poverty"],
        "consent": True,
        "notes": "",
    }
    values.update(overrides)
    return values


def test_sichuan_bureau_registers_an_applicant_and_the_response_is_masked(sichuan_officer):
    body = _registration()
    response = api_as(sichuan_officer).post(URL, body)
    assert response.status_code == 201, response.content
    shown = response.json()
    text = response.content.decode()
    assert body["national_id"] not in text and body["phone"] not in text
    assert "national_id" not in shown and "phone" not in shown
    assert (
        shown["national_id_masked"] == body["national_id"][:4] + "*" * 10 + body["national_id"][-4:]
    )
    assert shown["phone_masked"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert shown["name"] == "王小红"
    assert shown["home_province"] == "51"
    assert shown["sex"] in {"male", "female"} and "birth_date" not in shown
    assert "region_code" not in shown
    assert shown["skills"] == ["assembler", "welder"]
    assert shown["consent_cross_province"] is True and shown["consent_recorded_at"]
    assert shown["registering_bureau"]["name"] == "四川省人力资源和社会保障厅"
    applicant = Applicant.objects.get(pk=shown["id"])
    assert applicant.registered_by == sichuan_officer
    assert body["national_id"] not in applicant.national_id_encrypted


def test_duplicate_registration_is_refused_naming_the_bureau(sichuan_officer):
    body = _registration()
    api = api_as(sichuan_officer)
    assert api.post(URL, body).status_code == 201
    again = api.post(URL, {**body, "name": "王小红二", "phone": phone_for()})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "duplicate"
    assert "四川省人力资源和社会保障厅" in error["message"]
    assert "national_id" in error["details"]
    assert Applicant.objects.count() == 1


def test_invalid_registration_reports_every_field(sichuan_officer):
    body = _registration(phone="12345", skills=["juggler"])
    body["national_id"] = body["national_id"][:-1] + (
        "0" if body["national_id"][-1] != "0" else "1"
    )
    response = api_as(sichuan_officer).post(URL, body)
    assert response.status_code == 400
    assert {"national_id", "phone", "skills"} <= set(response.json()["error"]["details"])
    assert not Applicant.objects.exists()


def test_guizhou_bureau_sees_nothing_of_sichuans_applicants(sichuan_officer, guizhou_officer):
    number = national_id_for("510104")
    sichuan = make_applicant(sichuan_officer, national_id=number)
    guizhou = make_applicant(guizhou_officer, region="520102")
    api = api_as(guizhou_officer)

    assert _ids(api.get(URL)) == {guizhou.pk}
    assert api.get(f"{URL}{sichuan.pk}/").status_code == 404
    assert _ids(api.get(URL, {"home_province": "51"})) == set()
    assert _ids(api.get(URL, {"search": "张三"})) == {guizhou.pk}
    assert (
        api.post(f"{URL}{sichuan.pk}/reveal/", {"field": "phone", "reason": "核对"}).status_code
        == 404
    )
    assert api.patch(f"{URL}{sichuan.pk}/", {"minimum_wage": 1}).status_code == 404
    assert api.post(f"{URL}lookup/", {"national_id": number}).status_code == 404
    assert not PersonalDataReveal.objects.exists()
    sichuan.refresh_from_db()
    assert sichuan.minimum_wage == 4000


def test_reveal_returns_the_number_and_records_who_and_why(sichuan_officer):
    number, phone = national_id_for("510104"), phone_for()
    applicant = make_applicant(sichuan_officer, national_id=number, phone=phone)
    api = api_as(sichuan_officer)

    response = api.post(
        f"{URL}{applicant.pk}/reveal/", {"field": "national_id", "reason": "核对身份"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"field": "national_id", "value": number}
    assert response["Cache-Control"] == "no-store"
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.applicant, reveal.actor, reveal.field, reveal.reason) == (
        applicant,
        sichuan_officer,
        "national_id",
        "核对身份",
    )
    phone_answer = api.post(
        f"{URL}{applicant.pk}/reveal/", {"field": "phone", "reason": "电话回访"}
    )
    assert phone_answer.json()["value"] == phone

    without_reason = api.post(f"{URL}{applicant.pk}/reveal/", {"field": "phone"})
    assert without_reason.status_code == 400
    assert "reason" in without_reason.json()["error"]["details"]
    assert PersonalDataReveal.objects.count() == 2


def test_importing_bureau_sees_approved_applicants_but_cannot_reveal(
    sichuan_officer, zhejiang_officer, agreements
):
    approved = make_applicant(sichuan_officer)
    make_applicant(sichuan_officer)
    whitelist_approve(
        actor=sichuan_officer,
        applicants=[approved.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=90),
    )
    api = api_as(zhejiang_officer)
    assert _ids(api.get(URL)) == {approved.pk}
    assert _ids(api.get(URL, {"whitelisted_for": "33", "whitelist_status": "approved"})) == {
        approved.pk
    }
    reveal = api.post(f"{URL}{approved.pk}/reveal/", {"field": "phone", "reason": "联系本人"})
    assert reveal.status_code == 404
    assert not PersonalDataReveal.objects.exists()


def test_employer_sees_an_applicant_only_when_placed_and_the_name_once_accepted(
    hr_officer, sichuan_officer, agreements
):
    applicant = make_applicant(sichuan_officer, name="李四")
    posting = make_posting(hr_officer)
    api = api_as(hr_officer)

    assert _ids(api.get(URL)) == set()
    assert api.get(f"{URL}{applicant.pk}/").status_code == 404

    placement = Placement.objects.create(applicant=applicant, posting=posting, status="offered")
    listed = api.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [applicant.pk]
    shown = api.get(f"{URL}{applicant.pk}/").json()
    assert shown["name"] is None and shown["phone_masked"] is None
    assert shown["national_id_masked"] == applicant.national_id_masked
    assert "李四" not in api.get(URL).content.decode()
    # A search by name cannot tell the employer a name it may not see.
    assert _ids(api.get(URL, {"search": "李四"})) == set()

    Placement.objects.filter(pk=placement.pk).update(status="accepted")
    shown = api.get(f"{URL}{applicant.pk}/").json()
    assert shown["name"] == "李四"
    assert shown["phone_masked"] == applicant.phone_masked
    assert _ids(api.get(URL, {"search": "李四"})) == {applicant.pk}
    # The employer reads; it neither edits nor reveals.
    assert api.patch(f"{URL}{applicant.pk}/", {"minimum_wage": 1}).status_code == 404
    assert (
        api.post(f"{URL}{applicant.pk}/reveal/", {"field": "phone", "reason": "联系"}).status_code
        == 404
    )
    assert api.post(URL, _registration()).status_code == 403


def test_a_placement_with_another_employer_shows_nothing(hr_officer, sichuan_officer, agreements):
    other = UserFactory(
        role=User.Role.HR_OFFICER,
        organization=OrganizationFactory(kind=Organization.Kind.EMPLOYER, province=province("33")),
    )
    applicant = make_applicant(sichuan_officer)
    Placement.objects.create(
        applicant=applicant, posting=make_posting(hr_officer), status="accepted"
    )
    assert _ids(api_as(other).get(URL)) == set()


def test_partial_update_corrects_a_registration_but_never_the_id_number(sichuan_officer):
    applicant = make_applicant(sichuan_officer)
    api = api_as(sichuan_officer)
    response = api.patch(
        f"{URL}{applicant.pk}/", {"minimum_wage": 5200, "skills": ["welder"], "name": "张三丰"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["minimum_wage"] == 5200
    assert response.json()["skills"] == ["welder"]
    assert response.json()["name"] == "张三丰"

    refused = api.patch(f"{URL}{applicant.pk}/", {"national_id": national_id_for("510104")})
    assert refused.status_code == 400
    assert "national_id" in refused.json()["error"]["details"]
    bad_phone = api.patch(f"{URL}{applicant.pk}/", {"phone": "123"})
    assert bad_phone.status_code == 400
    assert "phone" in bad_phone.json()["error"]["details"]


def test_lookup_by_id_number_is_a_post_for_the_registering_side(sichuan_officer, zhejiang_officer):
    number = national_id_for("510104")
    applicant = make_applicant(sichuan_officer, national_id=number)
    make_applicant(sichuan_officer)

    found = api_as(sichuan_officer).post(f"{URL}lookup/", {"national_id": f" {number.lower()} "})
    assert found.status_code == 200, found.content
    assert found.json()["id"] == applicant.pk
    missing = api_as(sichuan_officer).post(f"{URL}lookup/", {"national_id": national_id_for()})
    assert missing.status_code == 404
    assert (
        api_as(zhejiang_officer).post(f"{URL}lookup/", {"national_id": number}).status_code == 404
    )
    # An ID number given as a query parameter filters nothing: it is not an accepted input.
    # (A full, valid number in a URL would itself be the leak the suite's checker refuses:
    # a filter on this one would leave no row.)
    not_registered = number[:17] + ("1" if number[17] == "0" else "0")
    listed = api_as(sichuan_officer).get(URL, {"national_id": not_registered})
    assert len(listed.json()["results"]) == 2


def test_schema_offers_no_query_parameter_for_id_numbers_or_phones(sichuan_officer):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/applicants/"):
            continue
        for operation in operations.values():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert not names & {"national_id", "phone", "id_number"}, path


def test_applicants_are_filtered(sichuan_officer, zhejiang_officer, agreements):
    today = timezone.localdate()
    # The ID number's sequence is odd for a man, even for a woman.
    welder = make_applicant(
        sichuan_officer,
        national_id=national_id_for("510104", serial=11),
        skills=["welder"],
        key_groups=["veteran"],
        name="赵六",
    )
    assembler = make_applicant(
        sichuan_officer,
        national_id=national_id_for("510104", serial=13),
        skills=["assembler"],
        consent=False,
    )
    woman = make_applicant(
        sichuan_officer, national_id=national_id_for("510104", serial=12), name="钱七"
    )
    Applicant.objects.filter(pk=assembler.pk).update(created_at=timezone.now() - timedelta(days=40))
    whitelist_approve(
        actor=sichuan_officer,
        applicants=[welder.pk],
        importing_province="33",
        expires_on=today + timedelta(days=30),
    )
    api = api_as(sichuan_officer)

    assert _ids(api.get(URL, {"skill": "welder"})) == {welder.pk}
    assert _ids(api.get(URL, {"key_group": "veteran"})) == {welder.pk}
    assert _ids(api.get(URL, {"consent": "false"})) == {assembler.pk}
    assert _ids(api.get(URL, {"sex": "female"})) == {woman.pk}
    assert _ids(api.get(URL, {"region_known": "true"})) == {welder.pk, assembler.pk, woman.pk}
    since = (today - timedelta(days=7)).isoformat()
    assert _ids(api.get(URL, {"registered_after": since})) == {welder.pk, woman.pk}
    assert _ids(api.get(URL, {"registered_before": since})) == {assembler.pk}
    assert _ids(api.get(URL, {"whitelisted_for": "33"})) == {welder.pk}
    assert _ids(api.get(URL, {"whitelisted_for": "33", "whitelist_status": "rejected"})) == set()
    assert _ids(api.get(URL, {"whitelisted_for": "44"})) == set()
    assert _ids(api.get(URL, {"search": "赵六"})) == {welder.pk}
    oldest = api.get(URL, {"ordering": "created_at"}).json()["results"][0]
    assert oldest["id"] == assembler.pk
    assert api.get(URL, {"skill": "juggling"}).status_code == 400


# --- API client --------------------------------------------------------------------------


def _client_token(bureau) -> str:
    _machine, application, secret = api_client_create(
        actor=None, bureau=bureau, name="四川省就业信息系统", client_secret=SECRET
    )
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_api_client_sees_its_provinces_applicants_only_and_cannot_write(
    sichuan_bureau, sichuan_officer, guizhou_officer
):
    sichuan = make_applicant(sichuan_officer)
    guizhou = make_applicant(guizhou_officer, region="520102")
    api = MaskCheckingClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_client_token(sichuan_bureau)}")

    assert _ids(api.get(URL)) == {sichuan.pk}
    assert api.get(f"{URL}{sichuan.pk}/").json()["name"] == "张三"
    assert api.get(f"{URL}{guizhou.pk}/").status_code == 404
    assert _ids(api.get(URL, {"home_province": "52"})) == set()

    created = api.post(URL, _registration())
    assert created.status_code == 403
    assert created.json()["error"]["code"] == "permission_denied"
    reveal = api.post(f"{URL}{sichuan.pk}/reveal/", {"field": "phone", "reason": "核对"})
    assert reveal.status_code == 403
    assert Applicant.objects.count() == 2
    assert not PersonalDataReveal.objects.exists()


# --- Query count -------------------------------------------------------------------------


def _list_queries(api) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()["count"]


def _register_and_place(officer, posting, n: int) -> None:
    for i in range(n):
        applicant = make_applicant(officer)
        status = "accepted" if i % 2 else "offered"
        Placement.objects.create(applicant=applicant, posting=posting, status=status)


def test_list_query_count_does_not_grow_with_rows(hr_officer, sichuan_officer, agreements):
    posting = make_posting(hr_officer)
    employer, bureau = api_as(hr_officer), api_as(sichuan_officer)
    _register_and_place(sichuan_officer, posting, 2)
    employer_few, bureau_few = _list_queries(employer), _list_queries(bureau)
    assert employer_few[1] == bureau_few[1] == 2
    _register_and_place(sichuan_officer, posting, 10)
    assert _list_queries(employer) == (employer_few[0], 12)
    assert _list_queries(bureau) == (bureau_few[0], 12)
    names = [row["name"] for row in employer.get(URL).json()["results"]]
    assert names.count(None) == 6


def test_the_response_scan_catches_a_full_id_number_or_phone():
    number = national_id_for("510104")
    for leaked in (f'{{"id": "{number}"}}', f'{{"phone": "{phone_for()}"}}'):
        with pytest.raises(AssertionError):
            assert_no_personal_data(leaked)
    assert_no_personal_data('{"national_id_masked": "5101**********1234", "region_code": "510104"}')
