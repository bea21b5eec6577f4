"""The matching solvers: `optimal` (min-cost flow) and `stable` (deferred acceptance).

Both work on a `matching.instance.Instance` only (no database) and return a `Solution`.

Components. Applicants and postings joined by edges form a bipartite graph; its connected
components are independent problems. `solve_components` solves each one on its own through
a caller-given `map_fn` (the builtin `map`, a process pool, or the Celery fan-out) and merges
the results, so a national run spreads over many workers. `solve` goes through the same
path, so a single-process solve and a fanned-out solve give the same matches.

Determinism and ties.
- Edges are put into a canonical order first (applicant database id, then posting database
  id), so the same pairs given in any order give the same matches.
- `optimal`: maximum total `edge_score` (over the pruned edges, see below); among
  equal-score optima the one returned is the one OR-Tools' cost-scaling algorithm reaches
  on each component's arcs in that canonical order, which depends on the input only (not
  on the order of the edge arrays, nor on the workers or the order they finish in).
- `stable`: an applicant ranks postings by `applicant_utility`, a posting ranks applicants
  by `posting_priority`; equal values are broken by the smaller database id (of the posting
  for the applicant, of the applicant for the posting). With these strict rankings the
  applicant-proposing deferred acceptance result is unique.
- Blocking pairs are counted with the same strict rankings.

Pruning. By default `optimal` first keeps only the edges that are high on the applicant's
list (its `top_k` best scores) or on the posting's (its 3 × positions + 10 best), see
`candidate_edges`: the exact optimum seldom uses an edge low on both lists, and the pruned
graph is a fifth of the size and splits into smaller components. The benchmark measures
the loss against the exact solve; `exact=True` solves over every edge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.instance import Instance, Solution

Algorithm = Literal["optimal", "stable"]
MapFn = Callable[..., Iterable]

DEFAULT_TOP_K = 15
DEFAULT_POSTING_FACTOR = 3.0
DEFAULT_POSTING_EXTRA = 10


# --- components ----------------------------------------------------------------------


def components(instance: Instance, edges: np.ndarray | None = None) -> list[np.ndarray]:
    """The edge indices of each connected component of the eligibility graph.

    Vectorised union-find over the postings (an applicant only joins its postings): each
    round hooks every posting's root onto the smallest root among the postings of the same
    applicant, then compresses paths, until nothing changes. Components are returned in
    the order of their smallest posting index; each one's edge indices ascending. Applicants
    or postings without edges belong to no component. With `edges`, only those edges count.
    """
    if edges is None:
        edges = np.arange(instance.n_edges, dtype=np.int64)
    if edges.shape[0] == 0:
        return []
    m = instance.n_postings
    n = instance.n_applicants
    ea = instance.edge_applicant[edges].astype(np.int32)
    ep = instance.edge_posting[edges].astype(np.int32)
    parent = np.arange(m, dtype=np.int32)
    big = np.iinfo(np.int32).max
    while True:
        root = parent[ep]
        smallest = np.full(n, big, dtype=np.int32)
        np.minimum.at(smallest, ea, root)
        target = smallest[ea]
        before = parent.copy()
        np.minimum.at(parent, root, target)
        while True:  # path compression
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        if np.array_equal(parent, before):
            break
    del ea, root, target, smallest
    label = parent[ep]
    del ep
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    del label
    return [np.asarray(edges[part], dtype=np.int64) for part in np.split(order, cuts)]


def sub_instance(instance: Instance, edges: np.ndarray) -> Instance:
    """The instance restricted to `edges` (and the applicants and postings they touch).

    Database ids are kept, so a sub-solution's pairs can be mapped back; the sub-instance's
    edges are in the order of `edges`.
    """
    edges = np.asarray(edges, dtype=np.int64)
    applicants, ea = np.unique(instance.edge_applicant[edges], return_inverse=True)
    postings, ep = np.unique(instance.edge_posting[edges], return_inverse=True)
    return Instance(
        applicant_ids=instance.applicant_ids[applicants],
        posting_ids=instance.posting_ids[postings],
        capacity=instance.capacity[postings],
        edge_applicant=ea.astype(np.int32),
        edge_posting=ep.astype(np.int32),
        edge_score=instance.edge_score[edges],
        applicant_utility=instance.applicant_utility[edges],
        posting_priority=instance.posting_priority[edges],
        breakdown={name: part[edges] for name, part in instance.breakdown.items()},
    )


def canonical_order(instance: Instance) -> np.ndarray:
    """Edge indices sorted by (applicant database id, posting database id)."""
    a, p = instance.edge_applicant.astype(np.int64), instance.edge_posting.astype(np.int64)
    key = a * instance.n_postings + p  # indices are in database-id order
    if key.shape[0] < 2 or bool((key[1:] > key[:-1]).all()):
        return np.arange(key.shape[0], dtype=np.int64)
    return np.lexsort(
        (
            instance.posting_ids[instance.edge_posting],
            instance.applicant_ids[instance.edge_applicant],
        )
    )


# --- optimal: min-cost flow -----------------------------------------------------------


PRUNE_LEVELS = 64


PRUNE_CHUNK = 1 << 21  # edges per step: bounds the temporary arrays on national runs


def _score_levels(scores: np.ndarray) -> tuple[np.ndarray, int]:
    """Scores mapped to at most `PRUNE_LEVELS` ordered levels (higher = better).

    Exact when the scores take few distinct steps (points × 1000 usually do), otherwise
    evenly spaced buckets; either way a higher score never gets a lower level.
    """
    low, high = int(scores.min()), int(scores.max())
    step = 0
    for at in range(0, scores.shape[0], PRUNE_CHUNK):
        step = int(np.gcd.reduce(np.r_[step, scores[at : at + PRUNE_CHUNK] - low]))
    step = step or 1
    levels = np.empty(scores.shape[0], dtype=np.int8)
    if (high - low) // step < PRUNE_LEVELS:
        n_levels = (high - low) // step + 1
        for at in range(0, scores.shape[0], PRUNE_CHUNK):
            levels[at : at + PRUNE_CHUNK] = (scores[at : at + PRUNE_CHUNK] - low) // step
    else:
        n_levels = PRUNE_LEVELS
        for at in range(0, scores.shape[0], PRUNE_CHUNK):
            part = scores[at : at + PRUNE_CHUNK] - low
            levels[at : at + PRUNE_CHUNK] = part * PRUNE_LEVELS // (high - low + 1)
    return levels, n_levels


def _best_per_group(
    group: np.ndarray, levels: np.ndarray, n_levels: int, n_groups: int, keep: np.ndarray
) -> np.ndarray:
    """Mask of the edges whose level reaches the `keep[g]`-th best level of their group.

    Ties at the threshold are all kept, so the mask does not depend on the edge order.
    Counting (edges per group and level), not sorting: linear in the number of edges, and
    in chunks; each chunk only touches the range of groups it holds, which is narrow when
    the edges come grouped (as the eligibility step produces them, by applicant).
    """
    counts = np.zeros(n_groups * n_levels, dtype=np.int32)
    for at in range(0, group.shape[0], PRUNE_CHUNK):
        chunk = group[at : at + PRUNE_CHUNK]
        low = int(chunk.min()) * n_levels
        span = (int(chunk.max()) + 1) * n_levels - low
        cell = chunk.astype(np.int64) * n_levels - low
        cell += levels[at : at + PRUNE_CHUNK]
        counts[low : low + span] += np.bincount(cell, minlength=span).astype(np.int32)
        del cell
    counts = counts.reshape(n_groups, n_levels)
    threshold = np.empty(n_groups, dtype=np.int8)
    step = max(1, PRUNE_CHUNK // n_levels)
    for first in range(0, n_groups, step):
        rows = slice(first, first + step)
        at_least = np.cumsum(counts[rows, ::-1], axis=1, dtype=np.int32)  # best level first
        reached = at_least >= keep[rows, None]
        found = (n_levels - 1 - np.argmax(reached, axis=1)).astype(np.int8)
        found[~reached[:, -1]] = 0  # fewer candidates than `keep`: keep them all
        found[keep[rows] <= 0] = n_levels  # keep none
        threshold[rows] = found
    del counts
    mask = np.empty(group.shape[0], dtype=bool)
    for at in range(0, group.shape[0], PRUNE_CHUNK):
        mask[at : at + PRUNE_CHUNK] = (
            levels[at : at + PRUNE_CHUNK] >= threshold[group[at : at + PRUNE_CHUNK]]
        )
    return mask


def candidate_edges(
    instance: Instance,
    *,
    top_k: int = DEFAULT_TOP_K,
    posting_factor: float = DEFAULT_POSTING_FACTOR,
    posting_extra: int = DEFAULT_POSTING_EXTRA,
) -> np.ndarray:
    """The edges the pruned `optimal` solve keeps, ascending.

    An edge is kept when it is among its applicant's `top_k` best by score, or among its
    posting's `posting_factor` × positions + `posting_extra` best (ties at a threshold are
    kept). The exact optimum seldom uses an edge that is low on both sides' lists.
    """
    if instance.n_edges == 0:
        return np.empty(0, dtype=np.int64)
    levels, n_levels = _score_levels(instance.edge_score)
    keep_applicant = np.full(instance.n_applicants, top_k, dtype=np.int32)
    keep_posting = np.ceil(posting_factor * instance.capacity).astype(np.int32) + np.int32(
        posting_extra
    )
    mask = _best_per_group(
        instance.edge_applicant, levels, n_levels, instance.n_applicants, keep_applicant
    )
    mask |= _best_per_group(
        instance.edge_posting, levels, n_levels, instance.n_postings, keep_posting
    )
    del levels
    return np.flatnonzero(mask)


def min_cost_flow_edges(
    instance: Instance,
    edges: np.ndarray | None = None,
    timings: dict[str, float] | None = None,
    *,
    plain: bool = False,
) -> np.ndarray:
    """Maximum-score matching over `edges` (default: all) with OR-Tools min-cost flow.

    Network: source → each applicant (capacity 1), applicant → posting (capacity 1, cost
    −score), posting → sink (capacity = remaining positions), and one source → sink bypass
    of cost 0 for everyone left unmatched; the source supplies n units, the sink takes n.
    Only edges of positive score can lower the cost, so leaving someone unmatched is free.
    Unless `plain`, the costs are divided by their greatest common divisor first (scores
    are points × 1000): the same optimum, and fewer cost-scaling phases.
    Returns the chosen edge indices, ascending; adds "build" and "flow" to `timings`.
    """
    started = time.perf_counter()
    if edges is None:
        edges = np.arange(instance.n_edges, dtype=np.int64)
    edges = edges[instance.edge_score[edges] > 0]
    n, m = instance.n_applicants, instance.n_postings
    if edges.shape[0] == 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    source, sink = n + m, n + m + 1
    tails = np.concatenate(
        [
            np.full(n, source, dtype=np.int32),
            instance.edge_applicant[edges].astype(np.int32),
            np.arange(n, n + m, dtype=np.int32),
            np.array([source], dtype=np.int32),
        ]
    )
    heads = np.concatenate(
        [
            np.arange(n, dtype=np.int32),
            (instance.edge_posting[edges] + n).astype(np.int32),
            np.full(m, sink, dtype=np.int32),
            np.array([sink], dtype=np.int32),
        ]
    )
    capacities = np.concatenate(
        [
            np.ones(n, dtype=np.int64),
            np.ones(edges.shape[0], dtype=np.int64),
            instance.capacity.astype(np.int64),
            np.array([n], dtype=np.int64),
        ]
    )
    scores = instance.edge_score[edges].astype(np.int64)
    if not plain:
        scores //= int(np.gcd.reduce(scores))
    costs = np.concatenate([np.zeros(n, dtype=np.int64), -scores, np.zeros(m + 1, dtype=np.int64)])
    del scores
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    del tails, heads, capacities, costs
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source] = n
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int32), supplies)
    built = time.perf_counter()
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = flow.flows(np.arange(n, n + edges.shape[0], dtype=np.int32)) > 0
    if timings is not None:
        timings["build"] = timings.get("build", 0.0) + built - started
        timings["flow"] = timings.get("flow", 0.0) + time.perf_counter() - built
    return np.sort(edges[used])


def solve_optimal(instance: Instance, *, exact: bool = False, **pruning: Any) -> np.ndarray:
    """Chosen edges of the maximum-score matching over `candidate_edges` (all if `exact`).

    The arcs go to the flow in canonical order, so the result does not depend on the order
    of the instance's edge arrays.
    """
    order = canonical_order(instance)
    canonical = _reordered(instance, order)
    kept = None if exact else candidate_edges(canonical, **pruning)
    return np.sort(order[min_cost_flow_edges(canonical, kept)])


def _reordered(instance: Instance, order: np.ndarray) -> Instance:
    return Instance(
        applicant_ids=instance.applicant_ids,
        posting_ids=instance.posting_ids,
        capacity=instance.capacity,
        edge_applicant=instance.edge_applicant[order],
        edge_posting=instance.edge_posting[order],
        edge_score=instance.edge_score[order],
        applicant_utility=instance.applicant_utility[order],
        posting_priority=instance.posting_priority[order],
    )


# --- stable: deferred acceptance --------------------------------------------------------


def _applicant_rank_order(instance: Instance) -> np.ndarray:
    """Edges by applicant, then the applicant's preference (utility ↓, posting id ↑)."""
    pid = instance.posting_ids[instance.edge_posting]
    return np.lexsort((pid, -instance.applicant_utility, instance.edge_applicant))


