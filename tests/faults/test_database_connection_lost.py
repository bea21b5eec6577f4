"""The database connection of a real server (gunicorn, one sync worker, persistent
connections as in production) terminated by PostgreSQL: between two requests, and in the
middle of a request's transaction. The request that loses its connection fails with a plain
error page and leaves nothing half-written; the next request on the same worker works
(CONN_HEALTH_CHECKS replaces the dead connection)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from laborlink.models import OutboxTask
from recruitment.models import JobPosting
from tests.factories import posting_values
from tests.faults.conftest import ROOT, free_port, test_database_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATION_NAME = "laborlink-faults-server"
TITLE = "断线测试岗位"


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


@pytest.fixture
def server():
    """gunicorn on a spare port, against the test database."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
        "DATABASE_URL": test_database_url(APPLICATION_NAME),
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
    }
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "test-faults-gunicorn.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "laborlink.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), 60, interval=0.1, what="gunicorn")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


def _server_backends(*, waiting_on_a_lock: bool = False) -> list[tuple[int, str]]:
    """The server's database sessions (pid, current query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND (NOT %s OR wait_event_type = 'Lock')",
            [APPLICATION_NAME, waiting_on_a_lock],
        )
        return cursor.fetchall()


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0]


def _posting_form(token: str) -> dict:
    values = posting_values(title=TITLE)
    return {
        **values,
        "start_date": values["start_date"].isoformat(),
        "deadline": values["deadline"].isoformat(),
        "age_min": 18,
        "age_max": 55,
        "housing_subsidy": 0,
        "transport_subsidy": 0,
        "target_provinces": ["51", "52"],
        "publish": "",
        "csrfmiddlewaretoken": token,
    }


def test_a_request_that_loses_its_database_connection_fails_cleanly_and_the_next_works(
    server, hr_officer, agreements
):
    browser = Client()
    browser.force_login(hr_officer)
    http = requests.Session()
    http.cookies.set("sessionid", browser.cookies["sessionid"].value)
    http.headers["Accept-Language"] = "en"
    new_posting = f"{server}/recruitment/postings/new/"

    form = http.get(new_posting, timeout=30)
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)

    # 1. The worker's idle, persistent connection is terminated between two requests (a
    #    database restart or failover): the next request reconnects and succeeds.
    [(pid, _query)] = _server_backends()
    _terminate(pid)
    wait_for(lambda: not _server_backends(), 10, what="the backend to exit")
    assert http.get(f"{server}/recruitment/postings/", timeout=30).status_code == 200

    # 2. Terminated inside a transaction: "save and publish" has written the posting and
    #    waits to write its outbox row (the test holds the table's lock); it is killed there.
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    ) as locker:
        locker.execute("LOCK TABLE laborlink_outboxtask IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(
                http.post, new_posting, data=_posting_form(token), allow_redirects=False, timeout=60
            )
            [(pid, query)] = wait_for(
                lambda: _server_backends(waiting_on_a_lock=True), 30, what="the lock wait"
            )
            _terminate(pid)
            assert 'INSERT INTO "laborlink_outboxtask"' in query, query
            failed = pending.result(timeout=60)
        locker.rollback()

    assert failed.status_code == 500
    assert "Server Error" in failed.text
    for leak in ("Traceback", TITLE, "laborlink_outboxtask", "terminating connection"):
        assert leak not in failed.text
    assert not JobPosting.objects.filter(title=TITLE).exists()  # rolled back, all of it
    assert not OutboxTask.objects.exists()

    # 3. The next request on the same worker works: the same form is saved and published.
    saved = http.post(new_posting, data=_posting_form(token), allow_redirects=False, timeout=30)
    assert saved.status_code == 302, saved.text[:500]
    posting = JobPosting.objects.get(title=TITLE)
    assert posting.status == JobPosting.Status.OPEN
    assert OutboxTask.objects.filter(args=[posting.pk]).count() == 1
