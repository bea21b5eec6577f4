"""Splitting the eligibility graph into components and solving them apart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from matching import solvers
from tests.matching.test_solvers import instance_of, pairs, random_instance


def python_components(instance) -> list[list[int]]:
    """Components by a plain breadth-first search, as edge index lists."""
    by_applicant: dict[int, list[int]] = {}
    by_posting: dict[int, list[int]] = {}
    for e, (a, p) in enumerate(zip(instance.edge_applicant, instance.edge_posting, strict=True)):
        by_applicant.setdefault(int(a), []).append(e)
        by_posting.setdefault(int(p), []).append(e)
    seen: set[int] = set()
    found = []
    for start in range(instance.n_edges):
        if start in seen:
            continue
        stack, part = [start], []
        seen.add(start)
        while stack:
            e = stack.pop()
            part.append(e)
            a, p = int(instance.edge_applicant[e]), int(instance.edge_posting[e])
            for other in by_applicant[a] + by_posting[p]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        found.append(sorted(part))
    return sorted(found)


def test_components_split_the_graph_and_skip_lonely_nodes():
    instance = instance_of(
        [(1, 10, 1), (2, 10, 1), (2, 20, 1), (3, 30, 1), (4, 30, 1), (5, 50, 1)],
        {10: 1, 20: 1, 30: 1, 40: 1, 50: 2},
        applicants=[9],
    )
    parts = solvers.components(instance)
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4], [5]]


@pytest.mark.parametrize("seed", range(15))
def test_components_agree_with_a_breadth_first_search(seed):
    rng = np.random.default_rng(seed)
    instance = random_instance(rng, 60, 40, 0.03)
    parts = solvers.components(instance)
    assert sorted(p.tolist() for p in parts) == python_components(instance)
    for part in parts:
        assert part.tolist() == sorted(part.tolist())


def test_a_long_chain_is_one_component():
    # applicant i joins postings i and i+1: the labels must travel the whole chain
    n = 300
    edges = [(a, p, 1) for a in range(n) for p in (a, a + 1)]
    instance = instance_of(edges, dict.fromkeys(range(n + 1), 1))
    reversed_ = instance_of(edges[::-1], dict.fromkeys(range(n + 1), 1))
    assert len(solvers.components(instance)) == 1
    assert len(solvers.components(reversed_)) == 1


def test_sub_instance_keeps_database_ids_capacity_and_edge_data():
    instance = instance_of([(1, 10, 4), (2, 20, 5), (3, 20, 6)], {10: 1, 20: 3}, utility=[1, 2, 3])
    part = solvers.sub_instance(instance, np.array([1, 2]))
    assert part.applicant_ids.tolist() == [2, 3]
    assert part.posting_ids.tolist() == [20]
    assert part.capacity.tolist() == [3]
    assert part.edge_score.tolist() == [5, 6]
    assert part.applicant_utility.tolist() == [2, 3]
    assert pairs(part, np.arange(2)) == {(2, 20), (3, 20)}


def reversed_map(func, iterable):
    """Runs the parts last to first (as scattered workers might), returns them in order."""
    jobs = list(iterable)
    results = [func(job) for job in reversed(jobs)]
    return results[::-1]


@pytest.mark.parametrize("algorithm", ["optimal", "stable"])
@pytest.mark.parametrize("seed", range(5))
def test_solving_components_in_parallel_equals_the_single_solve(algorithm, seed):
    rng = np.random.default_rng(seed)
    instance = random_instance(rng, 150, 60, 0.02, max_score=20, levels=4)
    assert len(solvers.components(instance)) > 1
    single = solvers.solve(instance, algorithm)
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = solvers.solve_components(instance, algorithm, map_fn=pool.map)
    scattered = solvers.solve_components(instance, algorithm, map_fn=reversed_map)
    for other in (threaded, scattered):
        assert other.edges.tolist() == single.edges.tolist()
        assert other.total_score == single.total_score
        assert other.blocking_pairs == single.blocking_pairs


@pytest.mark.parametrize("seed", range(5))
def test_component_optimum_equals_the_whole_graph_optimum(seed):
    rng = np.random.default_rng(50 + seed)
    instance = random_instance(rng, 150, 60, 0.02, max_score=20)
    whole = solvers.min_cost_flow_edges(instance)
    by_components = solvers.solve(instance, "optimal", exact=True)
    assert by_components.total_score == int(instance.edge_score[whole].sum())