def _posting_rank_order(instance: Instance) -> np.ndarray:
    """Edges by posting, then the posting's preference (priority ↓, applicant id ↑)."""
    aid = instance.applicant_ids[instance.edge_applicant]
    return np.lexsort((aid, -instance.posting_priority, instance.edge_posting))


def _inverse(order: np.ndarray) -> np.ndarray:
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.shape[0], dtype=order.dtype)
    return inverse


def solve_stable(instance: Instance) -> np.ndarray:
    """Applicant-proposing deferred acceptance with capacities, in vectorised rounds.

    Each round every free applicant with candidates left proposes to its next posting; each
    posting that received proposals keeps the best `capacity` of its held and new
    applicants and rejects the rest, who move on to their next candidate. A round costs
    one sort of the proposals plus the held applicants of the postings they reach.
    """
    k = instance.n_edges
    if k == 0:
        return np.empty(0, dtype=np.int64)
    n = instance.n_applicants
    by_applicant = _applicant_rank_order(instance)
    # posting-major position: smaller = the posting prefers it; unique per edge, so sorting
    # by it groups a posting's candidates in its order of preference
    posting_rank = _inverse(_posting_rank_order(instance))
    applicant_sorted = instance.edge_applicant[by_applicant]
    counts = np.bincount(applicant_sorted, minlength=n)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    end = start + counts
    pointer = start.copy()  # next candidate of each applicant, in by_applicant
    capacity = instance.capacity.astype(np.int64)
    held = np.empty(0, dtype=np.int64)  # edges tentatively accepted
    proposers = np.flatnonzero(counts > 0)
    edge_posting = instance.edge_posting
    affected = np.zeros(instance.n_postings, dtype=bool)
    while proposers.shape[0]:
        proposals = by_applicant[pointer[proposers]]
        affected[:] = False
        affected[edge_posting[proposals]] = True
        in_play = affected[edge_posting[held]]
        candidates = np.concatenate([held[in_play], proposals])
        candidates = candidates[np.argsort(posting_rank[candidates], kind="stable")]
        postings = edge_posting[candidates]
        first = np.flatnonzero(np.r_[True, postings[1:] != postings[:-1]])
        sizes = np.diff(np.r_[first, postings.shape[0]])
        place = np.arange(candidates.shape[0]) - np.repeat(first, sizes)
        keep = place < capacity[postings]
        held = np.concatenate([held[~in_play], candidates[keep]])
        rejected = instance.edge_applicant[candidates[~keep]].astype(np.int64)
        pointer[rejected] += 1
        proposers = rejected[pointer[rejected] < end[rejected]]
    return np.sort(held)


