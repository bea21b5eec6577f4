"""Every read of the recruitment app, scoped to the user as DESIGN.md's "Who may see what" says.

Pages and API endpoints that show the same thing call the same selector. An object outside
the user's scope is simply absent, so a detail view of it answers 404.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from laborlink.access import acting_organization, is_platform_admin, province_code_of
from laborlink.models import Organization, User
from laborlink.selectors import agreements_in_force
from recruitment.models import (
    Applicant,
    Flag,
    ImportBatch,
    JobPosting,
    PersonalDataReveal,
    Placement,
    WhitelistDecision,
    WhitelistEntry,
)

Role = User.Role
Kind = Organization.Kind


def _bureau_of(user: User) -> Organization | None:
    """The bureau a bureau officer or a province's API client acts for."""
    return acting_organization(user, [Role.BUREAU_OFFICER, Role.API_CLIENT], Kind.BUREAU)


def registry_scope(bureau: Organization, *, prefix: str = "") -> Q:
    """Applicants a bureau registered: a provincial bureau's scope is its whole province.
    `prefix` applies it through a relation (`"applicant__"` on matches)."""
    if bureau.level == Organization.Level.PROVINCE:
        return Q(**{f"{prefix}registering_bureau__province_id": bureau.province_id})
    return Q(**{f"{prefix}registering_bureau": bureau})


# --- Postings -------------------------------------------------------------------------------


def _open_filter(day: date) -> Q:
    return Q(status=JobPosting.Status.OPEN, deadline__gte=day)


def postings_visible_to(user: User) -> QuerySet[JobPosting]:
    """An employer's own postings; all postings of a bureau's province; open postings targeted
    at a bureau's province; everything for platform admins; nothing for anyone else."""
    qs = JobPosting.objects.select_related("employer", "province").prefetch_related(
        "target_provinces"
    )
    if is_platform_admin(user):
        return qs
    if not user.is_authenticated or user.organization_id is None:
        return qs.none()
    if user.role == Role.HR_OFFICER and user.organization.kind == Kind.EMPLOYER:
        return qs.filter(employer_id=user.organization_id)
    bureau = _bureau_of(user)
    if bureau is None:
        return qs.none()
    code = bureau.province_id
    today = timezone.localdate()
    targeted = JobPosting.target_provinces.through.objects.filter(
        jobposting_id=OuterRef("pk"), province_id=code
    )
    # Only provinces with an agreement in force exchange postings.
    cooperating = agreements_in_force(on=today).filter(
        importing_province_id=OuterRef("province_id"), exporting_province_id=code
    )
    return qs.filter(
        Q(province_id=code) | (_open_filter(today) & Exists(targeted) & Exists(cooperating))
    )


def postings_open(*, on: date | None = None, among: QuerySet[JobPosting] | None = None):
    """Open postings whose deadline has not passed and that have positions left."""
    qs = JobPosting.objects.all() if among is None else among
    return qs.filter(_open_filter(on or timezone.localdate())).filter(
        positions_filled__lt=F("positions")
    )


# --- Applicants -----------------------------------------------------------------------------


def applicants_visible_to(user: User) -> QuerySet[Applicant]:
    """Exporting bureau: the applicants it registered. Importing bureau: applicants approved
    for its province (including those it returned). Employer: applicants placed on its own
    postings. Health officer: applicants of its province. API client: as its bureau."""
    qs = Applicant.objects.select_related("home_province", "registering_bureau")
    if is_platform_admin(user):
        return qs
    if not user.is_authenticated or user.organization_id is None:
        return qs.none()
    org = user.organization
    if not org.is_active:
        return qs.none()
    if user.role == Role.HR_OFFICER and org.kind == Kind.EMPLOYER:
        placed = Placement.objects.filter(applicant_id=OuterRef("pk"), posting__employer=org)
        return qs.filter(Exists(placed))
    if user.role == Role.HEALTH_OFFICER and org.kind == Kind.HEALTH_AUTHORITY:
        return qs.filter(home_province_id=org.province_id)
    bureau = _bureau_of(user)
    if bureau is None:
        return qs.none()
    shared = WhitelistEntry.objects.filter(
        applicant_id=OuterRef("pk"), importing_province_id=bureau.province_id
    ).filter(
        Q(status=WhitelistEntry.Status.APPROVED)
        | Q(status=WhitelistEntry.Status.PENDING, countersign=WhitelistEntry.Countersign.RETURNED)
    )
    return qs.filter(registry_scope(bureau) | Exists(shared))


