"""Every write of the recruitment app: postings, applicants, reveals, whitelist decisions.

Services take the acting user, check permission and rules, and raise `DomainError`s with
translated messages. Views, serializers and tasks hold no business rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink import audit, personal_data
from laborlink.access import province_code_of, require_role
from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.history import attribute_services_to_actor
from laborlink.models import AuditEvent, Organization, Province, User
from laborlink.outbox import outbox_enqueue
from laborlink.selectors import cooperating_exporting_provinces, provinces_cooperate
from recruitment.models import Applicant, JobPosting, PersonalDataReveal, WhitelistDecision
from recruitment.models import WhitelistEntry as Entry
from recruitment.occupations import OCCUPATION_CODES
from recruitment.registry import ApplicantData, FieldError, clean_applicant
from recruitment.selectors import registry_scope

Role = User.Role

NATIONAL_ID_CONTEXT = "applicant.national_id"
PHONE_CONTEXT = "applicant.phone"
NATIONAL_ID_INDEX = "national_id"
PHONE_INDEX = "phone"
MAX_WHITELIST_DAYS = 366
MAX_POSTING_POSITIONS = 100_000
MAX_WAGE = 100_000


# --- Job postings ---------------------------------------------------------------------------

POSTING_FIELDS = (
    "title",
    "description",
    "occupation",
    "positions",
    "wage_min",
    "wage_max",
    "city",
    "county",
    "workplace",
    "start_date",
    "deadline",
    "urgency",
    "caring_job",
    "housing_provided",
    "housing_subsidy",
    "transport_subsidy",
    "age_min",
    "age_max",
    "contact_name",
    "contact_phone",
)


def _require_employer_officer(actor: User) -> Organization:
    require_role(actor, [Role.HR_OFFICER])
    org = actor.organization
    if org.kind != Organization.Kind.EMPLOYER:
        raise Forbidden(_("Only an employer's HR officer can manage job postings."))
    return org


def _check_posting_values(values: dict[str, Any], *, positions_filled: int = 0) -> None:
    """Rules on a posting's own fields; raise the first broken one against its field."""
    if not str(values.get("title") or "").strip():
        raise DomainError(_("Enter a title."), field="title")
    if values.get("occupation") not in OCCUPATION_CODES:
        raise DomainError(_("Choose an occupation from the list."), field="occupation")
    if not str(values.get("city") or "").strip():
        raise DomainError(_("Enter the city of the workplace."), field="city")
    positions = values.get("positions")
    if not isinstance(positions, int) or not 1 <= positions <= MAX_POSTING_POSITIONS:
        raise DomainError(
            _("Positions must be a whole number from 1 to %(max)d.")
            % {"max": MAX_POSTING_POSITIONS},
            field="positions",
        )
    if positions < positions_filled:
        raise DomainError(
            _("%(filled)d positions are already filled; positions cannot be fewer.")
            % {"filled": positions_filled},
            field="positions",
        )
    wage_min, wage_max = values.get("wage_min"), values.get("wage_max")
    if not isinstance(wage_min, int) or not 0 < wage_min <= MAX_WAGE:
        raise DomainError(
            _("The minimum wage must be from 1 to %(max)d yuan a month.") % {"max": MAX_WAGE},
            field="wage_min",
        )
    if not isinstance(wage_max, int) or not wage_min <= wage_max <= MAX_WAGE:
        raise DomainError(
            _("The maximum wage must be at least the minimum wage and at most %(max)d yuan.")
            % {"max": MAX_WAGE},
            field="wage_max",
        )
    start, deadline = values.get("start_date"), values.get("deadline")
    if not isinstance(start, date):
        raise DomainError(_("Enter the start date."), field="start_date")
    if not isinstance(deadline, date):
        raise DomainError(_("Enter the application deadline."), field="deadline")
    if deadline > start:
        raise DomainError(
            _("The application deadline cannot be after the start date."), field="deadline"
        )
    age_min, age_max = values.get("age_min", 18), values.get("age_max", 55)
    if not 16 <= age_min <= age_max <= 70:
        raise DomainError(
            _("The age range must lie between 16 and 70, the minimum not above the maximum."),
            field="age_min",
        )
    for subsidy in ("housing_subsidy", "transport_subsidy"):
        value = values.get(subsidy, 0)
        if not isinstance(value, int) or not 0 <= value <= MAX_WAGE:
            raise DomainError(
                _("Enter an amount from 0 to %(max)d.") % {"max": MAX_WAGE}, field=subsidy
            )