# --- figures ------------------------------------------------------------------------------


def _prefers(
    value: np.ndarray, db_id: np.ndarray, other_value: np.ndarray, other_db_id: np.ndarray
) -> np.ndarray:
    """Higher value wins; equal values go to the smaller database id."""
    return (value > other_value) | ((value == other_value) & (db_id < other_db_id))


def count_blocking_pairs(instance: Instance, edges: np.ndarray) -> int:
    """Edges (a, p) outside the matching that both sides would rather have.

    The applicant prefers p to its match (or is unmatched) and the posting has a free
    position or prefers the applicant to the worst one it holds; rankings as in `stable`.
    Linear in the number of edges, in chunks: each edge is compared with its applicant's
    match and its posting's worst admitted applicant.
    """
    if instance.n_edges == 0:
        return 0
    edges = np.asarray(edges, dtype=np.int64)
    ea, ep = instance.edge_applicant, instance.edge_posting
    utility, priority = instance.applicant_utility, instance.posting_priority

    match = np.full(instance.n_applicants, -1, dtype=np.int64)
    match[ea[edges]] = edges
    # each posting's worst admitted edge: lowest priority, then largest applicant id
    held_applicant_id = instance.applicant_ids[ea[edges]]
    held = edges[np.lexsort((-held_applicant_id, priority[edges], ep[edges]))]
    held_posting = ep[held]
    first = np.r_[True, held_posting[1:] != held_posting[:-1]][: held.shape[0]]
    worst = np.full(instance.n_postings, -1, dtype=np.int64)
    worst[held_posting[first]] = held[first]
    free = np.bincount(ep[edges], minlength=instance.n_postings) < instance.capacity
    chosen = np.zeros(instance.n_edges, dtype=bool)
    chosen[edges] = True

    blocking = 0
    for at in range(0, instance.n_edges, PRUNE_CHUNK):
        part = np.arange(at, min(at + PRUNE_CHUNK, instance.n_edges))
        a, p = ea[part], ep[part]
        posting_id = instance.posting_ids[p]
        mine = match[a]
        matched = mine >= 0
        mine[~matched] = 0
        applicant_wants = ~matched | _prefers(
            utility[part], posting_id, utility[mine], instance.posting_ids[ep[mine]]
        )
        applicant_wants &= ~chosen[part]
        candidates = part[applicant_wants]
        p = ep[candidates]
        w = np.maximum(worst[p], 0)
        posting_wants = free[p] | _prefers(
            priority[candidates],
            instance.applicant_ids[ea[candidates]],
            priority[w],
            instance.applicant_ids[ea[w]],
        )
        blocking += int(np.count_nonzero(posting_wants))
    return blocking


