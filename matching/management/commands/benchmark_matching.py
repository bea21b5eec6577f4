"""Benchmark the matching solvers on a reproducible synthetic market.

    python manage.py benchmark_matching --applicants 100000 --postings 10000 --edges 100

builds the instance once (numpy RNG, `--seed`) and saves its arrays to a temporary
directory; each solver loads them in a fresh process, so that its peak memory (VmHWM) is its
own. It runs the project's solvers (with `--workers` warm processes for the components) and
the plain exact
OR-Tools min-cost flow on the whole instance as the reference, and prints per solver the
time of each phase, peak memory, total score as a share of the reference optimum, matched
count, fill rate and blocking pairs, and the machine it ran on.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_lazy as _

from matching import solvers
from matching.instance import Instance

REFERENCE = "reference"
GENERATION_BLOCK = 100_000  # applicants per generation step


def synthetic_instance(
    applicants: int, postings: int, edges: int, seed: int = 0, *, breakdown: bool = True
) -> Instance:
    """A market-like instance: clustered, a few large employers, many small ones.

    Postings and applicants fall into clusters (an exporting region × an occupation group,
    about 4 × `edges` postings each, of uneven size); each applicant gets about `edges`
    distinct candidates within its cluster, so the eligibility graph has one component per
    cluster. About 3 % of the postings belong to large employers (30–300 positions), the
    rest have a few; positions total about 80 % of the applicants. Scores, utilities and
    priorities mix a posting's attractiveness (wage, urgency), an applicant's merit (key
    groups, waiting) and a per-pair skill fit. Without `breakdown` the score's parts are not
    kept (memory).
    """
    rng = np.random.default_rng(seed)
    n, m = applicants, postings
    n_clusters = max(1, m // max(1, 4 * edges))
    weights = rng.lognormal(0.0, 0.5, n_clusters)
    cluster_size = rng.multinomial(m - n_clusters, weights / weights.sum()) + 1
    cluster_start = np.concatenate([[0], np.cumsum(cluster_size)[:-1]])

    large = rng.random(m) < 0.03
    capacity = np.where(large, rng.integers(30, 301, m), rng.geometric(0.35, m)).astype(np.float64)
    capacity = np.maximum(1, np.round(capacity * (0.8 * n / capacity.sum()))).astype(np.int32)

    # applicants spread over clusters in proportion to the clusters' positions
    cluster_of_posting = np.repeat(np.arange(n_clusters), cluster_size)
    positions = np.bincount(cluster_of_posting, weights=capacity, minlength=n_clusters)
    applicant_cluster = np.sort(rng.choice(n_clusters, size=n, p=positions / positions.sum()))

    attractiveness = rng.normal(0.0, 1.0, m)
    urgency = rng.choice(3, size=m, p=[0.6, 0.3, 0.1])
    merit = rng.normal(0.0, 1.0, n)
    key_group = rng.random(n) < 0.15
    wage_points = np.round(20 * (np.clip(attractiveness, -3, 3) + 3) / 6).astype(np.int64)
    urgency_points = 5 * urgency.astype(np.int64)
    priority_points = 10 * key_group.astype(np.int64)
    priority_points += np.round(5 * (np.clip(merit, -3, 3) + 3) / 6).astype(np.int64)

    # edges block by block of applicants, so that the temporaries stay small
    blocks: dict[str, list[np.ndarray]] = {
        "ea": [],
        "ep": [],
        "skill": [],
        "score": [],
        "utility": [],
        "priority": [],
    }
    for first in range(0, n, GENERATION_BLOCK):
        block = np.arange(first, min(n, first + GENERATION_BLOCK), dtype=np.int64)
        size = cluster_size[applicant_cluster[block]]
        degree = np.minimum(edges, size)
        # draw a third more than needed within the cluster, drop repeats, then keep a
        # random `degree` of each applicant's distinct draws
        ea = np.repeat(block, np.minimum(size, degree + degree // 3 + 2))
        offset = np.floor(rng.random(ea.shape[0]) * size[ea - first]).astype(np.int64)
        pairs = np.unique(ea * m + cluster_start[applicant_cluster[ea]] + offset)
        del ea, offset
        shuffled = np.lexsort((rng.random(pairs.shape[0]), pairs // m))
        owner = pairs[shuffled] // m
        starts = np.searchsorted(owner, block)
        rank = np.arange(owner.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, owner.shape[0]]))
        pairs = np.sort(pairs[shuffled[rank < degree[owner - first]]])
        del shuffled, owner, starts, rank
        ea, ep = pairs // m, pairs % m
        del pairs
        fit = rng.random(ea.shape[0])
        skill = np.round(40 * fit).astype(np.int8)
        blocks["ea"].append(ea.astype(np.int32))
        blocks["ep"].append(ep.astype(np.int32))
        blocks["skill"].append(skill)
        points = skill + wage_points[ep] + urgency_points[ep] + priority_points[ea]
        blocks["score"].append(points * 1000)
        noise = rng.normal(0, 1, ea.shape[0])
        blocks["utility"].append(
            np.round(1000 * (attractiveness[ep] + 0.5 * noise)).astype(np.int64)
        )
        noise = rng.normal(0, 1, ea.shape[0])
        blocks["priority"].append(np.round(1000 * (merit[ea] + fit + 0.3 * noise)).astype(np.int64))
        del ea, ep, fit, skill, points, noise
    joined = {}
    for name in list(blocks):
        joined[name] = np.concatenate(blocks.pop(name))
    ea, ep = joined["ea"], joined["ep"]
    score_parts = {}
    if breakdown:
        score_parts = {
            "skill": joined["skill"].astype(np.int64) * 1000,
            "wage": wage_points[ep] * 1000,
            "urgency": urgency_points[ep] * 1000,
            "priority": priority_points[ea] * 1000,
        }
    return Instance(
        applicant_ids=np.arange(1, n + 1, dtype=np.int64),
        posting_ids=np.arange(1, m + 1, dtype=np.int64),
        capacity=capacity,
        edge_applicant=ea,
        edge_posting=ep,
        edge_score=joined["score"],
        applicant_utility=joined["utility"],
        posting_priority=joined["priority"],
        breakdown=score_parts,
    )


INSTANCE_ARRAYS = (
    "applicant_ids",
    "posting_ids",
    "capacity",
    "edge_applicant",
    "edge_posting",
    "edge_score",
    "applicant_utility",
    "posting_priority",
)


def generate_to(directory: str, size: tuple[int, int, int, int]) -> dict[str, Any]:
    """Build the instance once and save its arrays, for every solver process to load."""
    started = time.perf_counter()
    instance = synthetic_instance(*size, breakdown=False)
    generated = time.perf_counter() - started
    for name in INSTANCE_ARRAYS:
        np.save(os.path.join(directory, f"{name}.npy"), getattr(instance, name))
    return {"generate": generated, "peak_mb": _peak_mb(), "edges": instance.n_edges}


def _load(directory: str) -> Instance:
    arrays = {name: np.load(os.path.join(directory, f"{name}.npy")) for name in INSTANCE_ARRAYS}
    return Instance(**arrays)


def _bounded_map(pool: Any, ahead: int) -> Any:
    """`pool.imap` that keeps at most `ahead` parts in flight (imap would take them all at
    once and hold every pickled part in memory)."""

    def map_fn(function: Any, iterable: Any) -> Any:
        pending: collections.deque = collections.deque()
        for item in iterable:
            pending.append(pool.apply_async(function, (item,)))
            if len(pending) >= ahead:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    return map_fn


def _warm_up(_: int) -> None:
    import matching.solvers  # noqa: F401


def _peak_mb(pid: int | str = "self") -> float:
    """The process's peak resident memory (VmHWM; its own, not its parent's before exec)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return float("nan")


