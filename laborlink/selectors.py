"""Reads of the shared vocabulary, scoped to the user where the data is not public."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from laborlink.access import is_platform_admin, province_code_of
from laborlink.models import CooperationAgreement, Notification, Province, User


def provinces_all() -> QuerySet[Province]:
    """Provinces are public reference data."""
    return Province.objects.all()


def agreements_in_force(
    *, on: date | None = None, among: QuerySet[CooperationAgreement] | None = None
) -> QuerySet[CooperationAgreement]:
    """Active agreements whose validity covers `on` (today in Asia/Shanghai by default),
    optionally narrowing an already scoped queryset `among`."""
    day = on or timezone.localdate()
    qs = CooperationAgreement.objects.all() if among is None else among
    return qs.filter(status=CooperationAgreement.Status.ACTIVE, valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )


def provinces_cooperate(
    *, importing: Province | str, exporting: Province | str, on: date | None = None
) -> bool:
    """Do these two provinces cooperate on this date, in this direction?

    True when an active agreement lets `exporting` send workers to `importing` on `on`.
    """
    importing_code = importing.code if isinstance(importing, Province) else importing
    exporting_code = exporting.code if isinstance(exporting, Province) else exporting
    return (
        agreements_in_force(on=on)
        .filter(importing_province_id=importing_code, exporting_province_id=exporting_code)
        .exists()
    )


def cooperating_exporting_provinces(
    *, importing: Province | str, on: date | None = None
) -> QuerySet[Province]:
    """Provinces that may send workers to `importing` on `on`."""
    code = importing.code if isinstance(importing, Province) else importing
    exporting_codes = agreements_in_force(on=on).filter(importing_province_id=code)
    return Province.objects.filter(
        code__in=exporting_codes.values("exporting_province_id")
    ).distinct()


def cooperating_importing_provinces(
    *, exporting: Province | str, on: date | None = None
) -> QuerySet[Province]:
    """Provinces that `exporting` may send workers to on `on`."""
    code = exporting.code if isinstance(exporting, Province) else exporting
    importing_codes = agreements_in_force(on=on).filter(exporting_province_id=code)
    return Province.objects.filter(
        code__in=importing_codes.values("importing_province_id")
    ).distinct()


def agreements_visible_to(user: User) -> QuerySet[CooperationAgreement]:
    """Agreements a user may read: those of their own province, or all for platform admins."""
    qs = CooperationAgreement.objects.select_related("importing_province", "exporting_province")
    if is_platform_admin(user):
        return qs
    code = province_code_of(user)
    if code is None:
        return qs.none()
    return qs.filter(Q(importing_province_id=code) | Q(exporting_province_id=code))


def notifications_for(user: User, *, limit: int = 10) -> QuerySet[Notification]:
    """The newest notices to the user's organisation (none for users without one)."""
    if not user.is_authenticated or user.organization_id is None:
        return Notification.objects.none()
    return Notification.objects.filter(organization_id=user.organization_id).order_by(
        "-created_at", "-id"
    )[:limit]
