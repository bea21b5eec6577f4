"""Access helpers: who a user acts for, and role checks that services share."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from laborlink.errors import Forbidden
from laborlink.models import Organization, User

Role = User.Role


def is_platform_admin(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.PLATFORM_ADMIN))


def province_code_of(user: User) -> str | None:
    """The province a user acts for (None for platform admins and unassigned users)."""
    if not user.is_authenticated or not user.organization_id:
        return None
    return user.organization.province_id


def acting_organization(user: User, roles: Iterable[str], kind: str) -> Organization | None:
    """The active organisation of `kind` that the user acts for in one of `roles`, or None.
    Pages use it to decide whether they exist for the user at all (404 otherwise)."""
    if not user.is_authenticated or user.role not in set(roles):
        return None
    org = user.organization
    if org is None or not org.is_active or org.kind != kind:
        return None
    return org


def require_role(user: User, roles: Iterable[str]) -> None:
    """Raise Forbidden unless the user has one of `roles` and an active organisation."""
    allowed = set(roles)
    if not user.is_authenticated or user.role not in allowed:
        raise Forbidden(_("Your role does not allow this action."))
    org: Organization | None = user.organization
    if org is None or not org.is_active:
        raise Forbidden(_("Your organization is not active on the platform."))
