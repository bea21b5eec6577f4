"""Pages of the matching app: runs (list, request, detail with live progress) and matches."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from laborlink import outbox
from laborlink.access import acting_organization, is_platform_admin
from laborlink.errors import DomainError
from laborlink.views import paginate
from matching import selectors, services
from matching.models import Match, MatchRun


class RunRequestForm(forms.Form):
    algorithm = forms.ChoiceField(
        label=gettext_lazy("Algorithm"),
        choices=MatchRun.Algorithm.choices,
        initial=MatchRun.Algorithm.OPTIMAL,
    )


class MatchFilterForm(forms.Form):
    run = forms.IntegerField(label=gettext_lazy("Run"), required=False, min_value=1)
    posting = forms.IntegerField(label=gettext_lazy("Posting"), required=False, min_value=1)
    applicant = forms.IntegerField(label=gettext_lazy("Applicant"), required=False, min_value=1)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *Match.Status.choices],
    )


def _may_request(user) -> bool:
    return is_platform_admin(user) or (
        acting_organization(user, ["bureau_officer"], "bureau") is not None
    )


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_visible_to(request.user)
    if not _may_request(request.user):
        raise Http404
    return render(
        request,
        "matching/runs.html",
        {
            "page_obj": paginate(request, runs.order_by("-requested_at", "-id")),
            "form": RunRequestForm(),
        },
    )


@login_required
@require_POST
def run_new(request: HttpRequest) -> HttpResponse:
    if not _may_request(request.user):
        raise Http404
    form = RunRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an algorithm."))
        return redirect("matching:run-list")
    try:
        with outbox.deliveries() as delivery:
            run = services.run_request(actor=request.user, algorithm=form.cleaned_data["algorithm"])
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("matching:run-list")
    if delivery.delayed:
        messages.warning(request, services.run_delayed_message(run))
    else:
        messages.success(request, _("Matching run #%(id)s requested.") % {"id": run.pk})
    return redirect("matching:run-detail", pk=run.pk)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.runs_visible_to(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404
    pairs = (
        selectors.matches_visible_to(request.user)
        .filter(run=run)
        .values("exporting_province__name_zh", "importing_province__name_zh")
        .annotate(matches=Count("id"), score=Sum("score"))
        .order_by("-matches")
    )
    removed = (run.counts or {}).get("removed_by_rule", {})
    context = {
        "run": run,
        "pairs": pairs,
        "removed": sorted(removed.items(), key=lambda item: -item[1]) if removed else [],
        "progress": services.run_progress(run.pk),
        "active": run.status in (MatchRun.Status.REQUESTED, MatchRun.Status.RUNNING),
    }
    return render(request, "matching/run.html", context)


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = selectors.runs_visible_to(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404
    progress = services.run_progress(run.pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
            "phase": progress.get("phase", ""),
            "percent": 100 if run.status == MatchRun.Status.DONE else progress.get("percent", 0),
        }
    )


@login_required
def match_list(request: HttpRequest) -> HttpResponse:
    from matching.scoring import explain

    filters = MatchFilterForm(request.GET or None)
    queryset = selectors.with_contact_visibility(
        request.user, selectors.matches_visible_to(request.user)
    )
    latest = selectors.latest_run()
    if filters.is_valid() and filters.cleaned_data.get("run"):
        queryset = queryset.filter(run_id=filters.cleaned_data["run"])
    elif latest is not None:
        queryset = queryset.filter(run=latest)
    else:
        queryset = queryset.none()
    if filters.is_valid():
        data = filters.cleaned_data
        for name in ("posting", "applicant"):
            if data.get(name):
                queryset = queryset.filter(**{f"{name}_id": data[name]})
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
    page = paginate(request, queryset.order_by("posting_id", "-score", "applicant_id"), per_page=50)
    from recruitment.selectors import applicants_registered_by

    managed = set(
        applicants_registered_by(request.user)
        .filter(pk__in=[m.applicant_id for m in page.object_list])
        .values_list("pk", flat=True)
    )
    rows = [
        (match, explain(match.breakdown, weights=match.run.weights), match.applicant_id in managed)
        for match in page.object_list
    ]
    return render(
        request,
        "matching/matches.html",
        {"page_obj": page, "rows": rows, "filters": filters, "latest": latest},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The applicant's phone page: the job, and accept or decline (no account needed)."""
    from matching import offers

    try:
        match = offers.offer_for_token(token)
    except offers.OfferUnavailable as error:
        return render(request, "matching/offer.html", {"error": error}, status=error.status_code)
    answered = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("answer")
        try:
            if action == "accept":
                match = offers.offer_accept(token)
            elif action == "decline":
                match = offers.offer_decline(token)
            else:
                raise DomainError(_("Choose to accept or decline."))
            answered = match.status
        except DomainError as error:
            messages.error(request, str(error.message))
            status = error.status_code
            match.refresh_from_db()
    closed = None
    if answered is None:
        try:
            offers.offer_check_open(match)
        except offers.OfferUnavailable as error:
            closed = error
    return render(
        request,
        "matching/offer.html",
        {"match": match, "posting": match.posting, "answered": answered, "closed": closed},
        status=status,
    )


@login_required
@require_POST
def answer_by_phone(request: HttpRequest, pk: int) -> HttpResponse:
    from matching import offers

    accept = request.POST.get("answer") == "accept"
    try:
        match = offers.offer_answer_by_phone(actor=request.user, match=pk, accept=accept)
    except DomainError as error:
        if error.status_code == 404:
            raise Http404 from error
        if error.status_code == 403:  # not a bureau officer: refused, and logged as such
            raise PermissionDenied(str(error.message)) from error
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Answer recorded: %(answer)s.") % {"answer": match.get_status_display()},
        )
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "matching:match-list"
    return redirect(target)


offer_urlpatterns = [path("offer/<str:token>/", offer_page, name="offer")]


urlpatterns = [
    path("runs/", run_list, name="run-list"),
    path("runs/new/", run_new, name="run-new"),
    path("runs/<int:pk>/", run_detail, name="run-detail"),
    path("runs/<int:pk>/progress/", run_progress, name="run-progress"),
    path("matches/", match_list, name="match-list"),
    path("matches/<int:pk>/answer/", answer_by_phone, name="answer-by-phone"),
]
