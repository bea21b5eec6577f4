"""laborlink.throttling: the API's rate limits counted in Redis with a sliding window, one
atomic round trip per request."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from rest_framework.test import APIRequestFactory

from laborlink.throttling import UserThrottle

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TenPerMinute(UserThrottle):
    rate = "10/min"

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.timer = clock

    def get_cache_key(self, request, view):
        return "test-throttle:caller"


def _hits(clock: Clock, count: int) -> list[bool]:
    return [TenPerMinute(clock).allow_request(None, None) for _ in range(count)]


@pytest.fixture(autouse=True)
def _no_old_counts():
    cache.delete_many([f"test-throttle:caller:{w}" for w in range(29_000_000, 29_000_010)])


def test_the_limit_holds_within_a_window():
    clock = Clock(29_000_000 * 60 + 5)
    assert _hits(clock, 12) == [True] * 10 + [False, False]


def test_the_previous_window_counts_by_how_much_of_it_still_overlaps():
    clock = Clock(29_000_000 * 60 + 50)
    assert _hits(clock, 10) == [True] * 10
    # 5 s into the next window, 55 s of the last minute lie in the previous one: 10 × 55/60
    # ≈ 9.2 of the 10 are still used, one more request passes
    clock.now = 29_000_001 * 60 + 5
    assert _hits(clock, 2) == [True, False]
    # 55 s in, 10 × 5/60 ≈ 0.8 remain used: with the 1 counted in this window, 9 more pass
    clock.now = 29_000_001 * 60 + 55
    assert _hits(clock, 10) == [True] * 9 + [False]


def test_retry_after_points_to_when_a_request_passes_again():
    clock = Clock(29_000_000 * 60 + 50)
    _hits(clock, 10)
    throttle = TenPerMinute(clock)
    assert throttle.allow_request(None, None) is False
    wait = throttle.wait()
    assert 0 < wait <= 70
    clock.now += wait
    assert TenPerMinute(clock).allow_request(None, None) is True
    clock.now -= 2  # and not much earlier
    assert TenPerMinute(clock).allow_request(None, None) is False


def test_concurrent_requests_never_pass_more_than_the_limit():
    clock = Clock(29_000_002 * 60 + 1)
    passed = []
    start = threading.Barrier(25)

    def hit() -> None:
        start.wait()
        passed.append(TenPerMinute(clock).allow_request(None, None))

    threads = [threading.Thread(target=hit) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == 10


def test_each_caller_has_its_own_count(sichuan_officer, zhejiang_officer):
    class PerUser(UserThrottle):
        rate = "2/min"

    factory = APIRequestFactory()
    results = {}
    for user in (sichuan_officer, zhejiang_officer):
        request = factory.get("/api/v1/provinces/")
        request.user = user
        results[user.username] = [PerUser().allow_request(request, None) for _ in range(3)]
    assert list(results.values()) == [[True, True, False], [True, True, False]]


def test_with_a_cache_without_the_script_drf_counts_as_before(monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    from laborlink import throttling

    local = LocMemCache("throttle-test", {})
    monkeypatch.setattr(throttling, "cache", local)
    monkeypatch.setattr(TenPerMinute, "cache", local)
    clock = Clock(29_000_003 * 60 + 1)
    assert _hits(clock, 11) == [True] * 10 + [False]
    throttle = TenPerMinute(clock)
    assert throttle.allow_request(None, None) is False
    assert 0 < throttle.wait() <= 60
