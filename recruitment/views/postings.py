"""Pages: job postings — the list with its filters, the detail, the create and edit form, and
the publish / pause / close actions of the employer's HR officer.

Reads go through `selectors.postings_visible_to`, so a posting outside the user's scope is a
404; writes go through the posting services, whose refusals are shown next to their field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from laborlink import outbox
from laborlink.access import acting_organization
from laborlink.errors import DomainError
from laborlink.models import Organization, User
from laborlink.views import form_add_domain_error, paginate
from recruitment import selectors, services
from recruitment.forms.postings import PostingFilter, PostingForm
from recruitment.models import JobPosting
from recruitment.notices import NOTIFYING_DELAYED

Status = JobPosting.Status
EDITABLE = {Status.DRAFT, Status.OPEN, Status.PAUSED}
PUBLISHABLE = {Status.DRAFT, Status.PAUSED}
CLOSABLE = {Status.DRAFT, Status.OPEN, Status.PAUSED}


def _employer_of(user: User) -> Organization | None:
    """The employer an HR officer manages postings for (None for everyone else)."""
    return acting_organization(user, [User.Role.HR_OFFICER], Organization.Kind.EMPLOYER)


def _require_employer(user: User) -> Organization:
    employer = _employer_of(user)
    if employer is None:
        raise PermissionDenied(_("Only an employer's HR officer can manage job postings."))
    return employer


def _visible_posting(request: HttpRequest, pk: int) -> JobPosting:
    return get_object_or_404(selectors.postings_visible_to(request.user), pk=pk)


def _actions_for(user: User, posting: JobPosting) -> dict[str, bool]:
    """Which buttons the detail page shows; the services decide whether the action is
    allowed when it is submitted."""
    owner = _employer_of(user)
    if owner is None or owner.pk != posting.employer_id:
        return {}
    return {
        "edit": posting.status in EDITABLE,
        "publish": posting.status in PUBLISHABLE,
        "pause": posting.status == Status.OPEN,
        "close": posting.status in CLOSABLE,
    }


@login_required
def posting_list(request: HttpRequest) -> HttpResponse:
    filterset = PostingFilter(
        request.GET or None,
        queryset=selectors.postings_visible_to(request.user),
        user=request.user,
    )
    page_obj = paginate(request, filterset.qs)
    context = {
        "filter": filterset,
        "page_obj": page_obj,
        "postings": page_obj.object_list,
        "can_create": _employer_of(request.user) is not None,
    }
    return render(request, "recruitment/postings/list.html", context)


@login_required
def posting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    context = {
        "posting": posting,
        "targets": posting.target_provinces.all(),
        "actions": _actions_for(request.user, posting),
        # the people who accepted (the employer sees them, names included, once accepted)
        "placements": selectors.placements_on_posting(request.user, posting),
    }
    return render(request, "recruitment/postings/detail.html", context)


@login_required
def posting_new(request: HttpRequest) -> HttpResponse:
    employer = _require_employer(request.user)
    form = PostingForm(request.POST or None, employer=employer)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            publish = "publish" in request.POST
            try:
                # "Save and publish" does both or neither: a refused publication saves nothing.
                with outbox.deliveries() as delivery, transaction.atomic():
                    posting = services.posting_create(actor=request.user, **form.service_values())
                    if publish:
                        posting = services.posting_publish(actor=request.user, posting=posting)
            except DomainError as error:
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                if publish and delivery.delayed:
                    messages.warning(request, NOTIFYING_DELAYED)
                elif publish:
                    messages.success(request, _("The posting is saved and published."))
                else:
                    messages.success(request, _("The posting is saved as a draft."))
                return redirect("recruitment:posting-detail", pk=posting.pk)
    context = {"form": form, "posting": None}
    return render(request, "recruitment/postings/form.html", context, status=status)


@login_required
def posting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    employer = _require_employer(request.user)
    if posting.employer_id != employer.pk:
        raise Http404
    if posting.status not in EDITABLE:
        messages.error(request, _("A closed or filled posting cannot be edited."))
        return redirect("recruitment:posting-detail", pk=posting.pk)
    if request.method == "POST":
        form = PostingForm(request.POST, employer=employer)
        status = 400
        if form.is_valid():
            try:
                services.posting_update(
                    actor=request.user, posting=posting.pk, **form.service_values()
                )
            except DomainError as error:
                if error.status_code == 404:
                    raise Http404 from error
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                messages.success(request, _("The posting is saved."))
                return redirect("recruitment:posting-detail", pk=posting.pk)
    else:
        form = PostingForm(initial=PostingForm.initial_from(posting), employer=employer)
        status = 200
    context = {"form": form, "posting": posting}
    return render(request, "recruitment/postings/form.html", context, status=status)


def _transition(
    request: HttpRequest, pk: int, service, success_message, delayed_message=None
) -> HttpResponse:
    posting = _visible_posting(request, pk)
    try:
        with outbox.deliveries() as delivery:
            service(actor=request.user, posting=posting.pk)
    except DomainError as error:
        if error.status_code == 404:
            raise Http404 from error
        messages.error(request, str(error.message))
    else:
        if delivery.delayed and delayed_message:
            messages.warning(request, delayed_message)  # the broker is down: work waits
        else:
            messages.success(request, success_message)
    return redirect("recruitment:posting-detail", pk=posting.pk)


@require_POST
@login_required
def posting_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request,
        pk,
        services.posting_publish,
        _("The posting is published."),
        delayed_message=NOTIFYING_DELAYED,
    )


@require_POST
@login_required
def posting_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.posting_pause, _("The posting is paused."))


@require_POST
@login_required
def posting_close(request: HttpRequest, pk: int) -> HttpResponse:
    if request.POST.get("confirm") != "yes":
        _visible_posting(request, pk)
        messages.error(request, _("Tick the box to confirm that the posting is to be closed."))
        return redirect("recruitment:posting-detail", pk=pk)
    return _transition(request, pk, services.posting_close, _("The posting is closed."))


urlpatterns = [
    path("postings/", posting_list, name="posting-list"),
    path("postings/new/", posting_new, name="posting-new"),
    path("postings/<int:pk>/", posting_detail, name="posting-detail"),
    path("postings/<int:pk>/edit/", posting_edit, name="posting-edit"),
    path("postings/<int:pk>/publish/", posting_publish, name="posting-publish"),
    path("postings/<int:pk>/pause/", posting_pause, name="posting-pause"),
    path("postings/<int:pk>/close/", posting_close, name="posting-close"),
]
