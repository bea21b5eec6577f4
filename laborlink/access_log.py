"""Denied access attempts: every 403 or 404 answered to a signed-in user or an API client.

Such answers are how an object outside the caller's scope looks (DESIGN.md: "anything else
is 404"), so a run of them from one account is worth a look. The record holds who asked
(user id and role), the method, the path and the status: never the query string or the
body, and URLs hold only ids (personal data never travels in a URL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("laborlink.access")

DENIED_STATUSES = frozenset({403, 404})


def _loggable_path(request: HttpRequest) -> str:
    """The path, with a capability token (an applicant's offer link) replaced by a
    placeholder: a token is not an id and must not be kept in the logs."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if isinstance(token, str) and token:
        path = path.replace(token, "<token>")
    return path


def log_denied(request: HttpRequest, status: int) -> None:
    """Record one denied request (the one place to extend, e.g. with an audit row)."""
    from laborlink.audit import record_denied

    user = request.user
    path = _loggable_path(request)
    logger.warning(
        "access denied: status=%s method=%s path=%s user=%s role=%s",
        status,
        request.method,
        path,
        user.pk,
        getattr(user, "role", "") or "-",
    )
    record_denied(request, status, path=path)


class DeniedAccessLogMiddleware:
    """Calls `log_denied` for every 403/404 answered to an authenticated caller. Placed
    right after AuthenticationMiddleware; API clients are known only once DRF has
    authenticated them, which it records on the request, so the check runs on the way out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in DENIED_STATUSES:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                log_denied(request, response.status_code)
        return response
