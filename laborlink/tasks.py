"""Platform-level tasks. Tasks are thin: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="laborlink.ping")
def ping() -> str:
    """Answers with the worker's time; used by the health tests and operators."""
    return timezone.now().isoformat()
