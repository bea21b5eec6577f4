"""Job postings, the applicant registry and its imports, whitelist review, placements.

Rules that must hold whatever code path writes (filled ≤ positions, one registration per
person, one whitelist entry per applicant and importing province, one active placement per
applicant) are database constraints; services check them first to give a clear message.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink.history import audited
from laborlink.models import Organization, Province
from recruitment.occupations import Occupation


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class KeyGroup(models.TextChoices):
    """Groups whose placement the agreements give priority to."""

    LIFTED_OUT_OF_POVERTY = "lifted_out_of_poverty", _("Lifted out of poverty")
    RELOCATED = "relocated", _("Relocated for poverty alleviation")
    DISABLED = "disabled", _("Person with a disability")
    VETERAN = "veteran", _("Veteran")
    UNEMPLOYED_40_PLUS = "unemployed_40_plus", _("Unemployed, aged 40 or more")
    GRADUATE = "graduate", _("Recent graduate")


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


@audited("JobPostingHistory")
class JobPosting(models.Model):
    """An employer's call for workers, published into cooperating exporting provinces."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAUSED = "paused", _("Paused")
        FILLED = "filled", _("Filled")
        CLOSED = "closed", _("Closed")

    employer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("employer"),
    )
    # The employer's province, kept on the row so that bureaus filter by an index.
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="postings", verbose_name=_("province")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    occupation = models.CharField(_("occupation"), max_length=40, choices=Occupation.choices)
    positions = models.PositiveIntegerField(_("positions"))
    positions_filled = models.PositiveIntegerField(_("positions filled"), default=0)
    wage_min = models.PositiveIntegerField(_("minimum wage (CNY/month)"))
    wage_max = models.PositiveIntegerField(_("maximum wage (CNY/month)"))
    city = models.CharField(_("city"), max_length=64)
    county = models.CharField(_("county or district"), max_length=64, blank=True)
    workplace = models.CharField(_("workplace address"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"))
    deadline = models.DateField(_("application deadline"))
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    caring_job = models.BooleanField(
        _("caring job"),
        default=False,
        help_text=_("Reserved for people in need (key groups) as the agreements ask."),
    )
    housing_provided = models.BooleanField(_("housing provided"), default=False)
    housing_subsidy = models.PositiveIntegerField(_("housing subsidy (CNY/month)"), default=0)
    transport_subsidy = models.PositiveIntegerField(_("travel subsidy (CNY)"), default=0)
    age_min = models.PositiveSmallIntegerField(_("minimum age"), default=18)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), default=55)
    target_provinces = models.ManyToManyField(
        Province,
        related_name="targeted_postings",
        verbose_name=_("target exporting provinces"),
        blank=True,
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("job posting")
        verbose_name_plural = _("job postings")
        constraints = [
            models.CheckConstraint(
                condition=Q(positions__gte=1), name="posting_positions_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(positions_filled__lte=F("positions")),
                name="posting_filled_within_positions",
                violation_error_message=_("Positions filled cannot exceed positions."),
            ),
            models.CheckConstraint(
                condition=Q(wage_min__gt=0) & Q(wage_min__lte=F("wage_max")),
                name="posting_wage_range",
                violation_error_message=_(
                    "The minimum wage must be positive and not above the maximum."
                ),
            ),
            models.CheckConstraint(
                condition=Q(age_min__gte=16) & Q(age_min__lte=F("age_max")),
                name="posting_age_range",
            ),
            models.CheckConstraint(
                condition=Q(deadline__lte=F("start_date")), name="posting_deadline_before_start"
            ),
        ]
        indexes = [
            models.Index(fields=["province", "status"], name="posting_province_status"),
            models.Index(fields=["employer", "status"], name="posting_employer_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def positions_remaining(self) -> int:
        return self.positions - self.positions_filled

    @property
    def fill_percent(self) -> int:
        return round(100 * self.positions_filled / self.positions) if self.positions else 0

    def is_expired_on(self, day: date) -> bool:
        """An open or paused posting whose deadline has passed takes no more applicants."""
        return self.status in {self.Status.OPEN, self.Status.PAUSED} and self.deadline < day

    @property
    def is_expired(self) -> bool:
        return self.is_expired_on(timezone.localdate())

    @property
    def display_status(self) -> str:
        """Status as shown to people: an open posting past its deadline shows as expired."""
        if self.is_expired:
            return str(_("Expired"))
        return self.get_status_display()


class ImportBatch(models.Model):
    """One uploaded registry file: its checks, its progress and its per-row error report."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        CHECKED = "checked", _("Checked (dry run)")
        INVALID = "invalid", _("Has errors")
        QUEUED = "queued", _("Queued")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    bureau = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="import_batches"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    file_size = models.PositiveIntegerField(_("file size (bytes)"))
    file_sha256 = models.CharField(max_length=64)
    # The upload itself, so that a worker on another machine can read it; cleared when done.
    content = models.BinaryField(editable=False, null=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    created_count = models.PositiveIntegerField(_("applicants added"), default=0)
    unchanged_count = models.PositiveIntegerField(_("already registered"), default=0)
    # [{"row": 7, "field": "national_id", "key": "national_id.checksum", "params": {…}}, …]
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return self.file_name


@audited("ApplicantHistory")
class Applicant(models.Model):
    """A person registered by an exporting bureau. ID number and phone are encrypted at rest;
    `*_hash` are keyed hashes for uniqueness and look-up; `*_masked` are what screens show."""

    registering_bureau = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="applicants",
        verbose_name=_("registering bureau"),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    home_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="applicants",
        verbose_name=_("home province"),
    )
    national_id_encrypted = models.TextField(editable=False)
    national_id_hash = models.CharField(max_length=64, editable=False)
    national_id_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    region_code = models.CharField(_("region code"), max_length=6)
    region_known = models.BooleanField(
        _("region code known"),
        default=True,
        help_text=_("False when the county code is not in the code table: review by hand."),
    )
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone_encrypted = models.TextField(editable=False)
    phone_hash = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, editable=False)
    skills = ArrayField(
        models.CharField(max_length=40, choices=Occupation.choices),
        default=list,
        blank=True,
        verbose_name=_("skills"),
    )
    preferred_provinces = ArrayField(
        models.CharField(max_length=2),
        default=list,
        blank=True,
        verbose_name=_("preferred provinces"),
    )
    minimum_wage = models.PositiveIntegerField(_("minimum wage (CNY/month)"), default=0)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    key_groups = ArrayField(
        models.CharField(max_length=30, choices=KeyGroup.choices),
        default=list,
        blank=True,
        verbose_name=_("key groups"),
    )
    consent_cross_province = models.BooleanField(
        _("consents to cross-province sharing"), default=False
    )
    consent_recorded_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applicants",
        verbose_name=_("import batch"),
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [
            models.UniqueConstraint(
                fields=["national_id_hash"],
                name="applicant_one_registration_per_person",
                violation_error_message=_("This person is already registered."),
            ),
            models.CheckConstraint(
                condition=Q(region_code__startswith=F("home_province_id")),
                name="applicant_home_province_matches_id",
            ),
            models.CheckConstraint(
                condition=Q(consent_cross_province=False) | Q(consent_recorded_at__isnull=False),
                name="applicant_consent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["registering_bureau", "-created_at"], name="applicant_bureau"),
            models.Index(fields=["home_province"], name="applicant_home_province"),
            models.Index(fields=["phone_hash"], name="applicant_phone_hash"),
            # the review queue's "N more have not consented" without scanning the registry
            models.Index(
                fields=["registering_bureau"],
                condition=Q(consent_cross_province=False),
                name="applicant_without_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.national_id_masked})"

    @property
    def key_group_labels(self) -> list[str]:
        return [str(KeyGroup(code).label) for code in self.key_groups if code in KeyGroup.values]

    @property
    def age(self) -> int:
        """Age today in Asia/Shanghai. Screens and the API show the age, never the birth date:
        with the masked ID's first and last four characters it would give the number away."""
        return self.age_on(timezone.localdate())

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class PersonalDataReveal(models.Model):
    """An audited look at one full ID number or phone: who, when, which, why."""

    class Field(models.TextChoices):
        NATIONAL_ID = "national_id", _("ID number")
        PHONE = "phone", _("phone")

    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="reveals")
    field = models.CharField(_("field"), max_length=12, choices=Field.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    reason = models.CharField(_("reason"), max_length=300)
    revealed_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-revealed_at", "-id"]
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")

    def __str__(self) -> str:
        return f"{self.actor_id} {self.field} {self.applicant_id}"


@audited("WhitelistEntryHistory")
class WhitelistEntry(models.Model):
    """May this applicant travel to this importing province? Decided by the exporting bureau
    (approve / reject / revoke) and countersigned by the importing one. Only an approved,
    countersigned entry that has not expired makes the applicant eligible there."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    class Countersign(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting countersignature")
        COUNTERSIGNED = "countersigned", _("Countersigned")
        RETURNED = "returned", _("Returned for correction")

    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="whitelist_entries"
    )
    importing_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="whitelist_entries",
        verbose_name=_("importing province"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    expires_on = models.DateField(_("approval expires on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    countersign = models.CharField(
        _("countersignature"),
        max_length=14,
        choices=Countersign.choices,
        default=Countersign.AWAITING,
    )
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("countersigned by"),
    )
    countersigned_at = models.DateTimeField(_("countersigned at"), null=True, blank=True)
    countersign_reason = models.CharField(_("reason for return"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("whitelist entry")
        verbose_name_plural = _("whitelist entries")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "importing_province"], name="whitelist_one_per_province"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(expires_on__isnull=False),
                name="whitelist_approval_expires",
            ),
            models.CheckConstraint(
                condition=Q(status="approved") | ~Q(countersign="countersigned"),
                name="whitelist_countersign_only_approved",
            ),
        ]
        indexes = [
            models.Index(fields=["importing_province", "status", "countersign"], name="wl_queue"),
            # entries by status, newest first (the pending ones are a few among a million)
            models.Index(fields=["status", "-updated_at", "-id"], name="wl_status_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} → {self.importing_province_id}"

    def is_effective_on(self, day: date) -> bool:
        return (
            self.status == self.Status.APPROVED
            and self.countersign == self.Countersign.COUNTERSIGNED
            and self.expires_on is not None
            and self.expires_on >= day
        )

    @property
    def display_status(self) -> str:
        if (
            self.status == self.Status.APPROVED
            and self.expires_on
            and (self.expires_on < timezone.localdate())
        ):
            return str(_("Expired"))
        return self.get_status_display()


class WhitelistDecision(models.Model):
    """The history of an entry: every decision with who, when and why."""

    class Action(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        REVOKE = "revoke", _("Revoked")
        COUNTERSIGN = "countersign", _("Countersigned")
        RETURN = "return", _("Returned for correction")

    entry = models.ForeignKey(WhitelistEntry, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(_("decision"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    decided_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("whitelist decision")
        verbose_name_plural = _("whitelist decisions")

    def __str__(self) -> str:
        return f"{self.entry_id} {self.action}"


@audited("PlacementHistory")
class Placement(models.Model):
    """An applicant on a posting, from a match or made directly, through to retention:
    offered → accepted → booked → departed → arrived → employed → left, or declined /
    no-show / withdrawn / expired; an arrival check that refers the worker to a doctor
    holds the position (referred), one that fails sends the worker home (returned).
    Every transition is recorded in `PlacementEvent` with its actor."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        BOOKED = "booked", _("Booked")
        DEPARTED = "departed", _("Departed")
        ARRIVED = "arrived", _("Arrived")
        REFERRED = "referred", _("Referred after arrival check")
        EMPLOYED = "employed", _("Employed")
        LEFT = "left", _("Left")
        DECLINED = "declined", _("Declined")
        NO_SHOW = "no_show", _("No-show")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")
        RETURNED = "returned", _("Returned home after arrival check")

    class LeftReason(models.TextChoices):
        CONTRACT_END = "contract_end", _("Contract ended")
        RESIGNED = "resigned", _("Resigned")
        DISMISSED = "dismissed", _("Dismissed")
        HEALTH = "health", _("Health")
        FAMILY = "family", _("Family reasons")
        ABSCONDED = "absconded", _("Stopped coming to work")
        OTHER = "other", _("Other")

    ACTIVE_STATUSES = (
        "offered",
        "accepted",
        "booked",
        "departed",
        "arrived",
        "referred",
        "employed",
    )
    # Statuses in which the employer may see the applicant's name and phone.
    ACCEPTED_STATUSES = (
        "accepted",
        "booked",
        "departed",
        "arrived",
        "referred",
        "employed",
        "left",
        "returned",
    )
    # Statuses that hold one of the posting's positions.
    HOLDING_POSITION_STATUSES = (
        "accepted",
        "booked",
        "departed",
        "arrived",
        "referred",
        "employed",
    )
    # Statuses that fill one of the posting's positions (counted in positions_filled).
    FILLED_STATUSES = ("arrived", "employed")
    # On post: arrived and passed the check, working.
    ON_POST_STATUSES = ("arrived", "employed")

    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="placements")
    posting = models.ForeignKey(JobPosting, on_delete=models.PROTECT, related_name="placements")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    employed_on = models.DateField(_("employed on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.CharField(
        _("reason for leaving"), max_length=16, choices=LeftReason.choices, blank=True
    )
    left_note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(
                    status__in=[
                        "offered",
                        "accepted",
                        "booked",
                        "departed",
                        "arrived",
                        "referred",
                        "employed",
                    ]
                ),
                name="placement_one_active_per_applicant",
            ),
            models.CheckConstraint(
                condition=~Q(status="left") | (Q(left_on__isnull=False) & ~Q(left_reason="")),
                name="placement_left_has_date_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["arrived", "employed", "left"])
                | Q(arrived_at__isnull=False),
                name="placement_arrived_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["posting", "status"], name="placement_posting_status"),
            models.Index(fields=["status", "arrived_at"], name="placement_status_arrived"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} → {self.posting_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class PlacementEvent(models.Model):
    """One transition of a placement: from, to, who, when, why."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(
        _("from"), max_length=10, choices=Placement.Status.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=10, choices=Placement.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("placement event")
        verbose_name_plural = _("placement events")
        indexes = [models.Index(fields=["placement", "at"], name="placement_event_at")]

    def __str__(self) -> str:
        return f"{self.placement_id}: {self.from_status} → {self.to_status}"


class Absence(models.Model):
    """A working day on which an employed worker did not come to work, as the employer
    reported it."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="absences")
    day = models.DateField(_("day"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)

    class Meta:
        ordering = ["day"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.UniqueConstraint(fields=["placement", "day"], name="absence_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.placement_id} absent {self.day}"


class Flag(models.Model):
    """Something a bureau must look at: an arrival not confirmed 24 hours after the trip
    arrived (importing bureau), a worker absent five consecutive working days (both)."""

    class Kind(models.TextChoices):
        ARRIVAL_UNCONFIRMED = "arrival_unconfirmed", _("Arrival not confirmed")
        ABSENT = "absent", _("Absent five working days")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="flags")
    importing_province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("importing province")
    )
    exporting_province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("exporting province")
    )
    detail = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="flag_one_open_per_kind",
            )
        ]
        indexes = [
            models.Index(fields=["importing_province", "-raised_at"], name="flag_importing"),
            models.Index(fields=["exporting_province", "-raised_at"], name="flag_exporting"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.placement_id}"
