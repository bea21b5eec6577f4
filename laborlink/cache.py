"""The Django cache on Redis, degrading instead of failing when Redis is unreachable.

The cache holds nothing the platform cannot do without: API throttle counters, the
anonymous verification limit, and the progress of imports and matching runs. So when Redis
is down a page must still answer: reads give the default, writes do nothing, counters fail
open (a throttle that cannot count lets the request through). The first failure of an
outage is logged as a warning (the operation and the error's kind, never a key or a value:
keys may be derived from addresses), and Redis is then left alone for `RETRY_AFTER_SECONDS`
at a time, so that a request does not wait for one connection timeout per cache call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)

T = TypeVar("T")

# Until when each Redis is left alone; an entry stays until a call succeeds again. Shared
# by every thread's cache instance: one outage, one warning per process.
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache; on a connection error or timeout it answers as an empty cache."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._outage_key = ",".join(self._servers)

    def is_available(self) -> bool:
        return time.monotonic() >= _down_until.get(self._outage_key, 0.0)

    def _or(self, operation: str, fallback: T, call: Callable[..., T], *args: Any) -> T:
        if not self.is_available():
            return fallback
        try:
            result = call(*args)
        except UNAVAILABLE as exc:
            with _lock:
                already_down = self._outage_key in _down_until
                _down_until[self._outage_key] = time.monotonic() + RETRY_AFTER_SECONDS
            if not already_down:
                logger.warning(
                    "cache unavailable (%s during %s); answering without it",
                    type(exc).__name__,
                    operation,
                )
            return fallback
        if self._outage_key in _down_until:
            with _lock:
                recovered = _down_until.pop(self._outage_key, None) is not None
            if recovered:
                logger.info("cache available again")
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or("add", False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._or("get", default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or("set", None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._or("delete", False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._or("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._or("has_key", False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        # Fail open: a hit that cannot be counted counts as the first one.
        return self._or("incr", delta, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or("set_many", list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._or("delete_many", None, super().delete_many, keys, version)

    def clear(self):
        return self._or("clear", False, super().clear)

    def count_in_window(
        self, key: str, previous_key: str, weight: float, limit: int, timeout: int
    ) -> tuple[bool, int, int]:
        """One hit of a sliding-window rate limit (`laborlink.throttling`), in one round trip
        and atomically: allowed while `previous × weight + current` stays under `limit`;
        an allowed hit is counted in `key`, which expires after `timeout` seconds. Answers
        (allowed, current count, previous count); with Redis down, allowed (fail open)."""
        return self._or(
            "count_in_window",
            (True, 0, 0),
            self._count_in_window,
            key,
            previous_key,
            weight,
            limit,
            timeout,
        )

    def _count_in_window(
        self, key: str, previous_key: str, weight: float, limit: int, timeout: int
    ) -> tuple[bool, int, int]:
        keys = [self.make_and_validate_key(key), self.make_and_validate_key(previous_key)]
        client = self._cache.get_client(keys[0], write=True)
        allowed, current, previous = client.eval(
            _WINDOW_SCRIPT, 2, *keys, repr(weight), limit, timeout
        )
        return bool(allowed), int(current), int(previous)


_WINDOW_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[1]) + current >= tonumber(ARGV[2]) then
    return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, current, previous}
"""
