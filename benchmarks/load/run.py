"""Run the load test: gunicorn with production settings, locust headless, figures, invariants.

    .venv/bin/python benchmarks/load/run.py [--users 60 --spawn-rate 10 --duration 60s]
        [--workers 5] [--throughput-users 10 --throughput-duration 15s --throughput-rounds 3]

1. Checks the dataset (benchmarks/load/generate.py) and prints the machine (cores, RAM, load
   average before the run).
2. Starts gunicorn on 127.0.0.1 with production settings: DJANGO_DEBUG=false, a fresh random
   DJANGO_SECRET_KEY, the dataset's DATA_ENCRYPTION_KEY (its rows were encrypted with it),
   DJANGO_ALLOWED_HOSTS=127.0.0.1, static files collected into a temporary directory, Redis
   db 11. HTTPS is what a proxy in front would terminate: locust sends X-Forwarded-Proto:
   https, so SECURE_SSL_REDIRECT stays on and cookies are Secure. The DRF throttle rates
   (API_THROTTLE_USER / API_THROTTLE_ANON) are raised to 1,000,000/min for the run: a few
   accounts make all the requests, and the test measures the application, not the throttle.
   Also starts the raw endpoint (raw_wsgi.py) in its own gunicorn with the same worker count.
3. Fills the Redis lists the locust users take their accounts and rows from (from the
   database: draft postings, pending whitelist entries, departed placements).
4. Phase "mix": locust with HR officers, bureau officers, employers and API clients (think
   time 1–3 s). The statistics start once every user has logged in and last --duration from
   then (the log-in burst is not steady traffic; its failures and times are reported apart:
   the locustfile records every failure of the whole run).
5. Phase "throughput": the match-results page alone, then the raw page alone, each with
   --throughput-users users and no think time, alternating for --throughput-rounds rounds;
   compares the mean requests per second.
6. Checks the invariants in SQL, prints the table, writes var/load/results-<time>.json,
   stops both gunicorns.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    EXPORTING,
    KEY_ARRIVALS,
    KEY_CLIENTS,
    KEY_DRAFTS,
    KEY_PENDING,
    KEY_USERS,
    ROOT,
    STATE_DIR,
    load_secrets,
)

VENV_BIN = Path(sys.executable).parent
MIX = ["HrOfficer", "BureauOfficer", "Employer", "ApiClient"]
MATCH_NAME = "API client match results page"
RAW_NAME = "raw match results page"

INVARIANTS = {
    "posting over-filled (positions_filled > positions)": """
        SELECT count(*) FROM recruitment_jobposting WHERE positions_filled > positions""",
    "posting whose filled count differs from its workers on post": """
        SELECT count(*) FROM recruitment_jobposting p
         WHERE p.positions_filled <> (SELECT count(*) FROM recruitment_placement pl
                                       WHERE pl.posting_id = p.id
                                         AND pl.status IN ('arrived', 'employed'))""",
    "seat double-booked (trip, seat) with 2+ booked/boarded": """
        SELECT count(*) FROM (SELECT trip_id, seat FROM transport_booking
                               WHERE status IN ('booked', 'boarded')
                               GROUP BY trip_id, seat HAVING count(*) > 1) s""",
    "trip with more seated bookings than seats": """
        SELECT count(*) FROM (SELECT t.id FROM transport_trip t
                                JOIN transport_booking b ON b.trip_id = t.id
                               WHERE b.status IN ('booked', 'boarded')
                               GROUP BY t.id, t.seats HAVING count(*) > t.seats) s""",
    "placement with 2+ active bookings": """
        SELECT count(*) FROM (SELECT placement_id FROM transport_booking
                               WHERE status IN ('waitlisted', 'booked', 'boarded')
                               GROUP BY placement_id HAVING count(*) > 1) s""",
    "applicant with 2+ active placements": """
        SELECT count(*) FROM (SELECT applicant_id FROM recruitment_placement
                               WHERE status IN ('offered', 'accepted', 'booked', 'departed',
                                                'arrived', 'referred', 'employed')
                               GROUP BY applicant_id HAVING count(*) > 1) s""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads (gthread)")
    parser.add_argument("--throughput-users", type=int, default=10)
    parser.add_argument("--throughput-duration", default="15s", help="each round of each page")
    parser.add_argument("--throughput-rounds", type=int, default=3)
    parser.add_argument("--skip-mix", action="store_true")
    parser.add_argument(
        "--without-review-page",
        action="store_true",
        help="diagnostic: bureau officers list pending entries instead of the review page",
    )
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--raw-port", type=int, default=8099)
    options = parser.parse_args()
    os.environ["DATABASE_URL"] = options.database_url

    import psycopg
    import redis

    state = load_secrets()
    started = dt.datetime.now(dt.UTC).astimezone()
    machine = machine_info()
    print(f"machine: {machine['cores']} cores, {machine['ram_gb']} GB RAM, "
          f"load average before {machine['loadavg']} ({machine['cpu']})")  # fmt: skip
    with psycopg.connect(options.database_url, autocommit=True) as db:
        dataset = dataset_info(db)
    print("dataset:", ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                for k, v in dataset.items()))  # fmt: skip

    r = redis.Redis.from_url(options.redis_url)
    run_dir = Path(tempfile.mkdtemp(prefix="laborlink-load-"))
    env = server_env(options, state, run_dir)
    processes: list[subprocess.Popen] = []
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine,
        "dataset": dataset,
        "options": vars(options),
    }
    try:
        collectstatic(env)
        processes.append(start_gunicorn(options, env, run_dir, raw=False))
        processes.append(start_gunicorn(options, env, run_dir, raw=True))
        wait_until_up(f"http://127.0.0.1:{options.port}/healthz", https=True)
        wait_until_up(f"http://127.0.0.1:{options.raw_port}/matches?province=33")

        def refill() -> dict:  # before each phase: the lists live in a shared Redis
            with psycopg.connect(options.database_url, autocommit=True) as db:
                return fill_queues(db, r, state)

        results["queues"] = refill()
        print("queues:", results["queues"])
        locust_env = {
            **os.environ,
            "LOAD_REDIS_URL": options.redis_url,
            "LOAD_PASSWORD": state["password"],
            "LOAD_WITHOUT_REVIEW_PAGE": "1" if options.without_review_page else "",
        }
        if not options.skip_mix:
            print(f"\nphase mix: {options.users} users, {options.duration}", flush=True)
            results["mix"] = run_locust(
                options, locust_env, run_dir, "mix", MIX, options.users, options.duration
            )
        if not options.skip_throughput:
            # First a round of each that is not counted: fresh workers load translations,
            # URL patterns and connections (and prepare their statements) on first use.
            # Then api, raw, api, raw …: the machine's other load changes during a run; the
            # ratio is that of the mean rates over all rounds.
            for round_ in range(0, options.throughput_rounds + 1):
                for name, cls in (("throughput-api", "ApiClient"), ("throughput-raw", "RawClient")):
                    refill()
                    duration = options.throughput_duration if round_ else "10s"
                    print(f"\nphase {name} (round {round_ or 'warm-up'}): "
                          f"{options.throughput_users} users, no think time, {duration}",
                          flush=True)  # fmt: skip
                    results[f"{name}-{round_}"] = run_locust(
                        options,
                        {**locust_env, "LOAD_CLOSED_LOOP": "1"},
                        run_dir,
                        f"{name}-{round_}",
                        [cls],
                        options.throughput_users,
                        duration,
                    )
    finally:
        for process in processes:
            stop(process)
    with psycopg.connect(options.database_url, autocommit=True) as db:
        results["invariants"] = check_invariants(db)
    results["finished"] = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    report(results)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    out = STATE_DIR / f"results-{started:%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"\nresults: {out}\nlogs: {run_dir}")
    if any(results["invariants"].values()):
        sys.exit(1)