def applicants_registered_by(user: User) -> QuerySet[Applicant]:
    """The exporting side's own registry (what a bureau may edit, reveal and review)."""
    qs = Applicant.objects.select_related("home_province", "registering_bureau")
    bureau = _bureau_of(user)
    if bureau is None or user.role != Role.BUREAU_OFFICER:
        return qs.none()
    return qs.filter(registry_scope(bureau))


def with_contact_visibility(
    user: User, queryset: QuerySet, *, applicant_ref: str = "pk"
) -> QuerySet:
    """Annotate `contact_visible` for an employer: has one of its postings a placement of the
    applicant that was accepted? (`selectors.employer_may_see_contact` for a whole list, in
    the same query.) Other roles see the contact of every applicant they see."""
    if user.role != Role.HR_OFFICER:
        return queryset
    accepted = Placement.objects.filter(
        applicant_id=OuterRef(applicant_ref),
        posting__employer_id=user.organization_id,
        status__in=Placement.ACCEPTED_STATUSES,
    )
    return queryset.annotate(contact_visible=Exists(accepted))


def employer_may_see_contact(user: User, applicant: Applicant) -> bool:
    """An employer sees an applicant's name and phone only after the applicant accepted."""
    if user.role != Role.HR_OFFICER:
        return True
    return Placement.objects.filter(
        applicant=applicant,
        posting__employer_id=user.organization_id,
        status__in=Placement.ACCEPTED_STATUSES,
    ).exists()


def applicant_reveals(user: User, applicant: Applicant) -> QuerySet[PersonalDataReveal]:
    return (
        PersonalDataReveal.objects.filter(applicant=applicant)
        .filter(applicant__in=applicants_registered_by(user))
        .select_related("actor")
    )


# --- Whitelist ------------------------------------------------------------------------------


def whitelist_entries_visible_to(user: User) -> QuerySet[WhitelistEntry]:
    """Exporting side: entries of its applicants. Importing side: approved entries for its
    province and the ones it returned."""
    qs = WhitelistEntry.objects.select_related(
        "applicant",
        "applicant__home_province",
        "importing_province",
        "decided_by",
        "countersigned_by",
    )
    if is_platform_admin(user):
        return qs
    bureau = _bureau_of(user)
    if bureau is None:
        return qs.none()
    shared = Q(importing_province_id=bureau.province_id) & (
        Q(status=WhitelistEntry.Status.APPROVED)
        | Q(status=WhitelistEntry.Status.PENDING, countersign=WhitelistEntry.Countersign.RETURNED)
    )
    # A join on the applicant (selected anyway), not `applicant__in`: under OR, PostgreSQL
    # would hash every applicant of the province for each page.
    return qs.filter(registry_scope(bureau, prefix="applicant__") | shared)


def applicants_for_review(
    user: User, *, province: str, include_decided: bool = False
) -> QuerySet[Applicant]:
    """The exporting bureau's queue for one importing province: its applicants with no
    decision for that province yet, whose entry came back for correction, or whose approval
    lapsed; with `include_decided`, also those rejected or revoked (to decide anew)."""
    settled = Q(status=WhitelistEntry.Status.APPROVED, expires_on__gte=timezone.localdate())
    if not include_decided:
        settled |= Q(status__in=[WhitelistEntry.Status.REJECTED, WhitelistEntry.Status.REVOKED])
    decided = WhitelistEntry.objects.filter(
        settled, applicant_id=OuterRef("pk"), importing_province_id=province
    )
    bureau = _bureau_of(user)
    if bureau is None or user.role != Role.BUREAU_OFFICER:
        return Applicant.objects.none()
    # The registry scope (only bureaus register) as a list of bureau ids rather than a join on
    # their province: PostgreSQL then knows how many applicants that is (its statistics of
    # registering_bureau_id) and walks the (bureau, created_at) index for a page instead of
    # sorting the whole queue (700 ms → 3 ms for 250,000 applicants; benchmarks/load).
    if bureau.level == Organization.Level.PROVINCE:
        bureaus = list(
            Organization.objects.filter(
                province_id=bureau.province_id, kind=Kind.BUREAU
            ).values_list("pk", flat=True)
        )
    else:
        bureaus = [bureau.pk]
    return (
        Applicant.objects.select_related("home_province", "registering_bureau")
        .filter(registering_bureau_id__in=bureaus)
        .filter(~Exists(decided))
    )


