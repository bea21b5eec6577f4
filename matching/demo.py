"""Matching demo data: tonight's run, made at once over the demo data so that the pages, the
offers (in the SMS outbox) and the API have something to show. Idempotent."""

from __future__ import annotations

from matching.models import MatchRun


def load_demo_data() -> dict[str, int]:
    from matching import services

    if MatchRun.objects.exists():
        return {"matching_runs": 0}
    run = services.run_request(actor=None, trigger=MatchRun.Trigger.NIGHTLY)
    run = services.run_execute(run.pk)
    return {"matching_runs": 1, "matches": (run.matched_count or 0) if run else 0}
