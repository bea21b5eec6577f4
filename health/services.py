"""Every write of the health app: issuing keys, certificates, revocation, verification log."""

from __future__ import annotations

import base64
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from health import tokens
from health.models import ArrivalCheck, HealthCertificate, IssuingKey, VerificationLog
from laborlink import audit, personal_data
from laborlink.access import is_platform_admin, require_role
from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.history import attribute_services_to_actor
from laborlink.models import AuditEvent, Organization, User

KEY_CONTEXT = "health.issuing_key"
RESULT_CONTEXT = "health.certificate.result"
NOTES_CONTEXT = "health.certificate.notes"
TOKEN_CONTEXT = "health.certificate.token"  # noqa: S105 - an encryption context name
MAX_VALIDITY_DAYS = 90
MAX_EXAMINATION_AGE_DAYS = 30
MAX_NOTES_LENGTH = 1000


def issuer_id(authority: Organization) -> str:
    """The authority's identifier in tokens and in the trust list."""
    return f"{authority.province_id}-HA-{authority.pk}"


def _require_health_officer(actor: User) -> Organization:
    require_role(actor, [User.Role.HEALTH_OFFICER])
    authority = actor.organization
    if authority.kind != Organization.Kind.HEALTH_AUTHORITY:
        raise Forbidden(_("Only a health authority issues health certificates."))
    return authority


# --- Keys -------------------------------------------------------------------------------------


def _new_key(authority: Organization) -> IssuingKey:
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    now = timezone.now()
    kid = f"{issuer_id(authority)}-{timezone.localtime(now):%Y%m%d}-{secrets.token_hex(3)}"
    return IssuingKey.objects.create(
        authority=authority,
        kid=kid,
        public_key=tokens.b64url_encode(raw_public),
        private_key_encrypted=personal_data.encrypt(
            base64.b64encode(raw_private).decode(), context=f"{KEY_CONTEXT}:{kid}"
        ),
        created_at=now,
    )


def _private_key(key: IssuingKey) -> Ed25519PrivateKey:
    raw = personal_data.decrypt(key.private_key_encrypted, context=f"{KEY_CONTEXT}:{key.kid}")
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))


def _active_key_for_update(authority: Organization) -> IssuingKey:
    """The authority's active key, created on first use."""
    key = (
        IssuingKey.objects.select_for_update()
        .filter(authority=authority, status=IssuingKey.Status.ACTIVE)
        .first()
    )
    if key is None:
        try:
            with transaction.atomic():
                key = _new_key(authority)
        except IntegrityError:  # created concurrently
            key = IssuingKey.objects.get(authority=authority, status=IssuingKey.Status.ACTIVE)
    return key


@transaction.atomic
def issuing_key_rotate(*, actor: User, authority: Organization | None = None) -> IssuingKey:
    """Retire the authority's active key and sign from now on with a new one. Certificates
    signed with the retired key keep verifying until they expire (it stays published)."""
    if authority is None or not is_platform_admin(actor):
        authority = _require_health_officer(actor)
    Organization.objects.select_for_update().filter(pk=authority.pk).first()
    IssuingKey.objects.filter(authority=authority, status=IssuingKey.Status.ACTIVE).update(
        status=IssuingKey.Status.RETIRED, retired_at=timezone.now()
    )
    return _new_key(authority)


# --- Certificates -----------------------------------------------------------------------------


def _number(authority: Organization, today: date) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    serial = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"HC{today:%Y}{authority.province_id}{serial}"


def _end_of(day: date) -> datetime:
    """The first instant after `day` in Asia/Shanghai: a certificate valid until `day` is
    valid through that whole day there."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


@transaction.atomic
def certificate_issue(
    *,
    actor: User,
    applicant: Any,
    examined_on: date,
    result: str,
    valid_until: date,
    notes: str = "",
) -> HealthCertificate:
    """Sign a certificate for an applicant of the authority's own province."""
    from recruitment.models import Applicant

    authority = _require_health_officer(actor)
    pk = applicant.pk if isinstance(applicant, Applicant) else applicant
    found = Applicant.objects.filter(pk=pk, home_province_id=authority.province_id).first()
    if found is None:
        raise NotFound()
    today = timezone.localdate()
    if result not in HealthCertificate.Result.values:
        raise DomainError(_("Choose the examination result."), field="result")
    if not isinstance(examined_on, date) or examined_on > today:
        raise DomainError(_("The examination date cannot be in the future."), field="examined_on")
    if examined_on < today - timedelta(days=MAX_EXAMINATION_AGE_DAYS):
        raise DomainError(
            _("The examination is older than %(days)d days; examine the applicant again.")
            % {"days": MAX_EXAMINATION_AGE_DAYS},
            field="examined_on",
        )
    if not isinstance(valid_until, date) or valid_until < today:
        raise DomainError(
            _("The certificate must be valid at least until today."), field="valid_until"
        )
    if valid_until > examined_on + timedelta(days=MAX_VALIDITY_DAYS):
        raise DomainError(
            _("A certificate is valid for at most %(days)d days after the examination.")
            % {"days": MAX_VALIDITY_DAYS},
            field="valid_until",
        )
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        raise DomainError(
            _("The notes are longer than %(max)d characters.") % {"max": MAX_NOTES_LENGTH},
            field="notes",
        )
    key = _active_key_for_update(authority)
    issued_at = timezone.now().replace(microsecond=0)
    number = _number(authority, today)
    claims = {
        "jti": number,
        "iss": issuer_id(authority),
        "nid": found.national_id_masked,
        "nam": found.name,
        "res": result,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int(_end_of(valid_until).timestamp()),
    }
    token = tokens.sign(claims, private_key=_private_key(key), kid=key.kid)
    return HealthCertificate.objects.create(
        number=number,
        applicant=found,
        authority=authority,
        key=key,
        issued_by=actor,
        examined_on=examined_on,
        result_encrypted=personal_data.encrypt(result, context=f"{RESULT_CONTEXT}:{number}"),
        notes_encrypted=(
            personal_data.encrypt(notes, context=f"{NOTES_CONTEXT}:{number}") if notes else ""
        ),
        issued_at=issued_at,
        valid_until=valid_until,
        token_encrypted=personal_data.encrypt(token, context=f"{TOKEN_CONTEXT}:{number}"),
    )


