"""Pages: applicants to examine, issuing a certificate, the certificates list, and the
certificate page (printable on A4, readable on a phone, with its QR code and revocation)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from health import selectors, services
from health.forms import ApplicantFilterForm, CertificateFilterForm, IssueForm, RevokeForm
from health.models import HealthCertificate
from health.views.access import is_issuing_officer, require_health_officer
from laborlink.errors import DomainError
from laborlink.models import User
from laborlink.views import form_add_domain_error, paginate
from recruitment.models import Sex
from recruitment.selectors import applicants_visible_to

# Labels of the certificate page, shown in Chinese and English side by side (|bilingual).
CERTIFICATE_LABELS = {
    "title": gettext_lazy("Health certificate"),
    "number": gettext_lazy("Certificate number"),
    "name": gettext_lazy("Name"),
    "national_id": gettext_lazy("ID number"),
    "sex": gettext_lazy("Sex"),
    "age": gettext_lazy("Age"),
    "result": gettext_lazy("Result"),
    "examined_on": gettext_lazy("Examination date"),
    "issued_at": gettext_lazy("Issued at"),
    "valid_until": gettext_lazy("Valid until"),
    "authority": gettext_lazy("Issuing authority"),
    "kid": gettext_lazy("Key id"),
    "status": gettext_lazy("Status"),
    "token": gettext_lazy("Signed token"),
    "verify": gettext_lazy("Verify at"),
    "qr": gettext_lazy("Scan to verify"),
    "revoked": gettext_lazy("REVOKED"),
    "reason": gettext_lazy("Reason for revocation"),
}
STATES = {
    "valid": gettext_lazy("Valid"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
}


def certificate_state(certificate: HealthCertificate, today: date) -> str:
    """valid / expired / revoked, as a reader of the certificate understands it today."""
    if certificate.status == HealthCertificate.Status.REVOKED:
        return "revoked"
    return "expired" if certificate.valid_until < today else "valid"


def qr_svg(token: str) -> SafeString:
    """The token as an inline SVG QR code (error correction M, white quiet zone)."""
    import segno

    svg = segno.make(token, error="m").svg_inline(
        scale=4, light="#fff", svgclass="qr-code", omitsize=True, lineclass=None
    )
    # segno writes only path data and the class given here; the token is not in the markup.
    return mark_safe(svg)  # noqa: S308


# --- Applicants to examine --------------------------------------------------------------------


@login_required
@require_GET
def applicant_list(request: HttpRequest) -> HttpResponse:
    """The applicants of the authority's province, with their certificate status."""
    require_health_officer(request)
    filters = ApplicantFilterForm(request.GET or None)
    queryset = filters.apply(applicants_visible_to(request.user)).order_by("-created_at", "-id")
    page = paginate(request, queryset)
    return render(request, "health/applicants.html", {"page_obj": page, "filters": filters})