def _resolve_targets(
    employer: Organization, targets: Iterable[Province | str] | None, *, on: date
) -> list[str]:
    """Target provinces: given, or by default every province cooperating with the employer's.
    A province without an agreement in force is refused by name."""
    cooperating = set(
        cooperating_exporting_provinces(importing=employer.province_id, on=on).values_list(
            "code", flat=True
        )
    )
    if targets is None:
        return sorted(cooperating)
    codes = sorted({t.code if isinstance(t, Province) else str(t) for t in targets})
    outside = [code for code in codes if code not in cooperating]
    if outside:
        names = "、".join(
            Province.objects.filter(code__in=outside)
            .order_by("code")
            .values_list("name_zh", flat=True)
        ) or ", ".join(outside)
        raise DomainError(
            _("%(provinces)s: no cooperation agreement with your province is in force.")
            % {"provinces": names},
            code="no_agreement",
            field="target_provinces",
        )
    return codes


def _get_own_posting_for_update(actor: User, posting: JobPosting | int) -> JobPosting:
    employer = _require_employer_officer(actor)
    pk = posting.pk if isinstance(posting, JobPosting) else posting
    locked = JobPosting.objects.select_for_update().filter(pk=pk, employer=employer).first()
    if locked is None:
        raise NotFound()
    return locked


