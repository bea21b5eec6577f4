"""Benchmark the matching solvers on a reproducible synthetic market.

    python manage.py benchmark_matching --applicants 100000 --postings 10000 --edges 100

builds the instance once (numpy RNG, `--seed`) and saves its arrays to a temporary
directory; each solver loads them in a fresh process, so that its peak memory (VmHWM) is its
own. It runs the project's solvers (with `--workers` warm processes for the components) and
the plain exact
OR-Tools min-cost flow on the whole instance as the reference, and prints per solver the
time of each phase, peak memory, total score as a share of the reference optimum, matched
count, fill rate and blocking pairs, and the machine it ran on.

    python manage.py benchmark_matching --through-db --applicants 20000 --postings 1000 --edges 50

instead writes a synthetic market into the database in use with COPY (refused with DEBUG off
unless --force): throwaway bureaus, officers, agreements in force, employers, applicants with
approved and countersigned whitelist entries and fit certificates, open postings and their
targets, clustered so that each applicant has about --edges candidates. It then runs the
nightly pipeline as production does (`run_request(trigger="nightly")`, then `run_execute`
with map_fn=map, here rather than on a Celery worker), prints the run's phases, the offers,
counts, wall time, peak RSS, matched count and fill rate, and deletes everything it created
(unless --keep), putting back the runs and proposals the run superseded.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from datetime import date, timedelta
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
        parser.add_argument(
            "--through-db",
            action="store_true",
            help=_("generate the market in the database and run the nightly pipeline on it"),
        )
        parser.add_argument(
            "--force", action="store_true", help=_("allow --through-db when DEBUG is off")
        )
        parser.add_argument(
            "--keep", action="store_true", help=_("keep the generated rows after --through-db")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["through_db"]:
            self._through_db(options)
            return
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

    def _through_db(self, options: dict[str, Any]) -> None:
        from django.conf import settings

        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                _(
                    "--through-db writes a synthetic market into the database in use: refused "
                    "with DEBUG off (production) unless --force is given."
                )
            )
        out = self.stdout
        size = (options["applicants"], options["postings"], options["edges"], options["seed"])
        out.write(
            f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
            f"{_memory_gb():.1f} GB, Python {platform.python_version()}, "
            f"numpy {np.__version__}"
        )
        out.write(
            f"through the database: {size[0]} applicants × {size[1]} postings × about "
            f"{size[2]} candidates, seed {size[3]}"
        )
        market = SyntheticMarket(*size)
        try:
            started = time.perf_counter()
            market.generate()
            out.write(
                f"generate: {market.created['applicants']} applicants, "
                f"{market.created['postings']} postings "
                f"({market.created['positions']} positions) in "
                f"{time.perf_counter() - started:.2f}s"
            )
            result = market.run_pipeline()
            out.write(_pipeline_lines(result))
        finally:
            if options["keep"]:
                out.write(f"kept: rows marked {market.marker!r}")
            else:
                started = time.perf_counter()
                market.delete()
                out.write(f"clean-up: deleted and vacuumed in {time.perf_counter() - started:.2f}s")

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


# --- --through-db: a synthetic market in the database and the nightly pipeline on it ----------

EXPORTING = ("51", "52", "53")
IMPORTING = ("33", "44")


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Any) -> None:
    """COPY rows (tuples of Python values) into `table` (psycopg 3 `cursor.copy`)."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


