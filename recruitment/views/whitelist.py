"""Pages: whitelist review (exporting bureau), decided entries, countersignature (importing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from laborlink.access import acting_organization
from laborlink.errors import DomainError
from laborlink.models import Province
from laborlink.selectors import cooperating_importing_provinces
from laborlink.views import bounded_count, paginate
from recruitment import selectors, services
from recruitment.forms.whitelist import EntriesActionForm, EntryFilterForm, ReviewDecisionForm
from recruitment.models import WhitelistEntry

# A province's queue may hold hundreds of thousands of applicants: count up to this many.
REVIEW_COUNT_LIMIT = 1_000


def _require_bureau_officer(request: HttpRequest) -> str:
    bureau = acting_organization(request.user, ["bureau_officer"], "bureau")
    if bureau is None:
        raise Http404
    return bureau.province_id


def _report(request: HttpRequest, count: int, message: str) -> None:
    messages.success(request, message % {"count": count})


@login_required
@require_http_methods(["GET", "POST"])
def review_queue(request: HttpRequest) -> HttpResponse:
    """The exporting bureau's queue for one cooperating importing province."""
    code = _require_bureau_officer(request)
    provinces = list(cooperating_importing_provinces(exporting=code))
    chosen = request.GET.get("province") or (provinces[0].code if provinces else "")
    province = next((p for p in provinces if p.code == chosen), None)
    if provinces and province is None:
        raise Http404
    include_decided = request.GET.get("include_decided") == "1"
    queue = (
        selectors.applicants_for_review(
            request.user, province=chosen, include_decided=include_decided
        )
        .filter(consent_cross_province=True)
        .order_by("created_at", "id")
        if province
        else selectors.applicants_for_review(request.user, province="").none()
    )
    page = paginate(request, queue, per_page=50, count_limit=REVIEW_COUNT_LIMIT)
    returned = {
        entry.applicant_id: entry
        for entry in WhitelistEntry.objects.filter(
            applicant__in=[a.pk for a in page.object_list],
            importing_province_id=chosen,
            countersign=WhitelistEntry.Countersign.RETURNED,
        )
    }
    form = ReviewDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST" and province is not None:
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == "approve":
                    done = services.whitelist_approve(
                        actor=request.user,
                        applicants=data["applicants"],
                        importing_province=chosen,
                        expires_on=data["expires_on"],
                        reason=data["reason"],
                    )
                    _report(request, len(done), _("%(count)d applicants approved."))
                else:
                    done = services.whitelist_reject(
                        actor=request.user,
                        applicants=data["applicants"],
                        importing_province=chosen,
                        reason=data["reason"],
                    )
                    _report(request, len(done), _("%(count)d applicants rejected."))
            except DomainError as error:
                messages.error(request, str(error.message))
                status = error.status_code
            else:
                return redirect(request.get_full_path())
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            status = 400
    without_consent = (
        bounded_count(
            selectors.applicants_for_review(request.user, province=chosen).filter(
                consent_cross_province=False
            ),
            REVIEW_COUNT_LIMIT,
        )
        if province
        else 0
    )
    context = {
        "provinces": provinces,
        "province": province,
        "page_obj": page,
        "returned": returned,
        "form": form,
        "without_consent": min(without_consent, REVIEW_COUNT_LIMIT),
        "without_consent_capped": without_consent > REVIEW_COUNT_LIMIT,
        "count_limit": REVIEW_COUNT_LIMIT,
        "include_decided": include_decided,
    }
    return render(request, "recruitment/whitelist/review.html", context, status=status)


def _entries_page(request, queryset, *, provinces, template, action_names, extra=None):
    filters = EntryFilterForm(request.GET or None, provinces=provinces)
    queryset = filters.apply(queryset) if request.GET else queryset
    page = paginate(request, queryset.order_by("-updated_at", "-id"), per_page=50)
    form = EntriesActionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["action"] in action_names:
            data = form.cleaned_data
            try:
                if data["action"] == "revoke":
                    done = services.whitelist_revoke(
                        actor=request.user, entries=data["entries"], reason=data["reason"]
                    )
                    _report(request, len(done), _("%(count)d approvals revoked."))
                elif data["action"] == "countersign":
                    done = services.whitelist_countersign(
                        actor=request.user, entries=data["entries"]
                    )
                    _report(request, len(done), _("%(count)d entries countersigned."))
                else:
                    done = services.whitelist_return(
                        actor=request.user, entries=data["entries"], reason=data["reason"]
                    )
                    _report(request, len(done), _("%(count)d entries returned for correction."))
            except DomainError as error:
                messages.error(request, str(error.message))
                status = error.status_code
            else:
                return redirect(request.get_full_path())
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            status = 400
    context = {"page_obj": page, "filters": filters, "today": timezone.localdate(), **(extra or {})}
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def decided_entries(request: HttpRequest) -> HttpResponse:
    """The exporting side's decisions: filter, and revoke approvals with a reason."""
    code = _require_bureau_officer(request)
    own = selectors.whitelist_entries_visible_to(request.user).filter(
        applicant__in=selectors.applicants_registered_by(request.user).values("pk")
    )
    return _entries_page(
        request,
        own,
        provinces=list(cooperating_importing_provinces(exporting=code)),
        template="recruitment/whitelist/decided.html",
        action_names={"revoke"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def countersign_queue(request: HttpRequest) -> HttpResponse:
    """The importing side: approvals shared with this province, to countersign or return."""
    code = _require_bureau_officer(request)
    shared = selectors.whitelist_entries_visible_to(request.user).filter(
        importing_province_id=code, status=WhitelistEntry.Status.APPROVED
    )
    return _entries_page(
        request,
        shared,
        provinces=list(Province.objects.filter(code=code)),
        template="recruitment/whitelist/countersign.html",
        action_names={"countersign", "return"},
        extra={
            "awaiting": selectors.whitelist_for_countersign(request.user).count(),
        },
    )


urlpatterns = [
    path("whitelist/review/", review_queue, name="whitelist-review"),
    path("whitelist/decided/", decided_entries, name="whitelist-decided"),
    path("whitelist/countersign/", countersign_queue, name="whitelist-countersign"),
]
