"""Writes to the shared vocabulary. Every write takes the acting user."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from laborlink.access import is_platform_admin, province_code_of, require_role
from laborlink.errors import Conflict, DomainError, Forbidden
from laborlink.models import CooperationAgreement, Organization, Province, User
from laborlink.validators import normalize_credit_code, validate_credit_code


def _may_manage_agreement(actor: User, *, importing: Province, exporting: Province) -> bool:
    if is_platform_admin(actor):
        return True
    require_role(actor, [User.Role.BUREAU_OFFICER])
    return province_code_of(actor) in {importing.code, exporting.code}


@transaction.atomic
def organization_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    province: Province,
    city: str = "",
    county: str = "",
    level: str = Organization.Level.PROVINCE,
    credit_code: str = "",
) -> Organization:
    """Register an organisation. `actor=None` only for set-up commands (demo data, fixtures)."""
    if actor is not None and not is_platform_admin(actor):
        raise Forbidden()
    credit_code = normalize_credit_code(credit_code)
    if kind == Organization.Kind.EMPLOYER and not credit_code:
        raise DomainError(
            _("An employer needs its unified social credit code."), field="credit_code"
        )
    try:
        validate_credit_code(credit_code)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="credit_code", field="credit_code") from exc
    if credit_code and Organization.objects.filter(credit_code=credit_code).exists():
        raise Conflict(
            _("An organization with this unified social credit code is already registered."),
            code="duplicate",
            field="credit_code",
        )
    return Organization.objects.create(
        name=name.strip(),
        kind=kind,
        province=province,
        city=city.strip(),
        county=county.strip(),
        level=level,
        credit_code=credit_code,
    )


@transaction.atomic
def agreement_create(
    *,
    actor: User | None,
    title: str,
    importing: Province,
    exporting: Province,
    signed_on: date,
    valid_from: date,
    valid_until: date | None = None,
    status: str = CooperationAgreement.Status.DRAFT,
    yearly_quota: int | None = None,
    importing_city: str = "",
    exporting_city: str = "",
    notes: str = "",
) -> CooperationAgreement:
    """Record an agreement. A bureau officer may record one that involves their province."""
    if actor is not None and not _may_manage_agreement(
        actor, importing=importing, exporting=exporting
    ):
        raise Forbidden(_("You may only record agreements of your own province."))
    if importing.code == exporting.code:
        raise DomainError(
            _("An agreement is between two different provinces."), field="exporting_province"
        )
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(_("The end of validity cannot be before its start."), field="valid_until")
    if yearly_quota is not None and yearly_quota <= 0:
        raise DomainError(_("The yearly quota must be a positive number."), field="yearly_quota")
    try:
        with transaction.atomic():
            return CooperationAgreement.objects.create(
                title=title.strip(),
                importing_province=importing,
                exporting_province=exporting,
                importing_city=importing_city.strip(),
                exporting_city=exporting_city.strip(),
                signed_on=signed_on,
                valid_from=valid_from,
                valid_until=valid_until,
                status=status,
                yearly_quota=yearly_quota,
                notes=notes,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("An agreement between these places starting on this date already exists."),
            code="duplicate",
        ) from exc


@transaction.atomic
def agreement_set_status(
    *, actor: User, agreement: CooperationAgreement, status: str
) -> CooperationAgreement:
    """Activate, suspend or terminate an agreement."""
    agreement = CooperationAgreement.objects.select_for_update().get(pk=agreement.pk)
    if not _may_manage_agreement(
        actor, importing=agreement.importing_province, exporting=agreement.exporting_province
    ):
        raise Forbidden(_("You may only change agreements of your own province."))
    if agreement.status == CooperationAgreement.Status.TERMINATED:
        raise Conflict(_("A terminated agreement cannot be changed."), code="terminated")
    if status not in CooperationAgreement.Status.values:
        raise DomainError(_("Unknown agreement status."), field="status")
    agreement.status = status
    agreement.save(update_fields=["status", "updated_at"])
    return agreement


@transaction.atomic
def api_client_create(
    *,
    actor: User | None,
    bureau: Organization,
    name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[User, object, str]:
    """Create a province's machine account and its OAuth2 client-credentials application.

    Returns (machine user, application, raw client secret). The secret is stored hashed and
    is shown only this once.
    """
    from oauth2_provider.generators import generate_client_id, generate_client_secret
    from oauth2_provider.models import get_application_model

    if actor is not None and not is_platform_admin(actor):
        raise Forbidden()
    if bureau.kind != Organization.Kind.BUREAU:
        raise DomainError(_("An API client belongs to a human-resources bureau."), field="bureau")
    Application = get_application_model()
    client_id = client_id or generate_client_id()
    if Application.objects.filter(client_id=client_id).exists():
        raise Conflict(_("This client id is already taken."), code="duplicate")
    raw_secret = client_secret or generate_client_secret()
    username = f"api-{client_id}"[:150]
    machine = User.objects.create(
        username=username,
        full_name=name,
        organization=bureau,
        role=User.Role.API_CLIENT,
    )
    machine.set_unusable_password()
    machine.save(update_fields=["password"])
    application = Application.objects.create(
        name=name,
        user=machine,
        client_id=client_id,
        client_secret=raw_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )
    return machine, application, raw_secret
