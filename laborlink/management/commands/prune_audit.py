"""Remove audit entries older than the retention period (never younger than six months)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from laborlink import audit


class Command(BaseCommand):
    help = (
        "Delete audit-trail entries (row history and read events) older than --days "
        "(default AUDIT_RETENTION_DAYS). Refuses a period under six months."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.AUDIT_RETENTION_DAYS,
            help=(
                "Keep entries younger than this many days "
                f"(at least {settings.AUDIT_MINIMUM_RETENTION_DAYS})."
            ),
        )

    def handle(self, *args, days: int, **options):
        try:
            deleted = audit.prune(days=days)
        except ValueError as error:
            raise CommandError(str(error)) from error
        total = sum(deleted.values())
        for table, count in deleted.items():
            if count:
                self.stdout.write(f"{table}: {count}")
        self.stdout.write(f"pruned {total} audit entries older than {days} days")
