"""Who sees which certificate over the API, and how much of it.

The issuing authority's health officers read everything (result, token, examiner notes); the
exporting bureau that registered the applicant, and its API client, read the status only;
everyone else sees nothing (404).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from health import services
from laborlink.models import Organization, User
from laborlink.services import api_client_create
from tests.api.masked_client import api_as
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

pytestmark = pytest.mark.django_db

NOTES = "既往有乙肝病史，肝功能正常。"
PRIVATE = {"result", "token", "notes"}
STATUS_FIELDS = {
    "id",
    "number",
    "applicant",
    "authority",
    "key_id",
    "examined_on",
    "issued_at",
    "valid_until",
    "status",
    "status_display",
    "revoked_at",
    "revoke_reason",
    "in_force",
}


def issue(officer, applicant, **overrides):
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=1),
        "result": "not_fit",
        "valid_until": today + timedelta(days=45),
        "notes": NOTES,
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def health_officer_of(name: str, code: str) -> User:
    authority = OrganizationFactory(
        name=name,
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province(code),
        level=Organization.Level.CITY,
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


@pytest.fixture
def certificate(health_officer, sichuan_officer):
    return issue(health_officer, make_applicant(sichuan_officer, name="刘晓燕"))


@pytest.fixture
def sichuan_client_user(sichuan_bureau):
    machine, _application, _secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统"
    )
    return machine


def get_list(user):
    response = api_as(user).get("/api/v1/certificates/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def get_detail(user, certificate):
    return api_as(user).get(f"/api/v1/certificates/{certificate.pk}/")


def assert_status_only(row, certificate):
    assert set(row) == STATUS_FIELDS
    assert not PRIVATE & set(row)
    assert row["number"] == certificate.number
    assert row["valid_until"] == str(certificate.valid_until)
    assert row["status"] == "valid"
    # "in force" means usable (unrevoked, in date and fit): this certificate says not fit,
    # which is all a bureau learns of the result (the whitelist page shows the same).
    assert row["in_force"] is False


# --- The matrix -----------------------------------------------------------------------------


def test_issuing_health_officer_reads_everything(health_officer, certificate):
    rows = get_list(health_officer)
    detail = get_detail(health_officer, certificate)

    assert [row["number"] for row in rows] == [certificate.number]
    assert detail.status_code == 200
    for body in (rows[0], detail.json()):
        assert set(body) == STATUS_FIELDS | PRIVATE
        assert body["result"] == "not_fit"
        assert body["notes"] == NOTES
        assert body["token"] == services.certificate_token(certificate)
        assert body["applicant"]["name"] == "刘晓燕"
        assert body["applicant"]["national_id_masked"] == certificate.applicant.national_id_masked


def test_guizhou_health_officer_sees_nothing(certificate):
    guizhou = health_officer_of("贵州省毕节市卫生健康局", "52")

    assert get_list(guizhou) == []
    response = get_detail(guizhou, certificate)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_sichuan_health_authority_sees_nothing(certificate):
    chengdu = health_officer_of("成都市卫生健康委员会", "51")

    assert get_list(chengdu) == []
    assert get_detail(chengdu, certificate).status_code == 404


def test_exporting_bureau_sees_the_status_but_no_result_token_or_notes(
    sichuan_officer, certificate
):
    rows = get_list(sichuan_officer)
    detail = get_detail(sichuan_officer, certificate)

    assert detail.status_code == 200
    assert_status_only(rows[0], certificate)
    assert_status_only(detail.json(), certificate)
    text = detail.content.decode()
    assert NOTES not in text
    assert "not_fit" not in text
    assert services.certificate_token(certificate).split(".")[1] not in text


@pytest.mark.parametrize("actor_fixture", ["zhejiang_officer", "guizhou_officer", "hr_officer"])
def test_other_bureaus_and_employers_see_nothing(request, actor_fixture, certificate):
    actor = request.getfixturevalue(actor_fixture)

    assert get_list(actor) == []
    assert get_detail(actor, certificate).status_code == 404


def test_sichuan_api_client_sees_the_status_only(sichuan_client_user, certificate):
    rows = get_list(sichuan_client_user)
    detail = get_detail(sichuan_client_user, certificate)

    assert detail.status_code == 200
    assert_status_only(rows[0], certificate)
    assert_status_only(detail.json(), certificate)


def test_api_client_cannot_issue_or_revoke(sichuan_client_user, certificate):
    api = api_as(sichuan_client_user)

    issued = api.post(
        "/api/v1/certificates/",
        {
            "applicant": certificate.applicant_id,
            "examined_on": str(timezone.localdate()),
            "result": "fit",
            "valid_until": str(timezone.localdate() + timedelta(days=10)),
        },
    )
    revoked = api.post(f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "x"})

    assert issued.status_code == 403
    assert revoked.status_code == 403
    assert issued.json()["error"]["code"] == "permission_denied"
    certificate.refresh_from_db()
    assert certificate.status == "valid"


def test_bureau_that_sees_a_certificate_still_cannot_revoke_it(sichuan_officer, certificate):
    response = api_as(sichuan_officer).post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "越权"}
    )

    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == "valid"


def test_revoking_a_certificate_outside_the_scope_is_404(certificate):
    guizhou = health_officer_of("贵州省毕节市卫生健康局", "52")

    response = api_as(guizhou).post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "越权"}
    )

    assert response.status_code == 404
    certificate.refresh_from_db()
    assert certificate.status == "valid"


def test_platform_admin_sees_every_certificate_but_not_the_examiner_notes(
    platform_admin, certificate
):
    rows = get_list(platform_admin)

    assert [row["number"] for row in rows] == [certificate.number]
    assert not PRIVATE & set(rows[0])


def test_anonymous_caller_cannot_list():
    response = api_as().get("/api/v1/certificates/")

    assert response.status_code in {401, 403}


# --- Query counts ---------------------------------------------------------------------------


def _list_queries(user) -> tuple[int, int]:
    api = api_as(user)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/certificates/", {"page_size": 100})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize(
    "reader_fixture", ["health_officer", "sichuan_officer", "sichuan_client_user"]
)
def test_list_query_count_does_not_grow_with_the_rows(
    request, reader_fixture, health_officer, sichuan_officer
):
    reader = request.getfixturevalue(reader_fixture)
    for _ in range(2):
        issue(health_officer, make_applicant(sichuan_officer))
    few, rows_few = _list_queries(reader)

    for _ in range(10):
        issue(health_officer, make_applicant(sichuan_officer))
    many, rows_many = _list_queries(reader)

    assert (rows_few, rows_many) == (2, 12)
    assert few == many


def test_admin_lists_certificates_read_only_without_decrypted_fields(
    client, platform_admin, certificate
):
    client.force_login(platform_admin)

    listing = client.get("/admin/health/healthcertificate/")
    detail = client.get(f"/admin/health/healthcertificate/{certificate.pk}/change/")
    changed = client.post(
        f"/admin/health/healthcertificate/{certificate.pk}/change/", {"revoke_reason": "x"}
    )

    assert listing.status_code == 200 and certificate.number in listing.content.decode()
    assert detail.status_code == 200
    assert changed.status_code == 403
    for response in (listing, detail):
        text = response.content.decode()
        assert NOTES not in text
        assert services.certificate_token(certificate).split(".")[1] not in text
        assert "not_fit" not in text
    for path in ("verificationlog", "arrivalcheck"):
        assert client.get(f"/admin/health/{path}/").status_code == 200
        assert client.get(f"/admin/health/{path}/add/").status_code == 403
