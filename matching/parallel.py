"""Solve a run's independent components on many Celery workers.

The run's own task is the coordinator. It writes each component (a sub-instance, as NumPy
arrays in `.npz` form, never pickles) to Redis, queues their numbers in a Redis list, sends
helper tasks, and then works through the list itself like any helper, so the run finishes
even when no other worker is free (no task ever waits on another). Each result is written
back to Redis; when the list is empty the coordinator waits for the components still being
solved elsewhere, and solves again itself any whose helper has not answered within the
lease (results are deterministic, so solving a component twice changes nothing).
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

import numpy as np
import redis
from django.conf import settings

from matching.instance import Instance

logger = logging.getLogger(__name__)

POOL_TTL = 6 * 3600
LEASE_SECONDS = 600
POLL_SECONDS = 0.2
ARRAY_FIELDS = [
    f.name for f in fields(Instance) if f.name != "breakdown"
]  # the breakdown stays with the coordinator


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _dump(instance: Instance, algorithm: str, options: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    arrays = {name: getattr(instance, name) for name in ARRAY_FIELDS}
    meta = np.frombuffer(json.dumps({"algorithm": algorithm, "options": options}).encode(), "u1")
    np.savez(buffer, __meta__=meta, **arrays)
    return buffer.getvalue()


def _load(blob: bytes) -> tuple[Instance, str, dict[str, Any]]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        meta = json.loads(bytes(data["__meta__"]).decode())
        instance = Instance(**{name: data[name] for name in ARRAY_FIELDS}, breakdown={})
    return instance, meta["algorithm"], meta["options"]


def _array_bytes(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values, dtype=np.int64), allow_pickle=False)
    return buffer.getvalue()


def _array_load(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def work(pool: str) -> int:
    """Take components from the pool's list and solve them until the list is empty;
    returns how many this process solved. Helpers and the coordinator both run this."""
    from matching.solvers import _solve_part

    client = _redis()
    solved = 0
    while True:
        index = client.lpop(f"{pool}:todo")
        if index is None:
            return solved
        index = int(index)
        client.set(f"{pool}:lease:{index}", time.time(), ex=POOL_TTL)
        blob = client.get(f"{pool}:job:{index}")
        if blob is None:  # the pool was cleaned up: the coordinator finished without us
            return solved
        chosen = _solve_part(_load(blob))
        client.set(f"{pool}:result:{index}", _array_bytes(chosen), ex=POOL_TTL)
        solved += 1


def celery_map(*, helpers: int, send: Callable[[str], Any] | None = None):
    """A `map_fn` for `solvers.solve_components` that spreads the parts over Celery
    workers through a Redis pool; `helpers` is how many helper tasks to send."""

    def send_helper(pool: str) -> None:
        from matching.tasks import solve_pool

        solve_pool.apply_async((pool,))

    send_fn = send or send_helper

    def map_fn(func: Callable[[Any], np.ndarray], jobs: Iterable[Any]) -> list[np.ndarray]:
        jobs = list(jobs)
        if len(jobs) <= 1 or helpers <= 0:
            return [func(job) for job in jobs]
        client = _redis()
        pool = f"matching:pool:{uuid.uuid4().hex}"
        try:
            pipe = client.pipeline()
            for index, (instance, algorithm, options) in enumerate(jobs):
                pipe.set(f"{pool}:job:{index}", _dump(instance, algorithm, options), ex=POOL_TTL)
            pipe.rpush(f"{pool}:todo", *range(len(jobs)))
            pipe.expire(f"{pool}:todo", POOL_TTL)
            pipe.execute()
            for _ in range(min(helpers, len(jobs) - 1)):
                try:
                    send_fn(pool)
                except Exception:  # broker trouble: the coordinator does the work alone
                    logger.warning("matching pool %s: could not send a helper", pool)
                    break
            work(pool)
            return [_collect(client, pool, index, job, func) for index, job in enumerate(jobs)]
        finally:
            keys = list(client.scan_iter(f"{pool}:*", count=1000))
            if keys:
                client.delete(*keys)

    return map_fn


def _collect(client: redis.Redis, pool: str, index: int, job: Any, func) -> np.ndarray:
    """The result of one part, waiting for a helper that is still on it; solved here when
    its helper has held it longer than the lease."""
    while True:
        blob = client.get(f"{pool}:result:{index}")
        if blob is not None:
            return _array_load(blob)
        lease = client.get(f"{pool}:lease:{index}")
        if lease is None or time.time() - float(lease) > LEASE_SECONDS:
            logger.warning("matching pool %s: part %d solved again by the coordinator", pool, index)
            return func(job)
        time.sleep(POLL_SECONDS)
