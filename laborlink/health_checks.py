"""Liveness of the services the platform depends on, for /healthz."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the type is reported, not the text
        return f"error: {type(exc).__name__}"
    return "ok"


def redis_status() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
    )
    try:
        client.ping()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"
