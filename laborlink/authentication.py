"""API authentication and the permission every endpoint shares.

Kept apart from `laborlink.api` because DRF imports these while defining its own views.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from django.db import connection
from django.db.models import Field, JSONField, Model
from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from laborlink.models import Organization, User
from laborlink.queries import prepared_cursor

# What a bearer token is checked with (expiry, scope, resource) and what it leads to.
_TOKEN_FIELDS = {"id", "user", "application", "expires", "scope", "resource"}


@functools.cache
def _token_statement() -> tuple[str, list[tuple[type[Model], list[Field]]]] | None:
    """One SELECT of a token with its application, the application's machine account and
    that account's bureau, written once per process from the models' metadata; None if a
    column would need a converter other than JSON (then the ORM's query is used)."""
    token_model, application_model = get_access_token_model(), get_application_model()
    parts: list[tuple[type[Model], list[Field]]] = [
        (token_model, [f for f in token_model._meta.concrete_fields if f.name in _TOKEN_FIELDS]),
        (
            application_model,
            [application_model._meta.pk, application_model._meta.get_field("user")],
        ),
        (User, list(User._meta.concrete_fields)),
        (Organization, list(Organization._meta.concrete_fields)),
    ]
    for _model, fields in parts:
        for field in fields:
            if hasattr(field, "from_db_value") and not isinstance(field, JSONField):
                return None
    quote = connection.ops.quote_name
    aliases = ("t", "a", "u", "o")
    columns = ", ".join(
        f"{alias}.{quote(field.column)}"
        for alias, (_model, fields) in zip(aliases, parts, strict=True)
        for field in fields
    )
    token_application = token_model._meta.get_field("application").column
    application_user = application_model._meta.get_field("user").column
    user_organization = User._meta.get_field("organization").column
    # identifiers from the models' metadata, quoted; the checksum is the one parameter
    sql = (
        f"SELECT {columns}"  # noqa: S608
        f" FROM {quote(token_model._meta.db_table)} t"
        f" JOIN {quote(application_model._meta.db_table)} a"
        f" ON a.{quote(application_model._meta.pk.column)} = t.{quote(token_application)}"
        f" JOIN {quote(User._meta.db_table)} u"
        f" ON u.{quote(User._meta.pk.column)} = a.{quote(application_user)}"
        f" LEFT JOIN {quote(Organization._meta.db_table)} o"
        f" ON o.{quote(Organization._meta.pk.column)} = u.{quote(user_organization)}"
        f" WHERE t.{quote(token_model._meta.get_field('token_checksum').column)} = %s"
    )
    return sql, parts


class ProvinceOAuth2Validator(OAuth2Validator):
    """django-oauth-toolkit's validator, loading a bearer token with its application's
    machine account and that account's bureau in one prepared statement.

    Every API request checks its token: the toolkit's query (and the ORM's compiling of a
    four-table join) cost about a sixth of an API page's time under load. The statement is
    written once per process (`_token_statement`), prepared by PostgreSQL once per
    connection, and its row becomes the model instances the ORM would have built, linked
    as `select_related` links them. A token without an application or machine account is
    not found (client credentials are the only grant here)."""

    def _load_access_token(self, token: str) -> Any:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        statement = _token_statement()
        if statement is None:
            return (
                get_access_token_model()
                .objects.select_related("application__user__organization")
                .filter(token_checksum=checksum)
                .first()
            )
        sql, parts = statement
        with prepared_cursor() as cursor:
            cursor.execute(sql, [checksum])
            row = cursor.fetchone()
        if row is None:
            return None
        instances: list[Model | None] = []
        start = 0
        for model, fields in parts:
            values = row[start : start + len(fields)]
            start += len(fields)
            loaded = values[0] is not None
            names = [field.attname for field in fields]
            instances.append(model.from_db(connection.alias, names, values) if loaded else None)
        access_token, application, user, organization = instances
        user.organization = organization
        application.user = user
        access_token.application = application
        return access_token


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
            # the machine account and its bureau, loaded with the token
            # (ProvinceOAuth2Validator)
            user = token.application.user
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
