"""Log-in protection: lock-out after failed log-ins, the TOTP second factor, session limits
and the password change page.

- Lock-out is django-axes with its database handler (log-in keeps working while Redis is
  down). Failures count per account (`LOGIN_FAILURE_LIMIT`) and per address
  (`LOGIN_FAILURE_LIMIT_PER_ADDRESS`, higher: a bureau's whole office may share one address).
  Wrong second-factor codes and failed OAuth2 client authentications count the same way.
- A bureau or health officer may add a TOTP device. When a user has a confirmed device, the
  log-in session is marked "code pending" and every page but the code page, log-out and the
  language switch redirects there until the code is verified.
- A session ends after `SESSION_IDLE_MINUTES` without a request and `SESSION_COOKIE_AGE`
  seconds after log-in, whichever comes first.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models import Sum
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider import views as oauth2_views

from laborlink.api import error_body, is_api_path
from laborlink.models import User

logger = logging.getLogger(__name__)

# Session keys (Unix seconds; JSON-serialisable).
LOGIN_AT_SESSION_KEY = "laborlink_login_at"
LAST_SEEN_SESSION_KEY = "laborlink_last_seen"
OTP_PENDING_SESSION_KEY = "laborlink_otp_pending"
# The idle clock is written at most this often, so a busy session is not saved on every request.
LAST_SEEN_RESOLUTION_SECONDS = 60

# Roles that may (and, once enrolled, must) use a second factor.
SECOND_FACTOR_ROLES = {User.Role.BUREAU_OFFICER, User.Role.HEALTH_OFFICER}


# --- Lock-out (django-axes) -------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The address a failed log-in is counted against.

    Behind `LOGIN_TRUSTED_PROXIES` reverse proxies, the address the outermost trusted proxy
    saw (that many entries from the right of X-Forwarded-For); else the socket's address.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.LOGIN_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit per address.

    With AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] axes compares the larger of the
    two counts with one limit; here an address is locked only at its own limit.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_account, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(per_account, settings.LOGIN_FAILURE_LIMIT)
        return per_account


def _is_token_request(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.namespace == "oauth2_provider")


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """What a locked-out account or address gets: 429, the same whether the account exists."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    message = _(
        "Too many failed log-in attempts. Log-in is paused for %(minutes)d minutes; "
        "try again later or ask your platform administrator to unlock it."
    ) % {"minutes": minutes}
    headers = {"Retry-After": str(minutes * 60)}
    if _is_token_request(request):
        body = {"error": "access_denied", "error_description": str(message)}
        return JsonResponse(body, status=429, headers=headers)
    if is_api_path(request):
        return JsonResponse(error_body("locked_out", message), status=429, headers=headers)
    response = render(
        request, "registration/locked_out.html", {"message": message, "minutes": minutes}
    )
    response.status_code = 429
    response["Retry-After"] = headers["Retry-After"]
    return response


def _count_failure(request: HttpRequest, username: str) -> None:
    """Count one failed attempt for `username` and this address (axes' signal)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def _oauth_client_label(request: HttpRequest) -> str:
    """The client id of a token request (HTTP Basic or form body), as an axes "username"."""
    client_id = request.POST.get("client_id", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        client_id = unquote_plus(decoded.partition(":")[0]) or client_id
    return f"oauth-client:{client_id[:200]}"


class TokenView(oauth2_views.TokenView):
    """The OAuth2 token endpoint; failed client authentications count toward the lock-out
    of that client id and of the address, exactly like failed log-ins."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        credentials = {"username": _oauth_client_label(request)}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return lockout_response(request, None, credentials)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401:
            _count_failure(request, credentials["username"])
        return response


# --- Session limits ---------------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="laborlink.accounts.start_session")
def _start_session(sender, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Start the session clocks; ask for the second factor when the user has a device."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[LOGIN_AT_SESSION_KEY] = now
    session[LAST_SEEN_SESSION_KEY] = now
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        session[OTP_PENDING_SESSION_KEY] = True
    else:
        session.pop(OTP_PENDING_SESSION_KEY, None)


class SessionLimitsMiddleware:
    """Log out a session idle for SESSION_IDLE_MINUTES or older than SESSION_COOKIE_AGE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if BACKEND_SESSION_KEY in session:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session = request.session
        now = int(time.time())
        login_at = session.get(LOGIN_AT_SESSION_KEY)
        last_seen = session.get(LAST_SEEN_SESSION_KEY)
        if not isinstance(login_at, int) or not isinstance(last_seen, int):
            # A session from before these limits: its clocks start now.
            session[LOGIN_AT_SESSION_KEY] = session[LAST_SEEN_SESSION_KEY] = now
            return
        idle_limit = settings.SESSION_IDLE_MINUTES * 60
        if now - last_seen > idle_limit:
            logout(request)
            messages.info(
                request,
                _("You were logged out after %(minutes)d minutes without activity.")
                % {"minutes": settings.SESSION_IDLE_MINUTES},
            )
        elif now - login_at > settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(
                request,
                _("Your session ended %(hours)d hours after you logged in; log in again.")
                % {"hours": settings.SESSION_COOKIE_AGE // 3600},
            )
        elif now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            session[LAST_SEEN_SESSION_KEY] = now


# --- Second factor (TOTP) ---------------------------------------------------------------------


def may_use_second_factor(user) -> bool:
    return user.is_authenticated and user.role in SECOND_FACTOR_ROLES


def _second_factor_exempt_paths() -> tuple[str, ...]:
    return (
        reverse("otp-verify"),
        reverse("logout"),
        reverse("set_language"),
        settings.STATIC_URL,
        reverse("healthz"),
    )


class SecondFactorMiddleware:
    """Until the code is verified, every page answers with a redirect to the code page (an
    API call with 403); log-out and the language switch stay usable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.session.get(OTP_PENDING_SESSION_KEY)
            and request.user.is_authenticated
            and not request.user.is_verified()
            and not request.path_info.startswith(_second_factor_exempt_paths())
        ):
            if is_api_path(request):
                message = _("Enter the code from your authenticator app first.")
                body = error_body("second_factor_required", message)
                return JsonResponse(body, status=403)
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('otp-verify')}?{query}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit() or len(token) not in (6, 8):
            raise forms.ValidationError(_("Enter the 6-digit code."), code="format")
        return token