def run_solver(
    algorithm: str, directory: str, workers: int, pruning: dict[str, Any]
) -> dict[str, Any]:
    """Load the instance and run one solver; what each fresh benchmark process does."""
    instance = _load(directory)
    instance_mb = _peak_mb()
    options = pruning if algorithm == "optimal" else {}
    workers_mb = 0.0
    started = time.perf_counter()
    if algorithm == REFERENCE:
        timings: dict[str, float] = {}
        edges = solvers.min_cost_flow_edges(instance, timings=timings, plain=True)
        solution = solvers.make_solution(instance, edges, timings)
    elif workers > 1:
        # warm workers, as Celery's are: started and the solvers imported before the clock
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            pool.map(_warm_up, range(workers))
            started = time.perf_counter()
            solution = solvers.solve_components(
                instance, algorithm, map_fn=_bounded_map(pool, 2 * workers), **options
            )
            finished = time.perf_counter()
            workers_mb = max(_peak_mb(child.pid) for child in multiprocessing.active_children())
    else:
        solution = solvers.solve_components(instance, algorithm, **options)
    if algorithm == REFERENCE or workers <= 1:
        finished = time.perf_counter()
    total = finished - started
    # the time to solve, without counting the blocking pairs (a report figure)
    solve_time = total - solution.timings.get("blocking_pairs", 0.0)
    return {
        "solve": solve_time,
        "components": int(solution.timings.pop("n_components", 0)),
        "algorithm": algorithm,
        "edges": instance.n_edges,
        "total": total,
        "timings": solution.timings,
        "peak_mb": _peak_mb(),
        "children_peak_mb": workers_mb,
        "instance_mb": instance_mb,
        "total_score": solution.total_score,
        "matched": solution.matched,
        "fill_rate": solution.fill_rate,
        "blocking_pairs": solution.blocking_pairs,
    }


