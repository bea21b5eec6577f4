"""Pages of the shared vocabulary: home, health, and the page helper for domain errors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from laborlink import selectors
from laborlink.access import is_platform_admin
from laborlink.errors import DomainError
from laborlink.health_checks import database_status, redis_status
from laborlink.models import User

PAGE_SIZE = 25


def paginate(
    request: HttpRequest, queryset, *, per_page: int = PAGE_SIZE, count_limit: int | None = None
):
    """The requested page of a queryset (out-of-range pages give the last page).

    With `count_limit`, rows are counted only up to that many: a queue of a whole province
    (hundreds of thousands of applicants) is not counted on every view. The paginator then
    says `count_capped` and pages through the first `count_limit` rows."""
    from django.core.paginator import Paginator

    if count_limit is None:
        return Paginator(queryset, per_page).get_page(request.GET.get("page"))
    paginator = Paginator(queryset, per_page)
    counted = bounded_count(queryset, count_limit)
    paginator.count = min(counted, count_limit)  # replaces the cached full count
    paginator.count_capped = counted > count_limit
    paginator.count_limit = count_limit
    return paginator.get_page(request.GET.get("page"))


def bounded_count(queryset, limit: int) -> int:
    """The number of rows, counted up to `limit + 1` (more than `limit` means "over")."""
    return queryset.order_by()[: limit + 1].count()


def form_add_domain_error(form, error: DomainError) -> None:
    """Show a service's refusal on the form: against its field when the form has it, else
    at the top. Every message of `error.details` is shown against its field too."""
    added = False
    for name, messages_ in (error.details or {}).items():
        if name in form.fields:
            for message in messages_ if isinstance(messages_, list) else [messages_]:
                form.add_error(name, str(message))
                added = True
    if not added:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))


def domain_error_response(
    request: HttpRequest, error: DomainError, template: str, context: dict
) -> HttpResponse:
    """Re-render a page with the domain error as a message and its 4xx status."""
    messages.error(request, str(error.message))
    return render(request, template, context, status=error.status_code)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    province = user.province
    today = timezone.localdate()
    context = {
        "role": user.get_role_display() if user.role else "",
        "organization": user.organization,
        "province": province,
        "is_admin": is_platform_admin(user),
        "agreements_in_force": selectors.agreements_in_force(
            on=today, among=selectors.agreements_visible_to(user)
        ),
        "today": today,
        "notifications": selectors.notifications_for(user),
    }
    return render(request, "laborlink/home.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and Redis status; 503 when either is down (for compose and load balancers)."""
    checks = {"database": database_status(), "redis": redis_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