def _check_token(request: HttpRequest, form: TokenForm, device: TOTPDevice) -> bool:
    """Verify the form's code against `device`; put the reason on the form when refused.

    The device row is locked so that two requests cannot both use one code (django-otp
    keeps the last used time step) or both slip past its throttle.
    """
    if not form.is_valid():
        return False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _details = device.verify_is_allowed()
        verified = allowed and device.verify_token(form.cleaned_data["token"])
    if not allowed:
        form.add_error(
            "token", _("Too many wrong codes in a row. Wait a moment, then try a new code.")
        )
    elif not verified:
        form.add_error("token", _("This code is not valid. Enter the current code."))
    return verified


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@never_cache
@sensitive_post_parameters("token")
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second log-in step: the code from the user's authenticator app."""
    user: User = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or user.is_verified():
        request.session.pop(OTP_PENDING_SESSION_KEY, None)
        return redirect(_safe_next(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            logout(request)
            return lockout_response(request, None, credentials)
        if _check_token(request, form, device):
            otp_login(request, device)
            request.session.pop(OTP_PENDING_SESSION_KEY, None)
            return redirect(_safe_next(request))
        _count_failure(request, user.get_username())
        if getattr(request, "axes_locked_out", False):
            logout(request)  # AxesMiddleware answers with the lock-out page
    return render(
        request,
        "registration/otp_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )


def _secret_for_display(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_svg(text: str) -> str:
    import segno
    from django.utils.safestring import mark_safe

    svg = segno.make(text, error="m").svg_inline(
        scale=4, light="#fff", svgclass="qr-code", omitsize=True, lineclass=None
    )
    # segno writes only path data and the class given here: nothing for the CSP to refuse.
    return mark_safe(svg)  # noqa: S308


@never_cache
@sensitive_post_parameters("token")
@login_required
@require_http_methods(["GET", "POST"])
def otp_settings(request: HttpRequest) -> HttpResponse:
    """Turn the second factor on (scan, then confirm a code) or off (with a current code)."""
    user: User = request.user
    if not may_use_second_factor(user):
        raise Http404
    devices = TOTPDevice.objects.filter(user=user)
    confirmed = next((d for d in devices if d.confirmed), None)
    pending = next((d for d in devices if not d.confirmed), None)
    action = request.POST.get("action")
    form = TokenForm(request.POST if action in ("confirm", "remove") else None)
    status = 200

    if action == "start" and confirmed is None:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)
        return redirect("otp-settings")
    if action == "confirm" and pending is not None and confirmed is None:
        if _check_token(request, form, pending):
            TOTPDevice.objects.filter(pk=pending.pk).update(confirmed=True)
            pending.confirmed = True
            otp_login(request, pending)
            request.session.pop(OTP_PENDING_SESSION_KEY, None)
            logger.info("user %s turned on two-step verification", user.pk)
            messages.success(request, _("Two-step verification is on."))
            return redirect("otp-settings")
        status = 400
    elif action == "remove" and confirmed is not None:
        credentials = {"username": user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            logout(request)
            return lockout_response(request, None, credentials)
        if _check_token(request, form, confirmed):
            TOTPDevice.objects.filter(user=user).delete()
            request.session.pop(OTP_PENDING_SESSION_KEY, None)
            logger.info("user %s turned off two-step verification", user.pk)
            messages.success(request, _("Two-step verification is off."))
            return redirect("otp-settings")
        _count_failure(request, user.get_username())
        if getattr(request, "axes_locked_out", False):
            logout(request)
        status = 400
    elif action:
        return redirect("otp-settings")

    context: dict[str, Any] = {"form": form, "confirmed": confirmed, "pending": pending}
    if pending is not None and confirmed is None:
        context["qr"] = _qr_svg(pending.config_url)
        context["secret"] = _secret_for_display(pending)
    return render(request, "registration/otp_settings.html", context, status=status)


# --- Password change --------------------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"