def machine_info() -> dict:
    cpu = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        total_kb = int(info.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(total_kb / 1024 / 1024, 1),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "uptime": subprocess.run(  # noqa: S603
            [shutil.which("uptime") or "/usr/bin/uptime"], capture_output=True, text=True
        ).stdout.strip(),
    }


def dataset_info(db) -> dict:
    info = {}
    for label, table in (
        ("applicants", "recruitment_applicant"),
        ("matches", "matching_match"),
        ("whitelist entries", "recruitment_whitelistentry"),
        ("postings", "recruitment_jobposting"),
    ):
        info[label] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    info["database size"] = db.execute(
        "SELECT pg_size_pretty(pg_database_size(current_database()))"
    ).fetchone()[0]
    if not info["applicants"]:
        raise SystemExit("The database is empty: run benchmarks/load/generate.py first.")
    return info


def server_env(options, state: dict, run_dir: Path) -> dict:
    static = run_dir / "static"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "laborlink.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATA_ENCRYPTION_KEY": state["data_encryption_key"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CACHE_KEY_PREFIX": "laborlink-load",
        "DJANGO_STATIC_ROOT": str(static),
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ANON": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def collectstatic(env: dict) -> None:
    subprocess.run(  # noqa: S603
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start_gunicorn(options, env: dict, run_dir: Path, *, raw: bool) -> subprocess.Popen:
    if raw:
        app, port, extra = "raw_wsgi:application", options.raw_port, ["--chdir", str(HERE)]
    else:
        app, port, extra = "laborlink.wsgi:application", options.port, ["--chdir", str(ROOT)]
    command = [
        str(VENV_BIN / "gunicorn"),
        app,
        *extra,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        options.worker_class,
        "--threads",
        str(options.threads),
        "--timeout",
        "60",
        "--error-logfile",
        str(run_dir / f"gunicorn-{'raw' if raw else 'app'}.log"),
    ]
    log = open(run_dir / f"gunicorn-{'raw' if raw else 'app'}.out", "w")  # noqa: SIM115
    return subprocess.Popen(  # noqa: S603
        command, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
    )


def wait_until_up(url: str, *, https: bool = False, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    headers = {"X-Forwarded-Proto": "https"} if https else {}
    while True:
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1)
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fill_queues(db, r, state: dict) -> dict:
    """Rebuild the Redis lists from the database: whatever earlier runs consumed is gone."""
    stale = [k for pattern in ("load:*",) for k in r.scan_iter(pattern, count=1000)]
    if stale:
        r.delete(*stale)
    pipe = r.pipeline(transaction=False)
    sizes: dict[str, int] = {}

    def push(key: str, values: list) -> None:
        for start in range(0, len(values), 5000):
            pipe.rpush(key, *values[start : start + 5000])

    for role, pattern in (
        ("hr", "load-test-hr-%"),
        ("bureau", "load-test-bureau-%"),
        ("employer", "load-test-employer-%"),
    ):
        names = [
            row[0]
            for row in db.execute(
                "SELECT username FROM laborlink_user WHERE username LIKE %s ORDER BY id",
                [pattern],
            )
            if role != "bureau" or row[0].split("-")[-2] in EXPORTING
        ]
        push(KEY_USERS.format(role=role), names)
        sizes[f"{role} accounts"] = len(names)
    drafts = db.execute(
        """SELECT u.username, p.id FROM recruitment_jobposting p
             JOIN laborlink_user u ON u.organization_id = p.employer_id
            WHERE p.status = 'draft' AND u.username LIKE 'load-test-hr-%%'
            ORDER BY p.id"""
    ).fetchall()
    by_user: dict[str, list[int]] = {}
    for username, pk in drafts:
        by_user.setdefault(username, []).append(pk)
    for username, ids in by_user.items():
        push(KEY_DRAFTS.format(username=username), ids)
    sizes["draft postings"] = len(drafts)
    pending = db.execute(
        """SELECT a.home_province_id, w.applicant_id, w.importing_province_id
             FROM recruitment_whitelistentry w
             JOIN recruitment_applicant a ON a.id = w.applicant_id
            WHERE w.status = 'pending' ORDER BY w.id"""
    ).fetchall()
    by_province: dict[str, list[str]] = {}
    for home, applicant, importing in pending:
        by_province.setdefault(home, []).append(f"{applicant}:{importing}")
    for province, items in by_province.items():
        push(KEY_PENDING.format(province=province), items)
    sizes["pending entries"] = len(pending)
    arrivals = db.execute(
        """SELECT u.username, pl.id FROM recruitment_placement pl
             JOIN recruitment_jobposting p ON p.id = pl.posting_id
             JOIN laborlink_user u ON u.organization_id = p.employer_id
            WHERE pl.status = 'departed' AND u.username LIKE 'load-test-employer-%%'
            ORDER BY pl.id"""
    ).fetchall()
    by_employer: dict[str, list[int]] = {}
    for username, pk in arrivals:
        by_employer.setdefault(username, []).append(pk)
    for username, ids in by_employer.items():
        push(KEY_ARRIVALS.format(username=username), ids)
    sizes["arrivals to confirm"] = len(arrivals)
    push(KEY_CLIENTS, [json.dumps(client) for client in state["clients"]])
    pipe.execute()
    return sizes


def run_locust(options, env, run_dir: Path, phase: str, classes, users: int, duration: str):
    prefix = run_dir / phase
    failures_file = run_dir / f"{phase}-failures.json"
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{options.raw_port if classes == ['RawClient'] else options.port}",
        "-u",
        str(users),
        "-r",
        str(options.spawn_rate if phase == "mix" else users),
        "-t",
        f"{_seconds(duration) + 300:.0f}s",  # a cap: the locustfile stops it
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
        *classes,
    ]
    with open(run_dir / f"{phase}-locust.log", "w") as log:
        subprocess.run(  # noqa: S603
            command,
            env={
                **env,
                "LOAD_FAILURES_FILE": str(failures_file),
                "LOAD_MEASURE_SECONDS": str(_seconds(duration)),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            name = "mix (all requests)" if row["Name"] == "Aggregated" else row["Name"]
            rows[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": _ms(row["50%"]),
                "p95": _ms(row["95%"]),
                "p99": _ms(row["99%"]),
            }
    whole_run = json.loads(failures_file.read_text()) if failures_file.exists() else {}
    return {"endpoints": rows, "whole_run": whole_run}


def _seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    if duration[-1] in units:
        return float(duration[:-1]) * units[duration[-1]]
    return float(duration)


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def check_invariants(db) -> dict[str, int]:
    return {name: db.execute(sql).fetchone()[0] for name, sql in INVARIANTS.items()}


def report(results: dict) -> None:
    line = f"{'endpoint':<42} {'req':>7} {'fail':>5} {'rps':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    rounds = results["options"].get("throughput_rounds", 2)
    phases = ["mix"] + [
        f"throughput-{kind}-{n}" for n in range(1, rounds + 1) for kind in ("api", "raw")
    ]
    for phase in phases:
        if phase not in results:
            continue
        print(f"\n[{phase}] (ms; measured from the moment every user had logged in)")
        print(line)
        endpoints = results[phase]["endpoints"]
        for name, row in sorted(endpoints.items(), key=lambda kv: kv[0].startswith("mix")):
            print(
                f"{name[:42]:<42} {row['requests']:>7} {row['failures']:>5} {row['rps']:>7.1f} "
                f"{row['p50'] or 0:>6.0f} {row['p95'] or 0:>6.0f} {row['p99'] or 0:>6.0f}"
            )
        whole = results[phase]["whole_run"]
        if whole:
            total = sum(whole.get("failures", {}).values())
            print(f"whole run incl. ramp and log-ins: {whole.get('requests', 0)} requests, "
                  f"{total} failures")  # fmt: skip
            for what, count in whole.get("failures", {}).items():
                print(f"  {count} × {what}")
            for what, figures in whole.get("session_starts", {}).items():
                if figures["count"]:
                    print(f"  {what}: {figures['count']} before the measurement, "
                          f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms")  # fmt: skip
            for what, count in whole.get("starved", {}).items():
                print(f"  {count} writes skipped: no {what} row left in Redis")
            if not whole.get("measured"):
                print("  NOT MEASURED: not every user logged in before the time cap")

    def mean_rps(kind: str, name: str) -> float | None:
        each = [
            results.get(f"throughput-{kind}-{n}", {}).get("endpoints", {})
            for n in range(1, rounds + 1)
        ]
        rates = [r[name]["rps"] for r in each if name in r]
        return sum(rates) / len(rates) if rates else None

    api, raw = mean_rps("api", MATCH_NAME), mean_rps("raw", RAW_NAME)
    if api and raw:
        ratio = api / raw
        results["match_vs_raw"] = {"match_rps": api, "raw_rps": raw, "ratio": round(ratio, 3)}
        print(f"\nmatch results {api:.1f} rps vs raw {raw:.1f} rps (mean of {rounds} rounds): "
              f"ratio {ratio:.2f} (target ≥ 0.50)")  # fmt: skip
    mix = results.get("mix", {}).get("endpoints", {}).get("mix (all requests)")
    if mix:
        print(f"mix p95 {mix['p95']:.0f} ms (target < 300), failures {mix['failures']} "
              "(target 0)")  # fmt: skip
    print("\ninvariants (rows violating; all must be 0):")
    for name, count in results["invariants"].items():
        print(f"  {count:>5}  {name}")
    print(f"\nmachine: {results['machine']['uptime']}")


if __name__ == "__main__":
    if shutil.which("locust", path=str(VENV_BIN)) is None:
        raise SystemExit("locust is not installed in this virtualenv (pip install -e .[load])")
    main()
