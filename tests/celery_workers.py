"""Real Celery workers for tests: `celery -A laborlink worker` subprocesses on the test's
PostgreSQL database, and a poll-until helper (no fixed sleeps). Used by the matching
worker-fault tests and by tests/faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float, *, interval: float = 0.05, what: str = ""):
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_database_url(application_name: str = "") -> str:
    """The URL of the database this test runs on, for a subprocess."""
    db = connection.settings_dict
    host = quote(str(db.get("HOST") or "127.0.0.1"), safe="")
    user = quote(str(db.get("USER") or "postgres"), safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = f"?application_name={application_name}" if application_name else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}{query}"


test_database_url.__test__ = False  # a helper, not a test


class CeleryWorker:
    """A Celery worker in its own process group, on the test database and the given Redis
    (broker and result backend); its log goes to var/<log_name>.log."""

    def __init__(
        self,
        name: str,
        *,
        redis_url: str,
        log_name: str,
        pool: str = "prefork",
        concurrency: int = 1,
        result_backend: str | None = None,
    ) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": result_backend or redis_url,
            "DJANGO_SETTINGS_MODULE": "laborlink.settings",
        }
        pool_options = [f"--pool={pool}"]
        if pool == "prefork":
            pool_options.append(f"--concurrency={concurrency}")
        (ROOT / "var").mkdir(exist_ok=True)
        self.log = open(ROOT / "var" / f"{log_name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "laborlink",
                "worker",
                *pool_options,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once."""
        if self.process.poll() is None:
            self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        """Warm shutdown, as `docker stop` does: running tasks finish."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()