def whitelist_for_countersign(user: User) -> QuerySet[WhitelistEntry]:
    """Approvals shared with the importing bureau that await its countersignature."""
    code = province_code_of(user)
    if _bureau_of(user) is None or code is None:
        return WhitelistEntry.objects.none()
    return whitelist_entries_visible_to(user).filter(
        importing_province_id=code,
        status=WhitelistEntry.Status.APPROVED,
        countersign=WhitelistEntry.Countersign.AWAITING,
        expires_on__gte=timezone.localdate(),
    )


def whitelist_effective(*, on: date | None = None) -> QuerySet[WhitelistEntry]:
    """Entries that make an applicant eligible in a province on `on`: approved, countersigned
    and not expired. Not scoped: for the matching engine, never for display."""
    day = on or timezone.localdate()
    return WhitelistEntry.objects.filter(
        status=WhitelistEntry.Status.APPROVED,
        countersign=WhitelistEntry.Countersign.COUNTERSIGNED,
        expires_on__gte=day,
    )


def whitelist_history(user: User, applicant: Applicant) -> QuerySet[WhitelistDecision]:
    """Every decision on an applicant's entries that the user may see."""
    return (
        WhitelistDecision.objects.filter(
            entry__in=whitelist_entries_visible_to(user).filter(applicant=applicant)
        )
        .select_related("actor", "entry__importing_province")
        .order_by("decided_at", "id")
    )


# --- Imports --------------------------------------------------------------------------------


def import_batches_visible_to(user: User) -> QuerySet[ImportBatch]:
    bureau = _bureau_of(user)
    if bureau is None or user.role != Role.BUREAU_OFFICER:
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(bureau=bureau).select_related("uploaded_by").defer("content")


def placements_on_posting(user: User, posting: JobPosting) -> QuerySet[Placement]:
    """Accepted (and later) placements on a posting the user may see, with applicants the
    user may see: the employer's candidates who said yes."""
    return (
        Placement.objects.filter(posting=posting, status__in=Placement.ACCEPTED_STATUSES)
        .filter(applicant__in=applicants_visible_to(user).values("pk"))
        .select_related("applicant", "applicant__home_province")
        .order_by("created_at", "id")
    )


def placements_of_employer(user: User) -> QuerySet[Placement]:
    """The placements on an HR officer's own postings once the worker said yes."""
    employer = acting_organization(user, [Role.HR_OFFICER], Kind.EMPLOYER)
    if employer is None:
        return Placement.objects.none()
    return (
        Placement.objects.filter(posting__employer=employer, status__in=Placement.ACCEPTED_STATUSES)
        .select_related("applicant", "applicant__home_province", "posting")
        .order_by("-updated_at", "-id")
    )


def flags_visible_to(user: User) -> QuerySet[Flag]:
    """Flags for a bureau: every flag on workers placed in its province, and the absence
    flags on workers from its province."""
    bureau = _bureau_of(user)
    if bureau is None:
        return Flag.objects.none()
    province = bureau.province_id
    return Flag.objects.filter(
        Q(importing_province_id=province) | Q(exporting_province_id=province, kind=Flag.Kind.ABSENT)
    ).select_related(
        "placement",
        "placement__applicant",
        "placement__posting",
        "placement__posting__employer",
        "importing_province",
        "exporting_province",
        "resolved_by",
    )