@login_required
@require_http_methods(["GET", "POST"])
def certificate_issue(request: HttpRequest, pk: int) -> HttpResponse:
    require_health_officer(request)
    applicant = applicants_visible_to(request.user).filter(pk=pk).first()
    if applicant is None:
        raise Http404
    form = IssueForm(
        request.POST if request.method == "POST" else None, initial=IssueForm.defaults()
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                certificate = services.certificate_issue(
                    actor=request.user, applicant=applicant, **form.cleaned_data
                )
            except DomainError as error:
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                messages.success(
                    request,
                    _("Certificate %(number)s is issued and signed.")
                    % {"number": certificate.number},
                )
                return redirect("health:certificate-detail", pk=certificate.pk)
        else:
            status = 400
    context = {"applicant": applicant, "form": form, "age": applicant.age}
    return render(request, "health/issue.html", context, status=status)


# --- Certificates -----------------------------------------------------------------------------


def _with_result(queryset: QuerySet[HealthCertificate], result: str):
    """Results are encrypted at rest, so a result filter decrypts them in memory (one query
    over the already filtered certificates, numbers and ciphertexts only)."""
    matching = [
        cert.pk
        for cert in queryset.select_related(None)
        .only("pk", "number", "result_encrypted")
        .iterator(chunk_size=2000)
        if services.certificate_result(cert) == result
    ]
    return queryset.filter(pk__in=matching)


def _filtered_certificates(request: HttpRequest, *, may_filter_result: bool):
    filters = CertificateFilterForm(request.GET or None, may_filter_result=may_filter_result)
    queryset = selectors.certificates_visible_to(request.user)
    if request.GET and filters.is_valid():
        data = filters.cleaned_data
        today = timezone.localdate()
        query = data["q"].strip()
        if query:
            queryset = queryset.filter(
                Q(applicant__name__icontains=query) | Q(number__iexact=query)
            )
        if data["status"] == "revoked":
            queryset = queryset.filter(status=HealthCertificate.Status.REVOKED)
        elif data["status"] == "valid":
            queryset = queryset.filter(
                status=HealthCertificate.Status.VALID, valid_until__gte=today
            )
        elif data["status"] == "expired":
            queryset = queryset.filter(status=HealthCertificate.Status.VALID, valid_until__lt=today)
        if data.get("result"):
            queryset = _with_result(queryset, data["result"])
    return filters, queryset


@login_required
@require_GET
def certificate_list(request: HttpRequest) -> HttpResponse:
    """A health officer: its authority's certificates; an exporting bureau: those of the
    applicants it registered (status and result, never notes)."""
    user: User = request.user
    is_health_officer = user.role == User.Role.HEALTH_OFFICER
    filters, queryset = _filtered_certificates(request, may_filter_result=is_health_officer)
    page = paginate(request, queryset)
    today = timezone.localdate()
    for certificate in page.object_list:
        certificate.state = certificate_state(certificate, today)
        certificate.state_label = STATES[certificate.state]
        certificate.result = services.certificate_result(certificate)
        certificate.result_label = HealthCertificate.Result(certificate.result).label
    context = {"page_obj": page, "filters": filters, "is_health_officer": is_health_officer}
    return render(request, "health/certificates.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate as printed and shown on a phone; the issuing authority may revoke it."""
    certificate = selectors.certificates_visible_to(request.user).filter(pk=pk).first()
    if certificate is None:
        raise Http404
    may_revoke = is_issuing_officer(request.user, certificate.authority_id)
    if request.method == "POST" and not may_revoke:
        raise Http404
    revoke_form = (
        RevokeForm(request.POST if request.method == "POST" else None) if may_revoke else None
    )
    status = 200
    if request.method == "POST":
        if revoke_form.is_valid():
            try:
                services.certificate_revoke(
                    actor=request.user,
                    certificate=certificate,
                    reason=revoke_form.cleaned_data["reason"],
                )
            except DomainError as error:
                if error.field in revoke_form.fields:
                    form_add_domain_error(revoke_form, error)
                else:  # e.g. already revoked: the form is no longer shown
                    messages.error(request, str(error.message))
                status = error.status_code
            else:
                messages.success(
                    request,
                    _("Certificate %(number)s is revoked: every verification now fails.")
                    % {"number": certificate.number},
                )
                return redirect("health:certificate-detail", pk=certificate.pk)
        else:
            status = 400
    state = certificate_state(certificate, timezone.localdate())
    token = services.certificate_token(certificate)
    result = services.certificate_result(certificate)
    applicant = certificate.applicant
    may_read_notes = selectors.may_read_examiner_notes(request.user, certificate)
    context = {
        "certificate": certificate,
        "applicant": applicant,
        "labels": CERTIFICATE_LABELS,
        "state": state,
        "state_label": STATES[state],
        "result": result,
        "result_label": HealthCertificate.Result(result).label,
        "sex_label": Sex(applicant.sex).label if applicant.sex in Sex.values else "",
        "age": applicant.age_on(certificate.examined_on),
        "token": token,
        "qr": qr_svg(token),
        "verify_url": request.build_absolute_uri(reverse("health:verify")),
        "may_read_notes": may_read_notes,
        "notes": services.certificate_notes(certificate) if may_read_notes else None,
        "revoke_form": (
            revoke_form if certificate.status == HealthCertificate.Status.VALID else None
        ),
    }
    return render(request, "health/certificate.html", context, status=status)


urlpatterns = [
    path("applicants/", applicant_list, name="applicant-list"),
    path("applicants/<int:pk>/issue/", certificate_issue, name="certificate-issue"),
    path("certificates/", certificate_list, name="certificate-list"),
    path("certificates/<int:pk>/", certificate_detail, name="certificate-detail"),
]
