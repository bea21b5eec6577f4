"""The agreements endpoint: scoped, filtered, paged, constant query count."""

from datetime import date

from rest_framework.test import APIClient

from tests.factories import AgreementFactory, province


def test_bureau_lists_its_provinces_agreements_with_filters(agreements, zhejiang_officer):
    api = APIClient()
    api.force_authenticate(zhejiang_officer)
    rows = api.get("/api/v1/agreements/").json()["results"]
    assert {r["id"] for r in rows} == {agreements["zj_sc"].id, agreements["zj_gz"].id}
    only_sichuan = api.get("/api/v1/agreements/", {"exporting_province": "51"}).json()
    assert [r["id"] for r in only_sichuan["results"]] == [agreements["zj_sc"].id]
    before = api.get("/api/v1/agreements/", {"in_force_on": "2024-02-19"}).json()
    assert before["results"] == []


def test_admin_sees_every_agreement(agreements, platform_admin):
    api = APIClient()
    api.force_authenticate(platform_admin)
    assert api.get("/api/v1/agreements/").json()["count"] == 3


def test_list_query_count_is_constant(zhejiang_officer, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(zhejiang_officer)
    AgreementFactory(importing_province=province("33"), exporting_province=province("51"))
    with django_assert_max_num_queries(10) as first:
        api.get("/api/v1/agreements/")
    for i, code in enumerate(["52", "53", "41", "34", "36", "43", "42", "45"]):
        AgreementFactory(
            importing_province=province("33"),
            exporting_province=province(code),
            valid_from=date(2024, 1, 1 + i),
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = api.get("/api/v1/agreements/")
    assert response.json()["count"] == 9


def test_lists_are_paged(agreements, platform_admin):
    api = APIClient()
    api.force_authenticate(platform_admin)
    first = api.get("/api/v1/agreements/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    ids = {r["id"] for r in first["results"] + second["results"]}
    assert ids == {a.id for a in agreements.values()}


def test_agreements_page_is_in_english_on_request(zhejiang_officer):
    api = APIClient()
    api.force_authenticate(zhejiang_officer)
    response = api.get("/api/v1/agreements/", {"in_force_on": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["error"]["message"] == "The request contains invalid data."
