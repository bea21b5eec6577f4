"""The `optimal` and `stable` solvers on small instances with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matching import solvers
from matching.instance import Instance


def instance_of(
    edges: list[tuple[int, int, int]],
    capacity: dict[int, int],
    *,
    applicants: list[int] | None = None,
    utility: list[int] | None = None,
    priority: list[int] | None = None,
) -> Instance:
    """An instance from (applicant id, posting id, score) triples and posting capacities."""
    applicant_ids = np.array(sorted(set(applicants or []) | {a for a, _, _ in edges}))
    posting_ids = np.array(sorted(capacity))
    k = len(edges)
    return Instance(
        applicant_ids=applicant_ids.astype(np.int64),
        posting_ids=posting_ids.astype(np.int64),
        capacity=np.array([capacity[p] for p in posting_ids], dtype=np.int32),
        edge_applicant=np.searchsorted(applicant_ids, [a for a, _, _ in edges]).astype(np.int32),
        edge_posting=np.searchsorted(posting_ids, [p for _, p, _ in edges]).astype(np.int32),
        edge_score=np.array([s for _, _, s in edges], dtype=np.int64),
        applicant_utility=np.array(utility if utility is not None else [0] * k, dtype=np.int64),
        posting_priority=np.array(priority if priority is not None else [0] * k, dtype=np.int64),
    )


def pairs(instance: Instance, edges: np.ndarray) -> set[tuple[int, int]]:
    return {
        (int(instance.applicant_ids[instance.edge_applicant[e]]),
         int(instance.posting_ids[instance.edge_posting[e]]))
        for e in edges
    }  # fmt: skip


def random_instance(rng: np.random.Generator, n: int, m: int, density: float, **kw) -> Instance:
    ea, ep = np.nonzero(rng.random((n, m)) < density)
    k = ea.shape[0]
    return Instance(
        applicant_ids=np.arange(n, dtype=np.int64) * 7 + 3,
        posting_ids=np.arange(m, dtype=np.int64) * 11 + 5,
        capacity=rng.integers(1, kw.get("max_capacity", 3) + 1, m).astype(np.int32),
        edge_applicant=ea.astype(np.int32),
        edge_posting=ep.astype(np.int32),
        edge_score=rng.integers(0, kw.get("max_score", 4) + 1, k).astype(np.int64),
        applicant_utility=rng.integers(0, kw.get("levels", 3), k).astype(np.int64),
        posting_priority=rng.integers(0, kw.get("levels", 3), k).astype(np.int64),
    )


def shuffled(instance: Instance, rng: np.random.Generator) -> tuple[Instance, np.ndarray]:
    order = rng.permutation(instance.n_edges)
    return solvers._reordered(instance, order), order


def brute_force_optimum(instance: Instance) -> int:
    best = 0
    for size in range(instance.n_edges + 1):
        for chosen in itertools.combinations(range(instance.n_edges), size):
            chosen_ = list(chosen)
            a = instance.edge_applicant[chosen_]
            if len(set(a.tolist())) != len(a):
                continue
            filled = np.bincount(instance.edge_posting[chosen_], minlength=instance.n_postings)
            if (filled > instance.capacity).any():
                continue
            best = max(best, int(instance.edge_score[chosen_].sum()))
    return best


# --- optimal ------------------------------------------------------------------------------


def test_optimal_gives_up_the_best_single_edge_for_the_best_total():
    # greedy would give applicant 1 posting 10 (score 10) and leave applicant 2 out
    instance = instance_of(
        [(1, 10, 10), (1, 20, 9), (2, 10, 9), (3, 30, 3), (4, 30, 2), (5, 30, 1)],
        {10: 1, 20: 1, 30: 2, 40: 1},  # posting 40 has no candidate
        applicants=[6],  # applicant 6 has no candidate
    )
    solution = solvers.solve(instance, "optimal")

    assert pairs(instance, solution.edges) == {(1, 20), (2, 10), (3, 30), (4, 30)}
    assert solution.total_score == 9 + 9 + 3 + 2
    assert solution.matched == 4
    assert solution.fill_rate == pytest.approx(4 / 5)
    assert list(solution.edges) == sorted(solution.edges)


def test_optimal_leaves_zero_score_edges_and_capacity_unused():
    instance = instance_of([(1, 10, 0), (2, 10, 4)], {10: 3})
    solution = solvers.solve(instance, "optimal")
    assert pairs(instance, solution.edges) == {(2, 10)}
    assert solution.fill_rate == pytest.approx(1 / 3)


def test_optimal_on_an_empty_instance_matches_nobody():
    instance = instance_of([], {10: 2}, applicants=[1, 2])
    for algorithm in ("optimal", "stable"):
        solution = solvers.solve(instance, algorithm)
        assert solution.matched == 0 and solution.total_score == 0
        assert solution.blocking_pairs == 0


@pytest.mark.parametrize("seed", range(40))
def test_optimal_equals_the_brute_force_optimum_on_tiny_instances(seed):
    rng = np.random.default_rng(seed)
    instance = random_instance(rng, int(rng.integers(1, 6)), int(rng.integers(1, 5)), 0.45)
    if instance.n_edges > 11:
        instance = solvers.sub_instance(instance, np.arange(11))
    best = brute_force_optimum(instance)
    assert solvers.solve(instance, "optimal").total_score == best
    assert solvers.solve(instance, "optimal", exact=True).total_score == best


def test_pruning_keeps_the_best_edges_of_each_side_and_every_tie_at_the_threshold():
    instance = instance_of(
        [(1, 10, 5), (1, 20, 7), (1, 30, 5), (1, 40, 1), (2, 10, 3), (2, 40, 9), (3, 40, 2)],
        {10: 1, 20: 1, 30: 1, 40: 1},
    )
    kept = solvers.candidate_edges(instance, top_k=2, posting_factor=0, posting_extra=0)
    assert pairs(instance, kept) == {(1, 20), (1, 10), (1, 30), (2, 40), (2, 10), (3, 40)}
    # posting 40's best (score 9) and applicant 1's best only
    kept = solvers.candidate_edges(instance, top_k=1, posting_factor=1, posting_extra=0)
    assert pairs(instance, kept) == {(1, 20), (2, 40), (3, 40), (1, 10), (1, 30)}


def test_pruning_buckets_wide_score_ranges_without_dropping_a_better_edge():
    rng = np.random.default_rng(3)
    instance = random_instance(rng, 30, 8, 0.6, max_score=10**6)
    kept = set(solvers.candidate_edges(instance, top_k=3, posting_factor=0, posting_extra=0))
    for a in range(30):
        mine = np.flatnonzero(instance.edge_applicant == a)
        best = mine[np.argsort(-instance.edge_score[mine], kind="stable")][:3]
        assert set(best) <= kept


def test_pruning_can_lose_score_and_exact_does_not():
    # applicant 1's best edge is taken by applicant 2 who has no other; with top-1 pruning
    # applicant 1 cannot fall back to posting 20
    instance = instance_of([(1, 10, 5), (1, 20, 4), (2, 10, 9)], {10: 1, 20: 1})
    pruned = solvers.solve(instance, "optimal", top_k=1, posting_factor=0, posting_extra=0)
    assert pruned.total_score == 9
    assert solvers.solve(instance, "optimal", exact=True).total_score == 13
    assert solvers.solve(instance, "optimal").total_score == 13
    assert solvers.solve(instance, "optimal", exact=False, top_k=5).total_score == 13


@pytest.mark.parametrize("algorithm", ["optimal", "stable"])
def test_ties_give_the_same_matches_whatever_the_edge_order(algorithm):
    rng = np.random.default_rng(7)
    # few score and preference levels: many equal-score optima and many preference ties
    instance = random_instance(rng, 40, 12, 0.3, max_score=2, levels=2, max_capacity=2)
    expected = pairs(instance, solvers.solve(instance, algorithm).edges)
    for _ in range(5):
        other, _ = shuffled(instance, rng)
        assert pairs(other, solvers.solve(other, algorithm).edges) == expected


def test_optimal_tie_is_decided_by_the_input_not_by_its_order():
    instance = instance_of([(1, 10, 5), (2, 10, 5)], {10: 1})
    reversed_ = instance_of([(2, 10, 5), (1, 10, 5)], {10: 1})
    assert pairs(instance, solvers.solve(instance, "optimal").edges) == pairs(
        reversed_, solvers.solve(reversed_, "optimal").edges
    )
    assert solvers.solve(instance, "optimal").matched == 1


# --- stable ---------------------------------------------------------------------------------


def test_stable_applicants_propose_and_the_posting_keeps_whom_it_prefers():
    # both want posting 10; posting 10 prefers applicant 2; applicant 1 falls back to 20
    instance = instance_of(
        [(1, 10, 5), (1, 20, 1), (2, 10, 1), (2, 20, 5)],
        {10: 1, 20: 1},
        utility=[9, 1, 9, 1],
        priority=[1, 5, 8, 5],
    )
    solution = solvers.solve(instance, "stable")
    assert pairs(instance, solution.edges) == {(1, 20), (2, 10)}
    assert solution.blocking_pairs == 0
    # the optimal solution differs: it takes the scores, and is not stable
    optimal = solvers.solve(instance, "optimal")
    assert pairs(instance, optimal.edges) == {(1, 10), (2, 20)}
    assert optimal.total_score == 10 > solution.total_score == 2
    assert optimal.blocking_pairs == 1


def test_stable_with_capacity_keeps_the_best_applicants_ties_by_smaller_id():
    instance = instance_of(
        [(1, 10, 1), (2, 10, 1), (3, 10, 1), (4, 10, 1), (4, 20, 1)],
        {10: 2, 20: 1},
        utility=[0, 0, 0, 5, 1],
        priority=[3, 3, 3, 1, 0],
    )
    solution = solvers.solve(instance, "stable")
    # applicants 1, 2, 3 tie for posting 10's two positions: 1 and 2 win; 4 gets 20
    assert pairs(instance, solution.edges) == {(1, 10), (2, 10), (4, 20)}
    assert solution.blocking_pairs == 0


def test_stable_applicant_ties_go_to_the_smaller_posting_id():
    instance = instance_of([(1, 20, 1), (1, 10, 1)], {10: 1, 20: 1}, utility=[4, 4])
    assert pairs(instance, solvers.solve(instance, "stable").edges) == {(1, 10)}


@pytest.mark.parametrize("seed", range(12))
def test_stable_has_no_blocking_pair_and_optimal_scores_at_least_as_much(seed):
    rng = np.random.default_rng(100 + seed)
    instance = random_instance(rng, 120, 25, 0.12, max_score=50, levels=6, max_capacity=4)
    stable = solvers.solve(instance, "stable")
    optimal = solvers.solve(instance, "optimal", exact=True)

    assert stable.blocking_pairs == 0
    assert solvers.count_blocking_pairs(instance, stable.edges) == 0
    assert optimal.total_score >= stable.total_score
    # a valid matching: each applicant once, no posting over capacity
    for solution in (stable, optimal):
        applicants = instance.edge_applicant[solution.edges]
        assert np.unique(applicants).shape[0] == applicants.shape[0]
        filled = np.bincount(instance.edge_posting[solution.edges], minlength=25)
        assert (filled <= instance.capacity).all()


def test_blocking_pairs_are_counted_on_a_known_unstable_matching():
    # applicant 1 prefers 10 (holds 20); posting 10 holds applicant 2 but prefers 1
    # applicant 3 is unmatched and posting 30 has a free position
    instance = instance_of(
        [(1, 10, 1), (1, 20, 1), (2, 10, 1), (3, 30, 1), (3, 10, 1)],
        {10: 1, 20: 1, 30: 1},
        utility=[5, 1, 1, 0, 9],
        priority=[9, 0, 1, 0, 0],
    )
    chosen = np.array([1, 2])  # 1 → 20, 2 → 10
    # (1, 10): both prefer it; (3, 30): unmatched applicant, free position;
    # (3, 10): posting 10 holds 2 (priority 1) over 3 (priority 0) → not blocking
    assert solvers.count_blocking_pairs(instance, chosen) == 2


def test_an_unknown_algorithm_is_refused():
    instance = instance_of([(1, 10, 1)], {10: 1})
    with pytest.raises(ValueError, match="unknown matching algorithm"):
        solvers.solve(instance, "greedy")


def test_solutions_report_their_phase_timings():
    instance = instance_of([(1, 10, 1)], {10: 1})
    timings = solvers.solve(instance, "optimal").timings
    assert {"components", "solve", "blocking_pairs"} <= set(timings)


def textbook_deferred_acceptance(instance: Instance) -> set[int]:
    """One proposal at a time, as in the textbook; the vectorised rounds must agree."""
    aid, pid = instance.applicant_ids, instance.posting_ids
    lists: dict[int, list[int]] = {}
    for e in range(instance.n_edges):
        lists.setdefault(int(instance.edge_applicant[e]), []).append(e)
    for mine in lists.values():
        mine.sort(key=lambda e: (-instance.applicant_utility[e], pid[instance.edge_posting[e]]))
    held: dict[int, list[int]] = {}
    free = sorted(lists)
    pointer = dict.fromkeys(lists, 0)
    while free:
        a = free.pop()
        if pointer[a] >= len(lists[a]):
            continue
        e = lists[a][pointer[a]]
        pointer[a] += 1
        p = int(instance.edge_posting[e])
        mine = held.setdefault(p, [])
        mine.append(e)
        mine.sort(key=lambda x: (-instance.posting_priority[x], aid[instance.edge_applicant[x]]))
        if len(mine) > instance.capacity[p]:
            free.append(int(instance.edge_applicant[mine.pop()]))
    return {e for mine in held.values() for e in mine}


@pytest.mark.parametrize("seed", range(8))
def test_stable_agrees_with_the_textbook_algorithm(seed):
    rng = np.random.default_rng(200 + seed)
    instance = random_instance(rng, 80, 20, 0.15, levels=4, max_capacity=3)
    assert set(solvers.solve(instance, "stable").edges.tolist()) == (
        textbook_deferred_acceptance(instance)
    )
