"""One error shape for every API failure."""

import pytest
from rest_framework.test import APIClient

from laborlink.api import exception_handler
from laborlink.errors import Conflict, DomainError


def test_domain_error_becomes_a_4xx_with_its_message():
    response = exception_handler(
        DomainError("工资下限不能高于上限。", field="wage_min", code="wage_range"), {}
    )
    assert response.status_code == 400
    assert response.data == {
        "error": {
            "code": "wage_range",
            "message": "工资下限不能高于上限。",
            "details": {"wage_min": ["工资下限不能高于上限。"]},
        }
    }
    assert exception_handler(Conflict("已满。", code="full"), {}).status_code == 409


def test_unexpected_errors_are_left_to_django():
    assert exception_handler(ZeroDivisionError(), {}) is None


@pytest.mark.django_db
def test_anonymous_request_is_401_in_chinese_by_default():
    response = APIClient().get("/api/v1/agreements/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert body["error"]["code"] == "not_authenticated"
    assert "身份认证" in body["error"]["message"]


@pytest.mark.django_db
def test_validation_errors_carry_field_details(sichuan_officer):
    api = APIClient()
    api.force_authenticate(sichuan_officer)
    response = api.get("/api/v1/agreements/", {"in_force_on": "not-a-date"})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "in_force_on" in body["details"]


@pytest.mark.django_db
def test_throttling_answers_429_with_retry_after(settings, sichuan_officer):
    from laborlink.throttling import UserThrottle as UserRateThrottle

    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**original, "user": "3/min"}
    try:
        api = APIClient()
        api.force_authenticate(sichuan_officer)
        responses = [api.get("/api/v1/provinces/") for _ in range(4)]
    finally:
        UserRateThrottle.THROTTLE_RATES = original
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert int(responses[-1]["Retry-After"]) > 0
    assert responses[-1].json()["error"]["code"] == "throttled"
