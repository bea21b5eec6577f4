"""Every read of the health app, scoped to the user; the published trust and revocation lists;
and the eligibility question the matching engine asks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from health.models import HealthCertificate, IssuingKey
from laborlink.access import is_platform_admin
from laborlink.models import Organization, User


def certificates_visible_to(user: User) -> QuerySet[HealthCertificate]:
    """A health officer: the certificates its authority issued. An exporting bureau: those of
    the applicants it registered (status only; pages and API never show it the notes).
    Platform admins: all. Everyone else: none."""
    qs = HealthCertificate.objects.select_related("applicant", "authority", "issued_by", "key")
    if is_platform_admin(user):
        return qs
    if not user.is_authenticated or user.organization_id is None:
        return qs.none()
    org = user.organization
    if not org.is_active:
        return qs.none()
    if user.role == User.Role.HEALTH_OFFICER and org.kind == Organization.Kind.HEALTH_AUTHORITY:
        return qs.filter(authority=org)
    if user.role in {User.Role.BUREAU_OFFICER, User.Role.API_CLIENT}:
        from recruitment.selectors import registry_scope

        if org.kind == Organization.Kind.BUREAU:
            from recruitment.models import Applicant

            return qs.filter(applicant__in=Applicant.objects.filter(registry_scope(org)))
    return qs.none()


def may_read_examiner_notes(user: User, certificate: HealthCertificate) -> bool:
    """Examiner notes stay with the issuing authority."""
    return (
        user.is_authenticated
        and user.role == User.Role.HEALTH_OFFICER
        and user.organization_id == certificate.authority_id
    )


def issuing_keys_visible_to(user: User) -> QuerySet[IssuingKey]:
    """A health officer: its authority's keys (public parts only are ever shown); platform
    admins: all; others: none."""
    qs = IssuingKey.objects.select_related("authority").order_by("-created_at", "-id")
    if is_platform_admin(user):
        return qs
    org = user.organization if user.is_authenticated else None
    if (
        org is None
        or not org.is_active
        or user.role != User.Role.HEALTH_OFFICER
        or org.kind != Organization.Kind.HEALTH_AUTHORITY
    ):
        return qs.none()
    return qs.filter(authority=org)


# --- Eligibility ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateStatus:
    """What others may know of an applicant's certificate: in force and fit until a date."""

    code: str  # "valid" | "not_fit" | "expired" | "revoked" | "none"
    valid_until: date | None = None
    number: str = ""

    @property
    def is_valid_fit(self) -> bool:
        return self.code == "valid"


def certificate_statuses(
    applicant_ids: Iterable[int], *, on: date | None = None
) -> dict[int, CertificateStatus]:
    """The best certificate status of each applicant on `on`, in one query: a fit, unrevoked
    certificate in force (the latest expiry) wins; otherwise why there is none."""
    from health.services import certificate_result

    day = on or timezone.localdate()
    ids = list(applicant_ids)
    statuses: dict[int, CertificateStatus] = {pk: CertificateStatus("none") for pk in ids}
    rank = {"none": 0, "expired": 1, "revoked": 2, "not_fit": 3, "valid": 4}
    certificates = HealthCertificate.objects.filter(applicant_id__in=ids).only(
        "pk", "number", "applicant_id", "status", "valid_until", "issued_at", "result_encrypted"
    )
    for cert in certificates:
        if cert.status == HealthCertificate.Status.REVOKED:
            status = CertificateStatus("revoked", cert.valid_until, cert.number)
        elif cert.valid_until < day or timezone.localtime(cert.issued_at).date() > day:
            status = CertificateStatus("expired", cert.valid_until, cert.number)
        elif certificate_result(cert) != HealthCertificate.Result.FIT:
            status = CertificateStatus("not_fit", cert.valid_until, cert.number)
        else:
            status = CertificateStatus("valid", cert.valid_until, cert.number)
        current = statuses[cert.applicant_id]
        better = rank[status.code] > rank[current.code] or (
            status.code == current.code
            and (status.valid_until or date.min) > (current.valid_until or date.min)
        )
        if better:
            statuses[cert.applicant_id] = status
    return statuses


def holds_valid_fit_certificate(applicant: Any, *, through: date) -> bool:
    """Does the applicant hold a valid, unrevoked, fit certificate that is in force today and
    still through `through`? (The matching engine asks this with a posting's start date.)"""
    pk = getattr(applicant, "pk", applicant)
    return pk in applicants_fit_through([pk], through=through)


def applicants_fit_through(applicant_ids: Iterable[int], *, through: date) -> set[int]:
    """The applicants among `applicant_ids` holding a fit, unrevoked certificate in force
    today and valid through `through` (one query; results decrypted in memory)."""
    from health.services import certificate_result

    today = timezone.localdate()
    candidates = HealthCertificate.objects.filter(
        applicant_id__in=list(applicant_ids),
        status=HealthCertificate.Status.VALID,
        valid_until__gte=max(through, today),
        issued_at__lte=timezone.now(),
    ).only("pk", "number", "applicant_id", "result_encrypted")
    return {
        cert.applicant_id
        for cert in candidates
        if certificate_result(cert) == HealthCertificate.Result.FIT
    }


# --- Published lists --------------------------------------------------------------------------


def trust_list() -> dict[str, Any]:
    """The JWKS of every authority's active and retired public keys (RFC 7517), with the
    issuer each key belongs to: all a verifier needs besides the revocation list."""
    from health.services import issuer_id

    keys = []
    for key in IssuingKey.objects.select_related("authority").order_by(
        "authority_id", "created_at"
    ):
        keys.append(
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": key.public_key,
                "kid": key.kid,
                "use": "sig",
                "alg": "EdDSA",
                "iss": issuer_id(key.authority),
                "issuer_name": key.authority.name,
                "province": key.authority.province_id,
                "status": key.status,
                "created_at": int(key.created_at.timestamp()),
                "retired_at": int(key.retired_at.timestamp()) if key.retired_at else None,
            }
        )
    return {"keys": keys}


def revoked_certificate_numbers() -> list[str]:
    return list(
        HealthCertificate.objects.filter(status=HealthCertificate.Status.REVOKED)
        .order_by("number")
        .values_list("number", flat=True)
    )
