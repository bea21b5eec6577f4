"""The public verification page: paste a token, upload a picture of the QR code, or scan it
with the phone's camera (health-verify.js, where the browser offers a barcode detector).

The token carries a name and a masked ID number, so it travels in POST bodies only: a token
in the query string is ignored. Anonymous use is throttled per client address."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from health import services
from health.forms import VerifyForm
from health.models import HealthCertificate, VerificationLog

ANONYMOUS_PER_MINUTE = 30


def _throttled(request: HttpRequest) -> bool:
    """True when an anonymous client made more than ANONYMOUS_PER_MINUTE verifications in the
    current minute (fixed window in the shared cache; the address is stored only hashed)."""
    if request.user.is_authenticated:
        return False
    address = request.META.get("REMOTE_ADDR", "")
    key = "health:verify:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    if cache.add(key, 1, timeout=60):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        return False
    return count > ANONYMOUS_PER_MINUTE


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def certificate_facts(outcome) -> dict[str, Any] | None:
    """The readable facts of a verified token, for display (None when unreadable)."""
    facts = outcome.as_dict().get("certificate")
    if not facts:
        return None
    expires = _moment(facts.get("expires_at"))
    result = facts.get("result")
    return {
        "number": facts.get("number"),
        "issuer_name": facts.get("issuer_name") or facts.get("issuer"),
        "name": facts.get("name"),
        "national_id_masked": facts.get("national_id_masked"),
        "result": result,
        "result_label": (
            HealthCertificate.Result(result).label
            if result in HealthCertificate.Result.values
            else ""
        ),
        "issued_at": _moment(facts.get("issued_at")),
        # "exp" is the first instant after the last valid day
        "valid_until": (expires - timedelta(seconds=1)).date() if expires else None,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET:
        # nothing is read from the query string; drop it so that the page (its language
        # switch echoes the URL) never repeats a token someone put there
        return redirect(request.path)
    form = VerifyForm()
    outcome = None
    status = 200
    throttled = False
    if request.method == "POST":
        if _throttled(request):
            throttled = True
            status = 429
        else:
            form = VerifyForm(request.POST, request.FILES)
            if form.is_valid():
                outcome = services.certificate_verify(
                    actor=request.user if request.user.is_authenticated else None,
                    token=form.cleaned_data["token"],
                    channel=VerificationLog.Channel.PAGE,
                )
                form = VerifyForm()  # the token is not echoed back into the page
            else:
                status = 400
    context = {
        "form": form,
        "outcome": outcome,
        "facts": certificate_facts(outcome) if outcome is not None else None,
        "throttled": throttled,
        "throttle_message": _(
            "Too many verifications from your network: wait a minute and try again."
        ),
    }
    response = render(request, "health/verify.html", context, status=status)
    if throttled:
        response["Retry-After"] = "60"
    return response


urlpatterns = [path("verify/", verify, name="verify")]