def make_solution(
    instance: Instance, edges: np.ndarray, timings: dict[str, float] | None = None
) -> Solution:
    """A `Solution` with its figures computed from the chosen `edges`."""
    edges = np.sort(np.asarray(edges, dtype=np.int64))
    started = time.perf_counter()
    blocking = count_blocking_pairs(instance, edges)
    timings = dict(timings or {})
    timings["blocking_pairs"] = time.perf_counter() - started
    positions = int(instance.capacity.sum())
    matched = int(edges.shape[0])
    return Solution(
        edges=edges,
        total_score=int(instance.edge_score[edges].sum()),
        matched=matched,
        fill_rate=matched / positions if positions else 0.0,
        blocking_pairs=blocking,
        timings=timings,
    )


# --- one interface ------------------------------------------------------------------------

SolverFn = Callable[..., np.ndarray]

SOLVERS: dict[str, SolverFn] = {
    "optimal": solve_optimal,
    "stable": solve_stable,
}


def solve_edges(instance: Instance, algorithm: str, **options: Any) -> np.ndarray:
    """The chosen edge indices of one (sub-)instance; what a worker task runs.

    `options` go to the solver (`optimal`: `exact` and `candidate_edges`' arguments).
    """
    try:
        solver = SOLVERS[algorithm]
    except KeyError:
        raise ValueError(f"unknown matching algorithm {algorithm!r}") from None
    return solver(instance, **options)


