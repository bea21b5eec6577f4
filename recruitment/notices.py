"""Notices to the bureaus: a new job posting is open to their province.

Written by a task fed by the outbox (`posting_publish` enqueues it in its own transaction),
so a broker outage only delays them. One notice per bureau and posting: the unique
constraint makes a repeated delivery write nothing more.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from laborlink.models import Notification, Organization
from recruitment.models import JobPosting

logger = logging.getLogger(__name__)

# Shown (page and API) when the broker was down as the posting was published.
NOTIFYING_DELAYED = _(
    "The posting is published. Notifying the bureaus is delayed; it will be sent automatically."
)


@transaction.atomic
def posting_notify_bureaus(*, posting_id: int) -> int:
    """Tell every active bureau of the posting's target provinces that it is open; returns
    how many bureaus were told now (0 when all were told already, or the posting is no
    longer open: there is nothing left to announce)."""
    posting = JobPosting.objects.select_related("employer").filter(pk=posting_id).first()
    if posting is None or posting.status != JobPosting.Status.OPEN:
        return 0
    kind = Notification.Kind.POSTING_PUBLISHED
    told = set(
        Notification.objects.filter(kind=kind, object_id=posting.pk).values_list(
            "organization_id", flat=True
        )
    )
    bureaus = Organization.objects.filter(
        kind=Organization.Kind.BUREAU,
        is_active=True,
        province__in=posting.target_provinces.all(),
    ).exclude(pk__in=told)
    params = {
        "title": posting.title,
        "employer": posting.employer.name,
        "province": posting.province_id,
        "urgency": posting.urgency,
    }
    notices = [
        Notification(organization=bureau, kind=kind, object_id=posting.pk, params=params)
        for bureau in bureaus.order_by("pk")
    ]
    Notification.objects.bulk_create(notices, ignore_conflicts=True)
    logger.info("posting %s: %d bureaus notified", posting.pk, len(notices))
    return len(notices)
