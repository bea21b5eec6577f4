"""Issuing keys, signed health certificates, verification log, arrival checks.

Health results and examiner notes are personal data: stored encrypted (laborlink.personal_data),
like the signed token that carries the result.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink.history import audited
from laborlink.models import Organization


class IssuingKey(models.Model):
    """An authority's Ed25519 key pair. The private half is encrypted with the platform's key
    and never leaves the server; the public half is published in the trust list."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    authority = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="issuing_keys",
        verbose_name=_("health authority"),
    )
    kid = models.CharField(_("key id"), max_length=64, unique=True)
    public_key = models.CharField(_("public key (base64url)"), max_length=64)
    private_key_encrypted = models.TextField(editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        ordering = ["authority_id", "-created_at"]
        verbose_name = _("issuing key")
        verbose_name_plural = _("issuing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["authority"],
                condition=Q(status="active"),
                name="issuing_key_one_active_per_authority",
            ),
            models.CheckConstraint(
                condition=Q(status="active", retired_at__isnull=True)
                | Q(status="retired", retired_at__isnull=False),
                name="issuing_key_retired_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.kid


@audited("HealthCertificateHistory")
class HealthCertificate(models.Model):
    class Result(models.TextChoices):
        FIT = "fit", _("Fit to work")
        NOT_FIT = "not_fit", _("Not fit")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("certificate number"), max_length=24, unique=True)
    applicant = models.ForeignKey(
        "recruitment.Applicant",
        on_delete=models.PROTECT,
        related_name="health_certificates",
        verbose_name=_("applicant"),
    )
    authority = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="health_certificates",
        verbose_name=_("issuing authority"),
    )
    key = models.ForeignKey(IssuingKey, on_delete=models.PROTECT, related_name="certificates")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    examined_on = models.DateField(_("examination date"))
    result_encrypted = models.TextField(editable=False)
    notes_encrypted = models.TextField(editable=False, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    valid_until = models.DateField(_("valid until"))
    token_encrypted = models.TextField(editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.VALID
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason for revocation"), max_length=300, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("health certificate")
        verbose_name_plural = _("health certificates")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("examined_on")),
                name="certificate_valid_after_examination",
            ),
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True)
                | Q(status="revoked", revoked_at__isnull=False),
                name="certificate_revoked_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["applicant", "status", "valid_until"], name="cert_applicant"),
            models.Index(fields=["authority", "-issued_at"], name="cert_authority"),
        ]

    def __str__(self) -> str:
        return self.number

    def is_in_force_on(self, day: date) -> bool:
        return self.status == self.Status.VALID and self.issued_at.date() <= day <= self.valid_until


class VerificationLog(models.Model):
    """Every verification made on the platform: who, when, which certificate, outcome."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Verification page")
        API = "api", _("API")
        BOARDING = "boarding", _("Boarding check")
        ARRIVAL = "arrival", _("Arrival check")

    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        indexes = [models.Index(fields=["certificate_number"], name="verification_number")]

    def __str__(self) -> str:
        return f"{self.certificate_number or '?'} {self.outcome}"


class ArrivalCheck(models.Model):
    """The health check an employer records when a worker arrives (used by transport)."""

    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        REFER = "refer", _("Refer for examination")
        FAIL = "fail", _("Fail")

    placement = models.ForeignKey(
        "recruitment.Placement",
        on_delete=models.PROTECT,
        related_name="arrival_checks",
        verbose_name=_("placement"),
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    result_encrypted = models.TextField(editable=False)
    notes_encrypted = models.TextField(editable=False, blank=True)
    # The form's (or API caller's) key for this check: a double tap or a retried request
    # carries the same key and records nothing twice.
    request_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("arrival health check")
        verbose_name_plural = _("arrival health checks")

    def __str__(self) -> str:
        return f"{self.placement_id} @ {self.checked_at:%Y-%m-%d %H:%M}"
