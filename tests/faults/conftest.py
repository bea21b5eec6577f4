"""Real services for the fault tests: a Redis of the test's own (on a spare port, so that it
can be stopped, killed and started again empty without touching the shared one), Celery
workers in subprocesses, and helpers to wait for an outcome without fixed sleeps."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest
import redis

from laborlink import cache as resilient_cache
from laborlink.celery import app as celery_app
from tests.celery_workers import ROOT, CeleryWorker, test_database_url, wait_for  # noqa: F401
from tests.matching.conftest import market  # noqa: F401  (the small matching market)

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server that keeps nothing on disk: killed and started again, it is empty."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: what it held in memory (queued tasks) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        wait_for(lambda: not self.answers(), 10, what="redis-server to stop")

    def queued(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))


@pytest.fixture
def own_redis(settings):
    """A Redis of this test's own, used as broker, result backend and cache by the test
    process and by the workers it starts. Not started: the test decides when."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    saved = (celery_app.conf.broker_url, celery_app.conf.result_backend)
    settings.REDIS_URL = server.url
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_RESULT_BACKEND = server.url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": server.url, "KEY_PREFIX": "faults"}
    }
    celery_app.conf.broker_url = server.url
    celery_app.conf.result_backend = server.url
    _forget_connections()
    yield server
    celery_app.conf.broker_url, celery_app.conf.result_backend = saved
    _forget_connections()
    server.kill()


def _forget_connections() -> None:
    """Drop what the Celery app and the cache hold for the Redis in use before."""
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._local.__dict__.pop("backend", None)
    resilient_cache._down_until.clear()


@pytest.fixture
def start_worker(own_redis):
    started: list[CeleryWorker] = []

    def start(name: str = "faults") -> CeleryWorker:
        worker = CeleryWorker(
            name, redis_url=own_redis.url, pool="solo", log_name=f"test-faults-worker-{name}"
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
