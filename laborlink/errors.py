"""The one domain error that services raise.

A service raises `DomainError` with a translated message; the DRF exception handler
(`laborlink.api.exception_handler`) and the page helper (`laborlink.views.domain_error_response`)
turn it into a 4xx response with the same message.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the request. `message` is user-facing and translated."""

    status_code = 400

    def __init__(
        self,
        message: Any,
        *,
        code: str = "invalid",
        status: int | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
        self.details = details or {}
        if status is not None:
            self.status_code = status

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """The object does not exist or the actor may not see it (never tell which)."""

    status_code = 404

    def __init__(self, message: Any = None, **kwargs: Any) -> None:
        super().__init__(message or _("Not found."), code="not_found", **kwargs)


class Forbidden(DomainError):
    """The actor sees the object but may not change it."""

    status_code = 403

    def __init__(self, message: Any = None, **kwargs: Any) -> None:
        super().__init__(
            message or _("You are not allowed to do this."), code="forbidden", **kwargs
        )


class Conflict(DomainError):
    """The request clashes with the current state (already full, already decided …)."""

    status_code = 409
