"""The Celery application: Redis broker, JSON only, late acks, beat schedule in settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")

# DjangoTask adds delay_on_commit()/apply_async_on_commit(): enqueue only after the
# surrounding transaction commits, so a worker never sees a row that is not there yet.
app = Celery("laborlink", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
