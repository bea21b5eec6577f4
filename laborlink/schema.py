"""OpenAPI extensions: document the province-bound OAuth2 client-credentials scheme, and the
one error shape on every operation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme


class ProvinceClientScheme(DjangoOAuthToolkitScheme):
    target_class = "laborlink.authentication.ProvinceClientAuthentication"
    name = "provinceClient"

    def get_security_requirement(self, auto_schema):
        return {self.name: ["read"]}


ERROR_COMPONENT = "ApiError"
_ERROR_SCHEMAS: dict[str, Any] = {
    "ApiError": {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/ApiErrorBody"}},
        "required": ["error"],
    },
    "ApiErrorBody": {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "object", "additionalProperties": {}},
        },
        "required": ["code", "message"],
    },
}
# Answers any operation may give, in the one error shape (laborlink.api.exception_handler).
_ALWAYS = {
    401: _("Not authenticated, or the credentials are invalid or expired."),
    403: _("The caller may not do this (role, province, read-only API client, CSRF)."),
    404: _("No such object among those the caller may see, or no such page."),
    429: _("Too many requests; retry after the number of seconds in Retry-After."),
}
_WITH_INPUT = {400: _("The request contains invalid data (code: invalid).")}
_UNSAFE = {409: _("The request clashes with the current state of the object.")}
_WITH_BODY = {415: _("The request body is in a media type the endpoint does not read.")}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation documents the error answers it
    can give (401/403/404/429; 400 when it takes parameters or a body; 409 when it writes;
    415 when it reads a body), so that clients and schema-driven tests know their shape.
    Answers an operation documents itself are left alone."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _ERROR_SCHEMAS.items():
        schemas.setdefault(name, schema)
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = dict(_ALWAYS)
            if operation.get("parameters") or operation.get("requestBody"):
                codes.update(_WITH_INPUT)
            if method != "get":
                codes.update(_UNSAFE)
            if operation.get("requestBody"):
                codes.update(_WITH_BODY)
            responses = operation.setdefault("responses", {})
            for code, description in sorted(codes.items()):
                responses.setdefault(
                    str(code),
                    {
                        "content": {"application/json": {"schema": reference}},
                        "description": str(description),
                    },
                )
    return result
