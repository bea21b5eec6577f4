"""Page: the authority's signing keys (public facts only) and key rotation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from health import selectors, services
from health.forms import RotateKeyForm
from health.views.access import require_health_officer
from laborlink.errors import DomainError
from laborlink.models import Organization


def _keys_of(request: HttpRequest, authority: Organization):
    """The authority's keys with how many certificates each signed; the private half is not
    even loaded."""
    return (
        selectors.issuing_keys_visible_to(request.user)
        .filter(authority=authority)
        .defer("private_key_encrypted")
        .annotate(certificate_count=Count("certificates"))
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_list(request: HttpRequest) -> HttpResponse:
    authority = require_health_officer(request)
    form = RotateKeyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key = services.issuing_key_rotate(actor=request.user)
            except DomainError as error:
                messages.error(request, str(error.message))
                status = error.status_code
            else:
                messages.success(
                    request,
                    _("Key %(kid)s now signs new certificates; the previous key is retired.")
                    % {"kid": key.kid},
                )
                return redirect("health:key-list")
        else:
            status = 400
    context = {
        "authority": authority,
        "issuer": services.issuer_id(authority),
        "keys": _keys_of(request, authority),
        "form": form,
    }
    return render(request, "health/keys.html", context, status=status)


urlpatterns = [path("keys/", key_list, name="key-list")]
