"""Components solved by several workers through the Redis pool equal the single solve."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from matching import parallel
from matching.instance import Instance
from matching.solvers import solve_components


def random_instance(seed: int, n: int = 300, m: int = 40, k: int = 6) -> Instance:
    rng = np.random.default_rng(seed)
    applicants = np.repeat(np.arange(n, dtype=np.int32), k)
    # clusters of postings, so that the graph has many components
    cluster = rng.integers(0, 8, n).repeat(k)
    postings = (cluster * (m // 8) + rng.integers(0, m // 8, n * k)).astype(np.int32)
    pairs = np.unique(np.stack([applicants, postings], axis=1), axis=0)
    scores = rng.integers(1, 50, pairs.shape[0]).astype(np.int64) * 1000
    return Instance(
        applicant_ids=np.arange(1, n + 1, dtype=np.int64),
        posting_ids=np.arange(1, m + 1, dtype=np.int64),
        capacity=rng.integers(1, 6, m).astype(np.int32),
        edge_applicant=pairs[:, 0].astype(np.int32),
        edge_posting=pairs[:, 1].astype(np.int32),
        edge_score=scores,
        applicant_utility=rng.integers(0, 100, pairs.shape[0]).astype(np.int64),
        posting_priority=rng.integers(0, 100, pairs.shape[0]).astype(np.int64),
    )


@pytest.mark.parametrize("algorithm", ["optimal", "stable"])
def test_helpers_through_redis_give_the_single_solve(algorithm, settings):
    instance = random_instance(7)
    single = solve_components(instance, algorithm)
    helpers: list[threading.Thread] = []

    def send(pool: str) -> None:  # a helper "worker" in a thread, on the real Redis
        thread = threading.Thread(target=parallel.work, args=(pool,))
        thread.start()
        helpers.append(thread)

    pooled = solve_components(instance, algorithm, map_fn=parallel.celery_map(helpers=2, send=send))
    for thread in helpers:
        thread.join(timeout=30)
    assert single.timings["n_components"] > 2
    assert np.array_equal(pooled.edges, single.edges)
    assert pooled.total_score == single.total_score


def test_a_helper_that_never_answers_is_replaced_by_the_coordinator(monkeypatch):
    instance = random_instance(11)
    single = solve_components(instance, "optimal")

    def lost_helper(pool: str) -> None:  # takes one part and dies holding it
        client = parallel._redis()
        index = client.lpop(f"{pool}:todo")
        client.set(f"{pool}:lease:{int(index)}", 0)  # a lease from long ago

    pooled = solve_components(
        instance, "optimal", map_fn=parallel.celery_map(helpers=1, send=lost_helper)
    )
    assert np.array_equal(pooled.edges, single.edges)
    assert not list(parallel._redis().scan_iter("matching:pool:*"))


def test_a_broker_outage_leaves_the_coordinator_to_do_all_the_work():
    instance = random_instance(3)

    def broker_down(pool: str) -> None:
        raise ConnectionError("broker down")

    pooled = solve_components(
        instance, "stable", map_fn=parallel.celery_map(helpers=3, send=broker_down)
    )
    assert np.array_equal(pooled.edges, solve_components(instance, "stable").edges)
