"""Matching runs (the ledger) and the matches they propose."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MatchRun(models.Model):
    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("On demand")

    class Algorithm(models.TextChoices):
        OPTIMAL = "optimal", _("Optimal (maximum total score)")
        STABLE = "stable", _("Stable (deferred acceptance)")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SUPERSEDED = "superseded", _("Superseded")

    trigger = models.CharField(_("trigger"), max_length=8, choices=Trigger.choices)
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=Algorithm.choices)
    weights = models.JSONField(_("weights"), default=dict)
    run_date = models.DateField(_("run date"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    task_id = models.CharField(max_length=64, blank=True)
    # sha256 of the eligible input (applicants, postings, edges, scores, weights, algorithm)
    input_fingerprint = models.CharField(_("input fingerprint"), max_length=64, blank=True)
    phase_seconds = models.JSONField(_("phase timings (s)"), default=dict, blank=True)
    # e.g. {"applicants": 1200, "postings": 40, "pairs_considered": …, "removed_by_rule":
    #       {"agreement": …, "whitelist": …, …}, "edges": …, "components": …}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    total_score = models.BigIntegerField(_("total score"), null=True, blank=True)
    matched_count = models.PositiveIntegerField(_("matched"), null=True, blank=True)
    fill_rate = models.FloatField(_("fill rate"), null=True, blank=True)
    blocking_pairs = models.PositiveIntegerField(_("blocking pairs"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        constraints = [
            # At most one run at a time, whatever the path that starts it.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="matchrun_one_running",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.run_date} {self.algorithm}"


class Match(models.Model):
    """A proposed applicant ↔ posting pair of a run, with its score and why."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        SUPERSEDED = "superseded", _("Superseded")

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="matches")
    applicant = models.ForeignKey(
        "recruitment.Applicant", on_delete=models.PROTECT, related_name="matches"
    )
    posting = models.ForeignKey(
        "recruitment.JobPosting", on_delete=models.PROTECT, related_name="matches"
    )
    # denormalised for the province-scoped API and the statistics
    exporting_province = models.ForeignKey(
        "laborlink.Province", on_delete=models.PROTECT, related_name="+"
    )
    importing_province = models.ForeignKey(
        "laborlink.Province", on_delete=models.PROTECT, related_name="+"
    )
    score = models.IntegerField(_("score (× 1000)"))
    breakdown = models.JSONField(_("score breakdown"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    # The offer sent to the applicant: a signed link naming this nonce; answered once.
    offer_nonce = models.CharField(max_length=32, blank=True)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("offer expires at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer recorded by"),
        help_text=_("Empty when the applicant answered through the link."),
    )
    placement = models.OneToOneField(
        "recruitment.Placement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="match",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["run_id", "posting_id", "-score", "applicant_id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [
            # a retried run writes each match once
            models.UniqueConstraint(fields=["run", "applicant"], name="match_one_per_applicant"),
        ]
        indexes = [
            models.Index(fields=["exporting_province", "updated_at"], name="match_exporting"),
            models.Index(fields=["importing_province", "updated_at"], name="match_importing"),
            models.Index(fields=["posting", "status"], name="match_posting_status"),
            models.Index(fields=["applicant", "status"], name="match_applicant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} → {self.posting_id} ({self.score / 1000:.1f})"
