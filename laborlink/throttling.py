"""API throttles: DRF's user and anonymous rates, counted in Redis in one round trip.

DRF's own throttles keep, per caller, the list of the times of its requests in the last
window: each request reads the whole list from the cache and writes it back (two round trips
and up to 1,200 timestamps pickled and unpickled for the default 1,200/min), and two
concurrent requests can both pass the last free slot. These count with a sliding window
instead: one counter per caller and window, the previous window's count weighted by the part
of it that still overlaps the last `duration` seconds, checked and incremented by one Redis
script (`ResilientRedisCache.count_in_window`), atomically. With Redis down they let the
request through, as before.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class SlidingWindowMixin:
    timer = time.time

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window, into = divmod(now, self.duration)
        self.into = into
        weight = 1 - into / self.duration
        if not hasattr(cache, "count_in_window"):  # a cache without Redis (never in use here)
            return super().allow_request(request, view)
        allowed, self.current, self.previous = cache.count_in_window(
            f"{self.key}:{int(window)}",
            f"{self.key}:{int(window) - 1}",
            weight,
            self.num_requests,
            2 * self.duration,
        )
        return allowed

    def wait(self) -> float | None:
        """Whole seconds until a request would pass again, if none is made meanwhile (the
        used share must drop below the limit: strictly after the moment computed)."""
        if not hasattr(self, "current"):  # counted by DRF's own history (no Redis cache)
            return super().wait()
        duration, limit = self.duration, self.num_requests
        current, previous, into = self.current, self.previous, self.into
        if current < limit and previous:
            # within this window, once the previous window's weight has dropped enough
            seconds = duration * (1 - (limit - current) / previous) - into
            if seconds < duration - into - 1:
                return max(1, math.floor(seconds) + 1)
        # in the next window, once this window's weight has dropped enough
        seconds = (duration - into) + duration * max(0.0, 1 - limit / max(current, 1))
        return max(1, math.floor(seconds) + 1)


class UserThrottle(SlidingWindowMixin, UserRateThrottle):
    """The `user` rate (API_THROTTLE_USER), per signed-in user or API client."""


class AnonThrottle(SlidingWindowMixin, AnonRateThrottle):
    """The `anon` rate (API_THROTTLE_ANON), per address."""