def certificate_result(certificate: HealthCertificate) -> str:
    return personal_data.decrypt(
        certificate.result_encrypted, context=f"{RESULT_CONTEXT}:{certificate.number}"
    )


def certificate_notes(certificate: HealthCertificate) -> str:
    if not certificate.notes_encrypted:
        return ""
    return personal_data.decrypt(
        certificate.notes_encrypted, context=f"{NOTES_CONTEXT}:{certificate.number}"
    )


def certificate_token(certificate: HealthCertificate) -> str:
    return personal_data.decrypt(
        certificate.token_encrypted, context=f"{TOKEN_CONTEXT}:{certificate.number}"
    )


@transaction.atomic
def certificate_revoke(
    *, actor: User, certificate: HealthCertificate | int, reason: str
) -> HealthCertificate:
    """Withdraw a certificate; every verification fails from this moment."""
    authority = _require_health_officer(actor)
    pk = certificate.pk if isinstance(certificate, HealthCertificate) else certificate
    locked = (
        HealthCertificate.objects.select_for_update().filter(pk=pk, authority=authority).first()
    )
    if locked is None:
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("A reason is required."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("The reason is longer than 300 characters."), field="reason")
    if locked.status == HealthCertificate.Status.REVOKED:
        raise Conflict(_("This certificate is already revoked."), code="revoked")
    locked.status = HealthCertificate.Status.REVOKED
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.revoke_reason = reason
    locked.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    return locked


# --- Verification -----------------------------------------------------------------------------


def certificate_verify(*, actor: User | None, token: str, channel: str) -> tokens.Verification:
    """Verify a token against the platform's own trust list and revocations, and log it."""
    from health.selectors import revoked_certificate_numbers, trust_list

    outcome = tokens.verify(
        token, trust_list=trust_list(), revoked=revoked_certificate_numbers(), now=timezone.now()
    )
    VerificationLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        channel=channel,
        certificate_number=outcome.certificate_number[:64],
        outcome=outcome.code,
    )
    certificate = (
        HealthCertificate.objects.filter(number=outcome.certificate_number)
        .select_related("authority")
        .only("pk", "authority__province_id")
        .first()
        if outcome.certificate_number
        else None
    )
    audit.record(
        action=AuditEvent.Action.VERIFICATION,
        actor=actor,
        object_type=HealthCertificate._meta.label_lower,
        object_id=certificate.pk if certificate else "",
        province=certificate.authority.province_id if certificate else None,
        detail={"channel": channel, "outcome": outcome.code},
    )
    return outcome


# --- Arrival checks ---------------------------------------------------------------------------

ARRIVAL_RESULT_CONTEXT = "health.arrival.result"
ARRIVAL_NOTES_CONTEXT = "health.arrival.notes"


def arrival_check_record(
    *, actor: User, placement: Any, result: str, notes: str, request_key: str
) -> ArrivalCheck:
    """Store the employer's arrival health check, encrypted (the caller checks access and
    holds the placement's lock)."""
    if result not in ArrivalCheck.Result.values:
        raise DomainError(_("Choose pass, refer or fail."), field="result")
    return ArrivalCheck.objects.create(
        placement=placement,
        checked_by=actor,
        request_key=request_key,
        result_encrypted=personal_data.encrypt(
            result, context=f"{ARRIVAL_RESULT_CONTEXT}:{request_key}"
        ),
        notes_encrypted=(
            personal_data.encrypt(notes, context=f"{ARRIVAL_NOTES_CONTEXT}:{request_key}")
            if notes
            else ""
        ),
    )


def arrival_check_result(check: ArrivalCheck) -> str:
    return personal_data.decrypt(
        check.result_encrypted, context=f"{ARRIVAL_RESULT_CONTEXT}:{check.request_key}"
    )


def arrival_check_notes(check: ArrivalCheck) -> str:
    if not check.notes_encrypted:
        return ""
    return personal_data.decrypt(
        check.notes_encrypted, context=f"{ARRIVAL_NOTES_CONTEXT}:{check.request_key}"
    )


attribute_services_to_actor(globals())