def _solve_part(job: tuple[Instance, str, dict[str, Any]]) -> np.ndarray:
    part, algorithm, options = job
    return solve_edges(part, algorithm, **options)


def solve_components(
    instance: Instance, algorithm: str, map_fn: MapFn = map, **options: Any
) -> Solution:
    """Solve each component on its own through `map_fn` and merge the chosen edges.

    `map_fn(func, iterable)` may run the parts anywhere (threads, processes, Celery
    workers) in any order, as long as it returns the results in the order given. The
    timings hold "components" (splitting), "solve" (sub-instances, solving, merging) and
    "blocking_pairs"; `Solution.timings["n_components"]` is the number of components.
    """
    if algorithm not in SOLVERS:
        raise ValueError(f"unknown matching algorithm {algorithm!r}")
    timings: dict[str, float] = {}
    kept = None
    if algorithm == "optimal" and not options.get("exact"):
        # prune once on the whole graph (the thresholds count a posting's candidates across
        # components), then solve the pruned parts exactly
        started = time.perf_counter()
        pruning = {name: value for name, value in options.items() if name != "exact"}
        kept = candidate_edges(instance, **pruning)
        options = {"exact": True}
        timings["prune"] = time.perf_counter() - started
    started = time.perf_counter()
    parts = components(instance, kept)
    timings["components"] = time.perf_counter() - started

    started = time.perf_counter()

    # largest parts first, so that the workers finish at about the same time
    dispatch = sorted(range(len(parts)), key=lambda i: -parts[i].shape[0])

    def jobs() -> Iterator[tuple[Instance, str, dict[str, Any]]]:
        for i in dispatch:
            yield sub_instance(instance, parts[i]), algorithm, options

    chosen = [
        parts[i][local] for i, local in zip(dispatch, map_fn(_solve_part, jobs()), strict=True)
    ]
    merged = np.sort(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)
    timings["solve"] = time.perf_counter() - started
    solution = make_solution(instance, merged, timings)
    solution.timings["n_components"] = float(len(parts))
    return solution


def solve(instance: Instance, algorithm: str, **options: Any) -> Solution:
    """Solve `instance` with `algorithm` ("optimal" or "stable"), component by component."""
    return solve_components(instance, algorithm, **options)
