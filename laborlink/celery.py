"""The Celery application: Redis broker, JSON only, late acks, beat schedule in settings."""

from __future__ import annotations

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")


# DjangoTask adds delay_on_commit()/apply_async_on_commit(): enqueue only after the
# surrounding transaction commits, so a worker never sees a row that is not there yet.
class AuditedTask(DjangoTask):
    """Rows a task writes are attributed to it in the audit trail (`{"task": name}`)."""

    def __call__(self, *args, **kwargs):
        import pghistory  # needs Django's settings: imported when the task runs

        with pghistory.context(task=self.name):
            return super().__call__(*args, **kwargs)


app = Celery("laborlink", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