@transaction.atomic
def posting_create(
    *, actor: User, target_provinces: Iterable[Province | str] | None = None, **values: Any
) -> JobPosting:
    """Save a draft posting. Targets default to every cooperating exporting province."""
    employer = _require_employer_officer(actor)
    unknown = set(values) - set(POSTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown posting fields: {sorted(unknown)}")
    values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    _check_posting_values(values)
    targets = _resolve_targets(employer, target_provinces, on=timezone.localdate())
    if target_provinces is not None and not targets:
        raise DomainError(_("Choose at least one exporting province."), field="target_provinces")
    posting = JobPosting.objects.create(
        employer=employer, province_id=employer.province_id, created_by=actor, **values
    )
    posting.target_provinces.set(targets)
    return posting


@transaction.atomic
def posting_update(
    *,
    actor: User,
    posting: JobPosting | int,
    target_provinces: Iterable[Province | str] | None = None,
    **changes: Any,
) -> JobPosting:
    """Edit a posting that is not closed or filled; positions never below those filled."""
    locked = _get_own_posting_for_update(actor, posting)
    if locked.status in {JobPosting.Status.CLOSED, JobPosting.Status.FILLED}:
        raise Conflict(_("A closed or filled posting cannot be edited."), code="closed")
    unknown = set(changes) - set(POSTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown posting fields: {sorted(unknown)}")
    values = {name: getattr(locked, name) for name in POSTING_FIELDS}
    values.update({k: v.strip() if isinstance(v, str) else v for k, v in changes.items()})
    _check_posting_values(values, positions_filled=locked.positions_filled)
    if locked.status == JobPosting.Status.OPEN and values["deadline"] < timezone.localdate():
        raise DomainError(_("An open posting's deadline cannot be in the past."), field="deadline")
    for name in changes:
        setattr(locked, name, values[name])
    locked.save(update_fields=[*changes, "updated_at"])
    if target_provinces is not None:
        codes = _resolve_targets(locked.employer, target_provinces, on=timezone.localdate())
        if not codes:
            raise DomainError(
                _("Choose at least one exporting province."), field="target_provinces"
            )
        locked.target_provinces.set(codes)
    return locked


@transaction.atomic
def posting_publish(*, actor: User, posting: JobPosting | int) -> JobPosting:
    """Draft or paused → open. Every target must still cooperate with the employer's province."""
    locked = _get_own_posting_for_update(actor, posting)
    if locked.status not in {JobPosting.Status.DRAFT, JobPosting.Status.PAUSED}:
        raise Conflict(_("Only a draft or paused posting can be published."), code="status")
    today = timezone.localdate()
    if locked.deadline < today:
        raise DomainError(
            _("The application deadline has passed; change it before publishing."),
            field="deadline",
        )
    targets = list(locked.target_provinces.values_list("code", flat=True))
    if not targets:
        raise DomainError(
            _("Choose at least one exporting province with an agreement in force."),
            field="target_provinces",
        )
    _resolve_targets(locked.employer, targets, on=today)
    first_publication = locked.published_at is None
    locked.status = JobPosting.Status.OPEN
    locked.published_at = locked.published_at or timezone.now()
    locked.save(update_fields=["status", "published_at", "updated_at"])
    if first_publication:
        # The target provinces' bureaus hear of it in the background, committed with it.
        outbox_enqueue(task="recruitment.notify_posting_published", args=[locked.pk])
    return locked


@transaction.atomic
def posting_pause(*, actor: User, posting: JobPosting | int) -> JobPosting:
    locked = _get_own_posting_for_update(actor, posting)
    if locked.status != JobPosting.Status.OPEN:
        raise Conflict(_("Only an open posting can be paused."), code="status")
    locked.status = JobPosting.Status.PAUSED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def posting_close(*, actor: User, posting: JobPosting | int) -> JobPosting:
    locked = _get_own_posting_for_update(actor, posting)
    if locked.status in {JobPosting.Status.CLOSED, JobPosting.Status.FILLED}:
        raise Conflict(_("This posting is already closed."), code="status")
    locked.status = JobPosting.Status.CLOSED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    return locked


# --- Applicants -----------------------------------------------------------------------------


def require_registry_officer(actor: User) -> Organization:
    """The exporting bureau an officer registers applicants for."""
    require_role(actor, [Role.BUREAU_OFFICER])
    org = actor.organization
    if org.kind != Organization.Kind.BUREAU:
        raise Forbidden(_("Only a human-resources bureau registers applicants."))
    return org


def applicant_index(number: str) -> str:
    return personal_data.blind_index(number, purpose=NATIONAL_ID_INDEX)


def phone_index(phone: str) -> str:
    return personal_data.blind_index(phone, purpose=PHONE_INDEX)


def describe_existing_registration(national_id_hash: str) -> dict[str, str] | None:
    """Where an existing registration is: the bureau and its province, nothing more."""
    row = (
        Applicant.objects.filter(national_id_hash=national_id_hash)
        .values("registering_bureau__name", "registering_bureau__province__name_zh")
        .first()
    )
    if row is None:
        return None
    return {
        "bureau": row["registering_bureau__name"],
        "province": row["registering_bureau__province__name_zh"],
    }


class ApplicantInvalid(DomainError):
    """Registration data failed one or more checks; `errors` holds all of them."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        first = errors[0]
        details: dict[str, list[str]] = {}
        for error in errors:
            details.setdefault(error.field, []).append(error.message)
        super().__init__(first.message, code="invalid", field=first.field, details=details)
        self.errors = list(errors)


def _applicant_row_values(data: ApplicantData) -> dict[str, Any]:
    number, phone = data.national_id.number, data.phone
    now = timezone.now()
    return {
        "home_province_id": data.national_id.province_code,
        "national_id_encrypted": personal_data.encrypt(number, context=NATIONAL_ID_CONTEXT),
        "national_id_hash": applicant_index(number),
        "national_id_masked": personal_data.mask_national_id(number),
        "region_code": data.national_id.region_code,
        "region_known": data.national_id.region_known,
        "name": data.name,
        "sex": data.national_id.sex,
        "birth_date": data.national_id.birth_date,
        "phone_encrypted": personal_data.encrypt(phone, context=PHONE_CONTEXT),
        "phone_hash": phone_index(phone),
        "phone_masked": personal_data.mask_phone(phone),
        "skills": data.skills,
        "preferred_provinces": data.preferred_provinces,
        "minimum_wage": data.minimum_wage,
        "available_from": data.available_from,
        "key_groups": data.key_groups,
        "consent_cross_province": data.consent,
        "consent_recorded_at": now if data.consent else None,
        "notes": data.notes,
        "created_at": now,
        "updated_at": now,
    }


@transaction.atomic
def applicant_register(*, actor: User, **raw: Any) -> Applicant:
    """Register one applicant of the officer's province. All checks are made and reported
    together; a person already registered anywhere is refused with where the record is."""
    bureau = require_registry_officer(actor)
    data, errors = clean_applicant(
        raw, bureau_province=bureau.province_id, today=timezone.localdate()
    )
    if errors:
        raise ApplicantInvalid(errors)
    assert data is not None
    values = _applicant_row_values(data)
    existing = describe_existing_registration(values["national_id_hash"])
    if existing:
        raise _already_registered(existing)
    try:
        with transaction.atomic():
            return Applicant.objects.create(
                registering_bureau=bureau, registered_by=actor, **values
            )
    except IntegrityError as exc:  # registered concurrently by someone else
        existing = describe_existing_registration(values["national_id_hash"])
        if existing:
            raise _already_registered(existing) from exc
        raise


def _already_registered(existing: dict[str, str]) -> Conflict:
    error = FieldError("national_id", "national_id.registered_elsewhere", existing)
    return Conflict(error.message, code="duplicate", field="national_id")


APPLICANT_EDITABLE = (
    "name",
    "phone",
    "skills",
    "preferred_provinces",
    "minimum_wage",
    "available_from",
    "key_groups",
    "consent",
    "notes",
)


def _get_managed_applicant(actor: User, applicant: Applicant | int, *, lock: bool) -> Applicant:
    bureau = require_registry_officer(actor)
    pk = applicant.pk if isinstance(applicant, Applicant) else applicant
    qs = Applicant.objects.filter(registry_scope(bureau), pk=pk)
    if lock:
        qs = qs.select_for_update()
    found = qs.first()
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def applicant_update(*, actor: User, applicant: Applicant | int, **changes: Any) -> Applicant:
    """Correct a registration. The ID number cannot change (register the person anew).
    Withdrawing consent revokes every approval with that reason."""
    unknown = set(changes) - set(APPLICANT_EDITABLE)
    if unknown:
        raise TypeError(f"unknown applicant fields: {sorted(unknown)}")
    locked = _get_managed_applicant(actor, applicant, lock=True)
    current = {
        "name": locked.name,
        "national_id": personal_data.decrypt(
            locked.national_id_encrypted, context=NATIONAL_ID_CONTEXT
        ),
        "phone": personal_data.decrypt(locked.phone_encrypted, context=PHONE_CONTEXT),
        "skills": locked.skills,
        "preferred_provinces": locked.preferred_provinces,
        "minimum_wage": locked.minimum_wage,
        "available_from": locked.available_from,
        "key_groups": locked.key_groups,
        "consent": locked.consent_cross_province,
        "notes": locked.notes,
    }
    # The ID was valid when registered; its age and province rules are not re-applied.
    data, errors = clean_applicant(
        {**current, **changes},
        bureau_province=locked.home_province_id,
        today=timezone.localdate(locked.created_at),
    )
    if errors:
        raise ApplicantInvalid(errors)
    assert data is not None
    values = _applicant_row_values(data)
    updated = ["name", "skills", "preferred_provinces", "minimum_wage", "available_from"]
    updated += ["key_groups", "notes", "updated_at"]
    if data.phone != current["phone"]:
        updated += ["phone_encrypted", "phone_hash", "phone_masked"]
    consent_withdrawn = locked.consent_cross_province and not data.consent
    if data.consent != locked.consent_cross_province:
        updated += ["consent_cross_province", "consent_recorded_at"]
    for name in updated:
        if name == "consent_recorded_at":
            locked.consent_recorded_at = timezone.now() if data.consent else None
        else:
            setattr(locked, name, values[name])
    locked.save(update_fields=updated)
    if consent_withdrawn:
        entries = Entry.objects.filter(
            applicant=locked, status__in=[Entry.Status.APPROVED, Entry.Status.PENDING]
        ).order_by("pk")
        _revoke_entries(
            actor, list(entries.select_for_update()), reason=str(_("Consent withdrawn."))
        )
    return locked


@transaction.atomic
def applicant_reveal(*, actor: User, applicant: Applicant | int, field: str, reason: str) -> str:
    """Show one full ID number or phone to an officer of the registering bureau, with a stated
    reason; the reveal is recorded (who, when, which, why)."""
    found = _get_managed_applicant(actor, applicant, lock=False)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(
            _("State why you need the full number (at least 2 characters)."), field="reason"
        )
    if len(reason) > 300:
        raise DomainError(_("The reason is longer than 300 characters."), field="reason")
    if field not in PersonalDataReveal.Field.values:
        raise DomainError(_("Unknown field."), field="field")
    PersonalDataReveal.objects.create(applicant=found, field=field, actor=actor, reason=reason)
    audit.record(
        action=AuditEvent.Action.REVEAL,
        actor=actor,
        obj=found,
        province=found.home_province_id,
        detail={"field": field},
    )
    if field == PersonalDataReveal.Field.NATIONAL_ID:
        return personal_data.decrypt(found.national_id_encrypted, context=NATIONAL_ID_CONTEXT)
    return personal_data.decrypt(found.phone_encrypted, context=PHONE_CONTEXT)


# --- Whitelist review -----------------------------------------------------------------------


def reason_required(reason: str | None) -> str:
    """A stripped reason of at most 300 characters (refused, never cut, when longer)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("A reason is required."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("The reason is longer than 300 characters."), field="reason")
    return reason


def _province_code(province: Province | str) -> str:
    return province.code if isinstance(province, Province) else str(province)


def _managed_applicants_for_update(actor: User, ids: Iterable[int]) -> list[Applicant]:
    bureau = require_registry_officer(actor)
    wanted = sorted({int(pk) for pk in ids})
    if not wanted:
        raise DomainError(_("Choose at least one applicant."), field="applicants")
    found = list(
        Applicant.objects.select_for_update()
        .filter(registry_scope(bureau), pk__in=wanted)
        .order_by("pk")
    )
    if len(found) != len(wanted):
        raise NotFound()
    return found


def _entries_for(applicants: list[Applicant], province: str) -> dict[int, Entry]:
    """Existing entries for these applicants and province, created (pending) where missing,
    locked in primary-key order."""
    Entry.objects.bulk_create(
        [Entry(applicant=a, importing_province_id=province) for a in applicants],
        ignore_conflicts=True,
    )
    entries = (
        Entry.objects.select_for_update()
        .filter(applicant__in=applicants, importing_province_id=province)
        .order_by("pk")
    )
    return {entry.applicant_id: entry for entry in entries}


def _open_to_approval(entry: Entry, today: date) -> bool:
    """Pending, rejected or revoked entries, and approvals that lapsed, can be approved (anew)."""
    if entry.status == Entry.Status.APPROVED:
        return entry.expires_on is not None and entry.expires_on < today
    return True


def _pending_entries(
    applicants: list[Applicant], province: str, *, reapproval: bool = False
) -> list[Entry]:
    """The applicants' entries for the province, all open to this decision (else the whole
    request is refused, naming those already decided). A rejection needs a pending entry; an
    approval may also renew a lapsed, rejected or revoked one."""
    entries = _entries_for(applicants, province)
    today = timezone.localdate()
    decided = [
        e
        for e in entries.values()
        if not (_open_to_approval(e, today) if reapproval else e.status == Entry.Status.PENDING)
    ]
    if decided:
        by_id = {a.pk: a for a in applicants}
        raise Conflict(
            _("Already decided for this province: %(names)s.")
            % {"names": _names(by_id[e.applicant_id] for e in decided)},
            code="decided",
        )
    return list(entries.values())


def _record(entries: list[Entry], action: str, actor: User, reason: str = "", **extra) -> None:
    now = timezone.now()
    WhitelistDecision.objects.bulk_create(
        [
            WhitelistDecision(
                entry=entry, action=action, actor=actor, reason=reason, decided_at=now, **extra
            )
            for entry in entries
        ]
    )


def _names(applicants: Iterable[Applicant]) -> str:
    return "、".join(f"{a.name}（{a.national_id_masked}）" for a in applicants)


@transaction.atomic
def whitelist_approve(
    *,
    actor: User,
    applicants: Iterable[int],
    importing_province: Province | str,
    expires_on: date,
    reason: str = "",
) -> list[Entry]:
    """Approve applicants to travel to an importing province until `expires_on`.
    All or nothing: if one applicant may not be approved, none is, and the message names it."""
    province = _province_code(importing_province)
    found = _managed_applicants_for_update(actor, applicants)
    today = timezone.localdate()
    if not isinstance(expires_on, date) or expires_on <= today:
        raise DomainError(_("The approval must expire after today."), field="expires_on")
    if expires_on > today + timedelta(days=MAX_WHITELIST_DAYS):
        raise DomainError(
            _("An approval can last at most %(days)d days.") % {"days": MAX_WHITELIST_DAYS},
            field="expires_on",
        )
    without_consent = [a for a in found if not a.consent_cross_province]
    if without_consent:
        raise DomainError(
            _("No consent to cross-province sharing is recorded for: %(names)s.")
            % {"names": _names(without_consent)},
            code="no_consent",
        )
    home_provinces = {a.home_province_id for a in found}
    for home in sorted(home_provinces):
        if not provinces_cooperate(importing=province, exporting=home, on=today):
            raise DomainError(
                _("No cooperation agreement with this province is in force."),
                code="no_agreement",
                field="importing_province",
            )
    changed = _pending_entries(found, province, reapproval=True)
    now = timezone.now()
    for entry in changed:
        entry.status = Entry.Status.APPROVED
        entry.expires_on = expires_on
        entry.decided_by = actor
        entry.decided_at = now
        entry.reason = reason.strip()
        entry.countersign = Entry.Countersign.AWAITING
        entry.countersigned_by = None
        entry.countersigned_at = None
        entry.updated_at = now
    Entry.objects.bulk_update(
        changed,
        [
            "status",
            "expires_on",
            "decided_by",
            "decided_at",
            "reason",
            "countersign",
            "countersigned_by",
            "countersigned_at",
            "updated_at",
        ],
    )
    _record(changed, WhitelistDecision.Action.APPROVE, actor, reason.strip(), expires_on=expires_on)
    return changed


@transaction.atomic
def whitelist_reject(
    *, actor: User, applicants: Iterable[int], importing_province: Province | str, reason: str
) -> list[Entry]:
    """Refuse applicants for an importing province, with a reason (all or nothing)."""
    reason = reason_required(reason)
    province = _province_code(importing_province)
    found = _managed_applicants_for_update(actor, applicants)
    changed = _pending_entries(found, province)
    now = timezone.now()
    for entry in changed:
        entry.status = Entry.Status.REJECTED
        entry.decided_by = actor
        entry.decided_at = now
        entry.reason = reason
        entry.countersign = Entry.Countersign.AWAITING
        entry.updated_at = now
    Entry.objects.bulk_update(
        changed, ["status", "decided_by", "decided_at", "reason", "countersign", "updated_at"]
    )
    _record(changed, WhitelistDecision.Action.REJECT, actor, reason)
    return changed


def _revoke_entries(actor: User, entries: list[Entry], *, reason: str) -> list[Entry]:
    now = timezone.now()
    for entry in entries:
        entry.status = Entry.Status.REVOKED
        entry.decided_by = actor
        entry.decided_at = now
        entry.reason = reason
        entry.countersign = Entry.Countersign.AWAITING
        entry.updated_at = now
    Entry.objects.bulk_update(
        entries, ["status", "decided_by", "decided_at", "reason", "countersign", "updated_at"]
    )
    _record(entries, WhitelistDecision.Action.REVOKE, actor, reason)
    return entries


@transaction.atomic
def whitelist_revoke(*, actor: User, entries: Iterable[int], reason: str) -> list[Entry]:
    """Withdraw approvals already given (reason required)."""
    reason = reason_required(reason)
    bureau = require_registry_officer(actor)
    wanted = sorted({int(pk) for pk in entries})
    locked = list(
        Entry.objects.select_for_update()
        .filter(pk__in=wanted)
        .filter(applicant__in=Applicant.objects.filter(registry_scope(bureau)).values("pk"))
        .order_by("pk")
    )
    if not wanted or len(locked) != len(wanted):
        raise NotFound()
    not_approved = [e for e in locked if e.status != Entry.Status.APPROVED]
    if not_approved:
        raise Conflict(_("Only an approved entry can be revoked."), code="status")
    return _revoke_entries(actor, locked, reason=reason)


def _importing_entries_for_update(actor: User, ids: Iterable[int]) -> list[Entry]:
    require_role(actor, [Role.BUREAU_OFFICER])
    if actor.organization.kind != Organization.Kind.BUREAU:
        raise Forbidden()
    wanted = sorted({int(pk) for pk in ids})
    locked = list(
        Entry.objects.select_for_update()
        .filter(pk__in=wanted, importing_province_id=province_code_of(actor))
        .filter(status=Entry.Status.APPROVED)
        .order_by("pk")
    )
    if not wanted or len(locked) != len(wanted):
        raise NotFound()
    return locked


@transaction.atomic
def whitelist_countersign(*, actor: User, entries: Iterable[int]) -> list[Entry]:
    """The importing bureau countersigns approvals shared with it."""
    locked = _importing_entries_for_update(actor, entries)
    today = timezone.localdate()
    if any(e.expires_on is None or e.expires_on < today for e in locked):
        raise Conflict(_("An expired approval cannot be countersigned."), code="expired")
    if any(e.countersign != Entry.Countersign.AWAITING for e in locked):
        raise Conflict(
            _("Only an entry awaiting countersignature can be countersigned."), code="status"
        )
    now = timezone.now()
    for entry in locked:
        entry.countersign = Entry.Countersign.COUNTERSIGNED
        entry.countersigned_by = actor
        entry.countersigned_at = now
        entry.countersign_reason = ""
        entry.updated_at = now
    Entry.objects.bulk_update(
        locked,
        ["countersign", "countersigned_by", "countersigned_at", "countersign_reason", "updated_at"],
    )
    _record(locked, WhitelistDecision.Action.COUNTERSIGN, actor)
    return locked


@transaction.atomic
def whitelist_return(*, actor: User, entries: Iterable[int], reason: str) -> list[Entry]:
    """The importing bureau sends approvals back to the exporting bureau for correction."""
    reason = reason_required(reason)
    locked = _importing_entries_for_update(actor, entries)
    if any(e.countersign == Entry.Countersign.RETURNED for e in locked):
        raise Conflict(_("This entry has already been returned."), code="status")
    now = timezone.now()
    for entry in locked:
        entry.status = Entry.Status.PENDING
        entry.countersign = Entry.Countersign.RETURNED
        entry.countersigned_by = actor
        entry.countersigned_at = now
        entry.countersign_reason = reason
        entry.updated_at = now
    Entry.objects.bulk_update(
        locked,
        [
            "status",
            "countersign",
            "countersigned_by",
            "countersigned_at",
            "countersign_reason",
            "updated_at",
        ],
    )
    _record(locked, WhitelistDecision.Action.RETURN, actor, reason)
    return locked


attribute_services_to_actor(globals())
