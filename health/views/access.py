"""Who may use the health officers' pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from laborlink.access import acting_organization
from laborlink.models import Organization, User


def require_health_officer(request: HttpRequest) -> Organization:
    """The user's health authority; 404 for everyone else (the pages do not exist for them)."""
    org = acting_organization(
        request.user, [User.Role.HEALTH_OFFICER], Organization.Kind.HEALTH_AUTHORITY
    )
    if org is None:
        raise Http404
    return org


def is_issuing_officer(user: User, authority_id: int) -> bool:
    """A health officer of the authority that issued a certificate (may revoke it)."""
    return (
        user.is_authenticated
        and user.role == User.Role.HEALTH_OFFICER
        and user.organization_id == authority_id
    )