def _child(connection: Any, function: Any, args: tuple[Any, ...]) -> None:
    connection.send(function(*args))
    connection.close()


def _in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    """`function(*args)` in a new interpreter (not a pool's daemon: it may start its own)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, function, args))
    process.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        process.join()
        raise CommandError(
            _("The benchmark process failed (exit code %(code)s).") % {"code": process.exitcode}
        ) from None
    process.join()
    return result


class Command(BaseCommand):
    help = _("Benchmark the matching solvers on a reproducible synthetic market.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--applicants", type=int, default=100_000)
        parser.add_argument("--postings", type=int, default=10_000)
        parser.add_argument("--edges", type=int, default=100, help=_("candidates per applicant"))
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--algorithms", default="optimal,stable")
        parser.add_argument(
            "--workers", type=int, default=os.cpu_count() or 1, help=_("processes per solver")
        )
        parser.add_argument(
            "--top-k", type=int, default=solvers.DEFAULT_TOP_K, help=_("edges kept per applicant")
        )
        parser.add_argument(
            "--posting-factor",
            type=float,
            default=solvers.DEFAULT_POSTING_FACTOR,
            help=_("edges kept per posting: this × positions + --posting-extra"),
        )
        parser.add_argument("--posting-extra", type=int, default=solvers.DEFAULT_POSTING_EXTRA)
        parser.add_argument("--no-reference", action="store_true")
        parser.add_argument("--through-db", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["through_db"]:
            raise CommandError(
                _("--through-db is not implemented yet: the database pipeline is wired later.")
            )
        algorithms = [name.strip() for name in options["algorithms"].split(",") if name.strip()]
        for name in algorithms:
            if name not in solvers.SOLVERS:
                raise CommandError(_("Unknown algorithm: %(name)s") % {"name": name})
        if not options["no_reference"]:
            algorithms = [REFERENCE, *algorithms]
        size = (options["applicants"], options["postings"], options["edges"], options["seed"])
        pruning = {
            "top_k": options["top_k"],
            "posting_factor": options["posting_factor"],
            "posting_extra": options["posting_extra"],
        }
        out = self.stdout
        out.write(
            f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
            f"{_memory_gb():.1f} GB, Python {platform.python_version()}, "
            f"numpy {np.__version__}"
        )
        out.write(
            f"instance: {size[0]} applicants × {size[1]} postings × {size[2]} candidates, "
            f"seed {size[3]}; workers {options['workers']}; pruning {pruning}"
        )
        with tempfile.TemporaryDirectory(prefix="benchmark_matching_") as directory:
            built = _in_fresh_process(generate_to, directory, size)
            out.write(
                f"generate: {built['edges']} edges in {built['generate']:.2f}s "
                f"(peak {built['peak_mb']:.0f} MB; each solver then loads it in a fresh process)"
            )
            results = []
            for name in algorithms:
                result = _in_fresh_process(run_solver, name, directory, options["workers"], pruning)
                results.append(result)
                reference = results[0] if not options["no_reference"] else None
                out.write(self._line(result, reference))

    def _line(self, result: dict[str, Any], reference: dict[str, Any] | None) -> str:
        phases = ", ".join(f"{k} {v:.2f}s" for k, v in result["timings"].items())
        share = ""
        if reference is not None and reference["total_score"]:
            share = (
                f"; score share {100 * result['total_score'] / reference['total_score']:.4f}%"
                f", solve time ×{result['solve'] / reference['solve']:.3f} of the reference"
            )
        parts = f", {result['components']} components" if result["components"] else ""
        return (
            f"{result['algorithm']:>9}: {result['edges']} edges{parts}; solve "
            f"{result['solve']:.2f}s ({phases}); peak {result['peak_mb']:.0f} MB (instance "
            f"{result['instance_mb']:.0f} MB, each worker ≤ {result['children_peak_mb']:.0f} MB); "
            f"score {result['total_score']}{share}; matched {result['matched']}, fill "
            f"{100 * result['fill_rate']:.2f}%, blocking pairs {result['blocking_pairs']}"
        )


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError):
        return float("nan")
