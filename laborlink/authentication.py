"""API authentication and the permission every endpoint shares.

Kept apart from `laborlink.api` because DRF imports these while defining its own views.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from laborlink.models import User


class ProvinceClientAuthentication(OAuth2Authentication):
    """OAuth2 bearer tokens from the client-credentials grant.

    Such a token carries no user of its own; it acts as the machine account that owns the
    OAuth application. That account is a User with role `api_client` in a bureau, which binds
    the client to exactly one province.
    """

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None and token.application_id:
            # the machine account and its bureau in one query (every request needs both)
            user = (
                User.objects.select_related("organization")
                .filter(pk=token.application.user_id)
                .first()
            )
        if user is None or not user.is_active or user.role != User.Role.API_CLIENT:
            raise exceptions.AuthenticationFailed(
                _("This client is not bound to a province's machine account.")
            )
        return user, token


class IsReadOnlyForClients(BasePermission):
    """API clients read; they never write."""

    message = _("API clients have read-only access.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request.user, "role", None) == User.Role.API_CLIENT:
            return request.method in ("GET", "HEAD", "OPTIONS")
        return True
