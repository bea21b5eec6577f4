"""Pages: the applicant registry (list, register, detail with reveal and history, edit)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from laborlink import audit
from laborlink.access import acting_organization
from laborlink.errors import DomainError
from laborlink.views import form_add_domain_error, paginate
from recruitment import selectors, services
from recruitment.forms.applicants import (
    ApplicantEditForm,
    ApplicantFilterForm,
    ApplicantForm,
    RevealForm,
)
from recruitment.models import Applicant


def _is_registry_officer(user) -> bool:
    return acting_organization(user, ["bureau_officer"], "bureau") is not None


@login_required
def applicant_list(request: HttpRequest) -> HttpResponse:
    filters, queryset = _filtered_applicants(request)
    page = paginate(request, queryset)
    return render(
        request,
        "recruitment/applicants/list.html",
        {
            "page_obj": page,
            "filters": filters,
            "may_register": _is_registry_officer(request.user),
        },
    )


def _filtered_applicants(request: HttpRequest):
    filters = ApplicantFilterForm(request.GET or None)
    queryset = selectors.with_contact_visibility(
        request.user, selectors.applicants_visible_to(request.user)
    )
    queryset = filters.apply(queryset) if request.GET else queryset
    if request.user.role == "hr_officer" and request.GET.get("q"):
        # a name search must not tell an employer a name it may not see yet
        queryset = queryset.filter(contact_visible=True)
    return filters, queryset.order_by("-created_at", "-id")


@login_required
def applicant_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV or XLSX: masked numbers, formula-safe cells."""
    from recruitment.exports import csv_response, xlsx_response
    from recruitment.occupations import occupation_label

    _filters, queryset = _filtered_applicants(request)
    header = [
        _("Name"),
        _("ID number"),
        _("Sex"),
        _("Age"),
        _("Home province"),
        _("Phone"),
        _("Skills"),
        _("Minimum wage (CNY/month)"),
        _("Consent"),
        _("Registered by"),
        _("Registered at"),
    ]

    def rows():
        for a in queryset.iterator(chunk_size=2000):
            hidden = getattr(a, "contact_visible", True) is False
            yield [
                "" if hidden else a.name,
                a.national_id_masked,
                a.get_sex_display(),
                a.age,
                a.home_province.name,
                "" if hidden else a.phone_masked,
                "、".join(occupation_label(code) for code in a.skills),
                a.minimum_wage,
                _("yes") if a.consent_cross_province else _("no"),
                a.registering_bureau.name,
                a.created_at,
            ]

    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit.record_export(
        request,
        what="recruitment.applicant",
        fmt=fmt,
        filters=sorted(key for key, value in request.GET.items() if value and key != "format"),
    )
    if fmt == "xlsx":
        return xlsx_response("applicants.xlsx", header, rows(), title=_("Applicants"))
    return csv_response("applicants.csv", header, rows())


@login_required
@require_http_methods(["GET", "POST"])
def applicant_new(request: HttpRequest) -> HttpResponse:
    if not _is_registry_officer(request.user):
        raise Http404
    form = ApplicantForm(request.POST or None, initial={"consent": False})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                applicant = services.applicant_register(actor=request.user, **form.service_values())
            except DomainError as error:
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                messages.success(
                    request,
                    _("%(name)s is registered.") % {"name": applicant.name},
                )
                return redirect("recruitment:applicant-detail", pk=applicant.pk)
        else:
            status = 400
    return render(
        request, "recruitment/applicants/form.html", {"form": form, "creating": True}, status=status
    )


def _visible_or_404(request: HttpRequest, pk: int) -> Applicant:
    queryset = selectors.with_contact_visibility(
        request.user, selectors.applicants_visible_to(request.user)
    )
    applicant = queryset.filter(pk=pk).first()
    if applicant is None:
        raise Http404
    return applicant


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def applicant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The record, its whitelist entries and history, and (for the registering side) the
    audited reveal of one full number, shown once in this response and never in a URL."""
    applicant = _visible_or_404(request, pk)
    manages = selectors.applicants_registered_by(request.user).filter(pk=pk).exists()
    reveal_form = RevealForm(request.POST or None) if manages else None
    revealed = None
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        if reveal_form.is_valid():
            try:
                revealed = {
                    "field": reveal_form.cleaned_data["field"],
                    "value": services.applicant_reveal(
                        actor=request.user,
                        applicant=applicant,
                        field=reveal_form.cleaned_data["field"],
                        reason=reveal_form.cleaned_data["reason"],
                    ),
                }
                reveal_form = RevealForm()
            except DomainError as error:
                form_add_domain_error(reveal_form, error)
                status = error.status_code
        else:
            status = 400
    entries = selectors.whitelist_entries_visible_to(request.user).filter(applicant=applicant)
    context = {
        "applicant": applicant,
        "manages": manages,
        "reveal_form": reveal_form,
        "revealed": revealed,
        "entries": entries.order_by("importing_province_id"),
        "history": selectors.whitelist_history(request.user, applicant),
        "reveals": selectors.applicant_reveals(request.user, applicant)[:20],
        "contact_hidden": getattr(applicant, "contact_visible", True) is False,
    }
    return render(request, "recruitment/applicants/detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def applicant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    applicant = selectors.applicants_registered_by(request.user).filter(pk=pk).first()
    if applicant is None:
        raise Http404
    initial = {
        "name": applicant.name,
        "phone": "",
        "skills": applicant.skills,
        "preferred_provinces": applicant.preferred_provinces,
        "minimum_wage": applicant.minimum_wage,
        "available_from": applicant.available_from,
        "key_groups": applicant.key_groups,
        "consent": applicant.consent_cross_province,
        "notes": applicant.notes,
    }
    form = ApplicantEditForm(request.POST or None, initial=initial)
    form.fields["phone"].required = False
    form.fields["phone"].help_text = _("Currently %(masked)s. Leave empty to keep it.") % {
        "masked": applicant.phone_masked
    }
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = form.service_values()
            if not values.get("phone"):
                values.pop("phone")
            try:
                services.applicant_update(actor=request.user, applicant=applicant, **values)
            except DomainError as error:
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                messages.success(request, _("The record is updated."))
                return redirect("recruitment:applicant-detail", pk=applicant.pk)
        else:
            status = 400
    return render(
        request,
        "recruitment/applicants/form.html",
        {"form": form, "creating": False, "applicant": applicant},
        status=status,
    )


urlpatterns = [
    path("applicants/", applicant_list, name="applicant-list"),
    path("applicants/new/", applicant_new, name="applicant-new"),
    path("applicants/export/", applicant_export, name="applicant-export"),
    path("applicants/<int:pk>/", applicant_detail, name="applicant-detail"),
    path("applicants/<int:pk>/edit/", applicant_edit, name="applicant-edit"),
]
