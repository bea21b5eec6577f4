"""The shared vocabulary every app uses: provinces, organisations, users, agreements."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from laborlink.validators import validate_credit_code


class Province(models.Model):
    """A provincial-level division with its GB/T 2260 code ("33" Zhejiang, "51" Sichuan)."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        AUTONOMOUS_REGION = "autonomous_region", _("Autonomous region")
        MUNICIPALITY = "municipality", _("Municipality")
        SAR = "sar", _("Special administrative region")

    code = models.CharField(_("GB/T 2260 code"), max_length=2, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=32, unique=True)
    name_en = models.CharField(_("English name"), max_length=64, unique=True)
    abbreviation = models.CharField(_("abbreviation"), max_length=2)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[1-8][0-9]$"), name="province_code_two_digits"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language."""
        lang = translation.get_language() or "zh-hans"
        return self.name_zh if lang.startswith("zh") else self.name_en


class Organization(models.Model):
    class Kind(models.TextChoices):
        BUREAU = "bureau", _("Human-resources bureau")
        EMPLOYER = "employer", _("Employer")
        HEALTH_AUTHORITY = "health_authority", _("Health authority")
        TRANSPORT_OPERATOR = "transport_operator", _("Transport operator")
        PLATFORM = "platform", _("Platform")

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    level = models.CharField(
        _("administrative level"), max_length=10, choices=Level.choices, default=Level.PROVINCE
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("province")
    )
    city = models.CharField(_("city"), max_length=64, blank=True)
    county = models.CharField(_("county or district"), max_length=64, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
        help_text=_("18 characters; required for employers."),
    )
    contact_phone = models.CharField(_("office phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["province_id", "name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="organization_credit_code_unique",
            ),
            models.CheckConstraint(
                condition=~Q(kind="employer") | ~Q(credit_code=""),
                name="employer_has_credit_code",
                violation_error_code="credit_code_required",
                violation_error_message=_("An employer needs its unified social credit code."),
            ),
            models.UniqueConstraint(
                fields=["kind", "province", "name"], name="organization_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person (or a province's machine account) acting for one organisation."""

    class Role(models.TextChoices):
        HR_OFFICER = "hr_officer", _("HR officer")
        BUREAU_OFFICER = "bureau_officer", _("Bureau officer")
        HEALTH_OFFICER = "health_officer", _("Health officer")
        API_CLIENT = "api_client", _("API client")
        PLATFORM_ADMIN = "platform_admin", _("Platform administrator")

    # Which organisation kind each role acts for.
    ROLE_ORGANIZATION_KIND = {
        Role.HR_OFFICER: Organization.Kind.EMPLOYER,
        Role.BUREAU_OFFICER: Organization.Kind.BUREAU,
        Role.HEALTH_OFFICER: Organization.Kind.HEALTH_AUTHORITY,
        Role.API_CLIENT: Organization.Kind.BUREAU,
        Role.PLATFORM_ADMIN: Organization.Kind.PLATFORM,
    }

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(role="platform_admin") | Q(organization__isnull=False),
                name="user_role_needs_organization",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def province(self) -> Province | None:
        return self.organization.province if self.organization_id else None


class CooperationAgreement(models.Model):
    """A labor-cooperation agreement: the exporting province sends workers to the importing one.

    Only provinces with an active agreement exchange postings, whitelists and matches.
    City- or county-level agreements name the cities; they still bind the two provinces.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    title = models.CharField(_("title"), max_length=200)
    importing_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="import_agreements",
        verbose_name=_("importing province"),
    )
    exporting_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="export_agreements",
        verbose_name=_("exporting province"),
    )
    importing_city = models.CharField(_("importing city"), max_length=64, blank=True)
    exporting_city = models.CharField(_("exporting city"), max_length=64, blank=True)
    signed_on = models.DateField(_("signed on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    yearly_quota = models.PositiveIntegerField(_("yearly quota (workers)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["importing_province_id", "exporting_province_id", "-valid_from"]
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(importing_province=models.F("exporting_province")),
                name="agreement_two_different_provinces",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="agreement_valid_until_after_valid_from",
            ),
            models.UniqueConstraint(
                fields=[
                    "importing_province",
                    "exporting_province",
                    "importing_city",
                    "exporting_city",
                    "valid_from",
                ],
                name="agreement_unique_per_pair_and_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["importing_province", "exporting_province", "status"],
                name="agreement_pair_status",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def is_in_force_on(self, day: date) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class SmsMessage(models.Model):
    """The SMS outbox: every text the platform sends, whatever the gateway.

    The phone number and the text (which may carry a personal link) are stored encrypted;
    the default backend only records the message here and in the log (masked)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    purpose = models.CharField(_("purpose"), max_length=40)
    phone_encrypted = models.TextField(editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16)
    text_encrypted = models.TextField(editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    backend = models.CharField(_("backend"), max_length=100)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")

    def __str__(self) -> str:
        return f"{self.purpose} → {self.phone_masked}"


class AuditEvent(models.Model):
    """An audited event that is not a row change: a read of personal data (a reveal of a full
    number, an export, a certificate verification) or a refused access. Row changes (who
    changed which posting, applicant, certificate … from what to what) are written by the
    database's own triggers into the history tables (django-pghistory); the audit page shows
    both. Nothing personal is stored here: objects by type and id, details without numbers."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Reveal of personal data")
        EXPORT = "export", _("Export")
        VERIFICATION = "verification", _("Certificate verification")
        ACCESS_DENIED = "access_denied", _("Access refused")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        "User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("user"),
    )
    # The actor's province at the time (and the object's, when it differs): who may read it.
    provinces = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
            GinIndex(fields=["provinces"], name="audit_provinces_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}#{self.object_id}"


class OutboxTask(models.Model):
    """Deferred work, written in the same transaction as the change that calls for it.

    The row is the request: it is sent to the task queue after the commit and, should the
    broker be down or lose the message, sent again by the reconciler until the task marks
    it done (`laborlink.outbox`). Arguments are ids only, never personal data."""

    task = models.CharField(_("task"), max_length=100)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("sends"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("deferred task")
        verbose_name_plural = _("deferred tasks")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(done_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


class Notification(models.Model):
    """A notice to an organisation, shown on its members' home page.

    One per organisation and event (the unique constraint makes a repeated delivery of the
    task that writes it harmless)."""

    class Kind(models.TextChoices):
        POSTING_PUBLISHED = "posting_published", _("New job posting")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # What the notice says, as it was when it was written (no personal data).
    params = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "object_id"], name="notification_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="notification_org_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.object_id}"