class SyntheticMarket:
    """A throwaway market written with COPY, marked so that it can be removed afterwards.

    Cells are (importing province, exporting province, occupation); a posting targets its
    cell's exporting province, an applicant has its cell's occupation as only skill and is
    whitelisted for its cell's importing province, so each applicant has about `edges`
    candidates (the postings of its cell)."""

    def __init__(self, applicants: int, postings: int, edges: int, seed: int = 0) -> None:
        import secrets

        self.n, self.m, self.k, self.seed = applicants, postings, max(1, edges), seed
        self.token = secrets.token_hex(3)
        self.marker = f"benchmark-matching-{self.token}"
        self.created: dict[str, int] = {}
        self.ids: dict[str, list[int]] = {}
        self.run_id: int | None = None
        self.sms_after: int = 0
        self.restore_runs: list[int] = []
        self.restore_matches: list[int] = []

    # generation ---------------------------------------------------------------------------

    def generate(self) -> None:
        from django.db import connection, transaction
        from django.utils import timezone

        from health.models import IssuingKey
        from laborlink.models import CooperationAgreement, Organization, User
        from recruitment.occupations import Occupation

        rng = np.random.default_rng(self.seed)
        today = timezone.localdate()
        now = timezone.now()
        occupations = [code for code in Occupation.values if code != Occupation.GENERAL_WORKER]
        all_cells = [(i, e, o) for o in occupations for i in IMPORTING for e in EXPORTING]
        n_cells = max(1, min(len(all_cells), round(self.m / self.k)))
        cells = all_cells[:n_cells]
        with transaction.atomic():
            org = Organization.objects.create
            bureaus = {
                code: org(
                    name=f"{self.marker} bureau {code}",
                    kind=Organization.Kind.BUREAU,
                    province_id=code,
                )
                for code in (*EXPORTING, *IMPORTING)
            }
            employers = [
                org(
                    name=f"{self.marker} employer {j}",
                    kind=Organization.Kind.EMPLOYER,
                    province_id=IMPORTING[j % len(IMPORTING)],
                    credit_code=f"BM{self.token}{j:010d}",
                )
                for j in range(max(len(IMPORTING), self.m // 50))
            ]
            authority = org(
                name=f"{self.marker} health",
                kind=Organization.Kind.HEALTH_AUTHORITY,
                province_id=EXPORTING[0],
            )
            self.ids["organizations"] = [
                *(b.pk for b in bureaus.values()),
                *(e.pk for e in employers),
                authority.pk,
            ]

            def user(name: str, role: str, organization: Organization) -> User:
                return User.objects.create(
                    username=f"{self.marker}-{name}", role=role, organization=organization
                )

            officers = {
                code: user(f"officer-{code}", User.Role.BUREAU_OFFICER, bureaus[code])
                for code in (*EXPORTING, *IMPORTING)
            }
            hr = user("hr", User.Role.HR_OFFICER, employers[0])
            doctor = user("doctor", User.Role.HEALTH_OFFICER, authority)
            self.ids["users"] = [*(u.pk for u in officers.values()), hr.pk, doctor.pk]
            key = IssuingKey.objects.create(
                authority=authority,
                kid=self.marker,
                public_key="-",
                private_key_encrypted="-",
                status=IssuingKey.Status.RETIRED,
                retired_at=now,
            )
            self.ids["keys"] = [key.pk]
            self.ids["agreements"] = [
                CooperationAgreement.objects.create(
                    title=self.marker,
                    importing_province_id=i,
                    exporting_province_id=e,
                    importing_city=self.marker[:64],
                    signed_on=today - timedelta(days=30),
                    valid_from=today - timedelta(days=30),
                    status=CooperationAgreement.Status.ACTIVE,
                ).pk
                for i in IMPORTING
                for e in EXPORTING
            ]

            with connection.cursor() as cursor:
                self._postings(cursor, rng, cells, employers, hr.pk, today, now)
                self._applicants(cursor, rng, cells, bureaus, officers, today, now)
                self._whitelist_and_certificates(
                    cursor, cells, officers, authority.pk, key.pk, doctor.pk, today, now
                )

    def _postings(
        self, cursor: Any, rng: Any, cells: list, employers: list, hr_id: int, today: Any, now: Any
    ) -> None:
        from recruitment.models import JobPosting

        m, n = self.m, self.n
        large = rng.random(m) < 0.03
        raw = np.where(large, rng.integers(30, 301, m), rng.geometric(0.35, m)).astype(float)
        positions = np.maximum(1, np.round(raw * (0.8 * n / raw.sum()))).astype(int)
        wage = rng.integers(4000, 9001, m)
        urgency = rng.choice(["normal", "urgent", "critical"], size=m, p=[0.6, 0.3, 0.1])
        start, deadline = today + timedelta(days=30), today + timedelta(days=20)
        cell_of = [cells[j % len(cells)] for j in range(m)]
        by_province: dict[str, list[int]] = {}
        for e in employers:
            by_province.setdefault(e.province_id, []).append(e.pk)
        columns = (
            "employer_id", "province_id", "created_by_id", "title", "description", "occupation",
            "positions", "positions_filled", "wage_min", "wage_max", "city", "county",
            "workplace", "start_date", "deadline", "urgency", "caring_job", "housing_provided",
            "housing_subsidy", "transport_subsidy", "age_min", "age_max", "contact_name",
            "contact_phone", "status", "published_at", "created_at", "updated_at",
        )  # fmt: skip

        def rows() -> Any:
            for j in range(m):
                imp, _exp, occupation = cell_of[j]
                employer_ids = by_province[imp]
                yield (
                    employer_ids[j % len(employer_ids)], imp, hr_id, f"{self.marker} {j}", "",
                    occupation, int(positions[j]), 0, int(wage[j]) - 1000, int(wage[j]),
                    "City", "", "", start, deadline, str(urgency[j]), False, bool(j % 2),
                    0, 300 * (j % 3), 18, 60, "", "", JobPosting.Status.OPEN, now, now, now,
                )  # fmt: skip

        _copy(cursor, JobPosting._meta.db_table, columns, rows())
        ids = list(
            JobPosting.objects.filter(title__startswith=f"{self.marker} ")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.ids["postings"] = ids
        through = JobPosting.target_provinces.through
        _copy(
            cursor,
            through._meta.db_table,
            ("jobposting_id", "province_id"),
            ((pk, cell_of[j][1]) for j, pk in enumerate(ids)),
        )
        self.created["postings"] = len(ids)
        self.created["positions"] = int(positions.sum())

    def _applicants(
        self,
        cursor: Any,
        rng: Any,
        cells: list,
        bureaus: dict,
        officers: dict,
        today: Any,
        now: Any,
    ) -> None:
        from laborlink import personal_data
        from recruitment.models import Applicant
        from recruitment.services import NATIONAL_ID_CONTEXT, PHONE_CONTEXT

        # the same ciphertexts for every row (the pipeline only decrypts the phone)
        phone = personal_data.encrypt("13800000000", context=PHONE_CONTEXT)
        national_id = personal_data.encrypt("000000000000000000", context=NATIONAL_ID_CONTEXT)
        minimum_wage = rng.integers(0, 5001, self.n)
        key_group = rng.random(self.n) < 0.15
        waiting = rng.integers(0, 365, self.n)
        columns = (
            "registering_bureau_id", "registered_by_id", "home_province_id",
            "national_id_encrypted", "national_id_hash", "national_id_masked", "region_code",
            "region_known", "name", "sex", "birth_date", "phone_encrypted", "phone_hash",
            "phone_masked", "skills", "preferred_provinces", "minimum_wage", "available_from",
            "key_groups", "consent_cross_province", "consent_recorded_at", "notes", "created_at",
            "updated_at",
        )  # fmt: skip

        def rows() -> Any:
            for i in range(self.n):
                _imp, home, occupation = cells[i % len(cells)]
                yield (
                    bureaus[home].pk, officers[home].pk, home, national_id,
                    f"{self.marker}-{i}", "0" * 18, f"{home}0000", True, f"BM{i}",
                    "male" if i % 2 else "female", date(1990, 1, 1) + timedelta(days=i % 3650),
                    phone, f"{self.marker}-{i}", "138****0000", [occupation], [],
                    int(minimum_wage[i]), today - timedelta(days=int(waiting[i])),
                    ["graduate"] if key_group[i] else [], True, now, self.marker, now, now,
                )  # fmt: skip

        _copy(cursor, Applicant._meta.db_table, columns, rows())
        self.ids["applicants"] = list(
            Applicant.objects.filter(registering_bureau_id__in=[b.pk for b in bureaus.values()])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.created["applicants"] = len(self.ids["applicants"])

    def _whitelist_and_certificates(
        self,
        cursor: Any,
        cells: list,
        officers: dict,
        authority_id: int,
        key_id: int,
        doctor_id: int,
        today: Any,
        now: Any,
    ) -> None:
        from health.models import HealthCertificate
        from health.services import RESULT_CONTEXT
        from laborlink import personal_data
        from recruitment.models import WhitelistEntry

        expires = today + timedelta(days=365)
        columns = (
            "applicant_id", "importing_province_id", "status", "expires_on", "decided_by_id",
            "decided_at", "reason", "countersign", "countersigned_by_id", "countersigned_at",
            "countersign_reason", "created_at", "updated_at",
        )  # fmt: skip
        _copy(
            cursor,
            WhitelistEntry._meta.db_table,
            columns,
            (
                (pk, cells[i % len(cells)][0], "approved", expires,
                 officers[cells[i % len(cells)][1]].pk, now, "", "countersigned",
                 officers[cells[i % len(cells)][0]].pk, now, "", now, now)
                for i, pk in enumerate(self.ids["applicants"])
            ),
        )  # fmt: skip
        columns = (
            "number", "applicant_id", "authority_id", "key_id", "issued_by_id", "examined_on",
            "result_encrypted", "notes_encrypted", "issued_at", "valid_until", "token_encrypted",
            "status", "revoke_reason",
        )  # fmt: skip
        issued = now - timedelta(days=1)

        def rows() -> Any:
            for i, pk in enumerate(self.ids["applicants"]):
                number = f"BM{self.token}{i:010d}"
                result = personal_data.encrypt(
                    HealthCertificate.Result.FIT, context=f"{RESULT_CONTEXT}:{number}"
                )
                yield (
                    number, pk, authority_id, key_id, doctor_id, today - timedelta(days=1),
                    result, "", issued, expires, "-", "valid", "",
                )  # fmt: skip

        _copy(cursor, HealthCertificate._meta.db_table, columns, rows())

    # the pipeline ---------------------------------------------------------------------------

    def run_pipeline(self) -> dict[str, Any]:
        """The nightly run as production does it (the Celery hand-off aside: the run is
        executed here, with map_fn=map, instead of being sent to a worker)."""
        from unittest import mock

        from laborlink.models import SmsMessage
        from matching import services
        from matching.models import Match, MatchRun

        self.sms_after = (
            SmsMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        # what the run will supersede, to put back afterwards
        self.restore_runs = list(
            MatchRun.objects.filter(status=MatchRun.Status.DONE).values_list("pk", flat=True)
        )
        self.restore_matches = list(
            Match.objects.filter(status=Match.Status.PROPOSED).values_list("pk", flat=True)
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        with mock.patch.object(services, "_enqueue", lambda run: None):
            run = services.run_request(actor=None, trigger=MatchRun.Trigger.NIGHTLY)
            self.run_id = run.pk
            offers_started = [0.0]
            original = services.offers_send_pending

            def timed_offers() -> int:
                offers_started[0] = time.perf_counter()
                return original()

            with mock.patch.object(services, "offers_send_pending", timed_offers):
                run = services.run_execute(run.pk, map_fn=map)
        total = time.perf_counter() - started
        if run is None or run.status != MatchRun.Status.DONE:
            raise CommandError(
                _("The matching run failed: %(error)s")
                % {"error": getattr(run, "error", "not executed")}
            )
        offers = total - (offers_started[0] - started) if offers_started[0] else 0.0
        return {
            "run": run.pk,
            "phase_seconds": run.phase_seconds,
            "offers": offers,
            "offers_sent": Match.objects.filter(run=run, offered_at__isnull=False).count(),
            "counts": run.counts,
            "total": total,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_before_mb": rss_before,
            "matched": run.matched_count,
            "fill_rate": run.fill_rate,
        }

    # clean-up -------------------------------------------------------------------------------

    def delete(self) -> None:
        """Delete what was created, in foreign-key order, then VACUUM ANALYZE the big tables."""
        from django.core.cache import cache
        from django.db import connection, transaction

        from health.models import HealthCertificate, IssuingKey
        from laborlink.models import CooperationAgreement, Organization, SmsMessage, User
        from matching.models import Match, MatchRun
        from matching.offers import SMS_PURPOSE
        from matching.services import progress_key
        from recruitment.models import Applicant, JobPosting, WhitelistEntry

        bureaus = self.ids.get("organizations", [])
        # the tables, named literally in the statements below
        tables = (
            "matching_match",
            "health_healthcertificate",
            "recruitment_whitelistentry",
            "recruitment_applicant",
            "recruitment_jobposting",
            "recruitment_jobposting_target_provinces",
        )
        assert {Match._meta.db_table, HealthCertificate._meta.db_table,
                WhitelistEntry._meta.db_table, Applicant._meta.db_table,
                JobPosting._meta.db_table, JobPosting.target_provinces.through._meta.db_table
                } == set(tables)  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            if self.run_id is not None:
                SmsMessage.objects.filter(pk__gt=self.sms_after, purpose=SMS_PURPOSE).delete()
                cursor.execute("DELETE FROM matching_match WHERE run_id = %s", [self.run_id])
                MatchRun.objects.filter(pk=self.run_id).delete()
                cache.delete(progress_key(self.run_id))
                MatchRun.objects.filter(pk__in=self.restore_runs).update(
                    status=MatchRun.Status.DONE
                )
                Match.objects.filter(pk__in=self.restore_matches).update(
                    status=Match.Status.PROPOSED
                )
            if bureaus:
                cursor.execute(
                    "DELETE FROM health_healthcertificate WHERE authority_id = ANY(%s)",
                    [bureaus],
                )
                cursor.execute(
                    "DELETE FROM recruitment_whitelistentry w USING recruitment_applicant a "
                    "WHERE w.applicant_id = a.id AND a.registering_bureau_id = ANY(%s)",
                    [bureaus],
                )
                cursor.execute(
                    "DELETE FROM recruitment_applicant WHERE registering_bureau_id = ANY(%s)",
                    [bureaus],
                )
                cursor.execute(
                    "DELETE FROM recruitment_jobposting_target_provinces t "
                    "USING recruitment_jobposting p "
                    "WHERE t.jobposting_id = p.id AND p.employer_id = ANY(%s)",
                    [bureaus],
                )
                cursor.execute(
                    "DELETE FROM recruitment_jobposting WHERE employer_id = ANY(%s)", [bureaus]
                )
            IssuingKey.objects.filter(pk__in=self.ids.get("keys", [])).delete()
            User.objects.filter(pk__in=self.ids.get("users", [])).delete()
            CooperationAgreement.objects.filter(pk__in=self.ids.get("agreements", [])).delete()
            Organization.objects.filter(pk__in=bureaus).delete()
        if connection.in_atomic_block:
            return  # under a test's transaction: VACUUM cannot run there
        with connection.cursor() as cursor:
            for name in tables:
                cursor.execute(f"VACUUM ANALYZE {name}")


def _pipeline_lines(result: dict[str, Any]) -> str:
    phases = result["phase_seconds"]
    counts = result["counts"]
    removed = counts.get("removed_by_rule", {})
    return "\n".join(
        [
            f"run #{result['run']}: load_and_score {phases.get('load_and_score', 0):.2f}s, "
            f"solve {phases.get('solve', 0):.2f}s, store {phases.get('store', 0):.2f}s, "
            f"offers {result['offers']:.2f}s ({result['offers_sent']} sent); "
            f"total {result['total']:.2f}s",
            f"counts: {counts.get('edges', 0)} edges, {counts.get('matches', 0)} matches, "
            f"removed by rule {removed}",
            f"matched {result['matched']}, fill {100 * (result['fill_rate'] or 0):.2f}%; "
            f"peak RSS {result['peak_mb']:.0f} MB "
            f"(before the run {result['peak_before_mb']:.0f} MB)",
        ]
    )
