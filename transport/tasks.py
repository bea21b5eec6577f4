"""Transport tasks. Thin: they call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="transport.flag_unconfirmed_arrivals")
def flag_unconfirmed_arrivals() -> int:
    """Hourly: flag arrivals not confirmed 24 hours after the trip arrived."""
    from transport.services import flags_raise_unconfirmed_arrivals

    return flags_raise_unconfirmed_arrivals()


@shared_task(name="transport.start_employment")
def start_employment() -> int:
    """Daily: arrived workers whose job has started become employed."""
    from recruitment.placements import placements_start_employment

    return placements_start_employment()
