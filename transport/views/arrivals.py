"""Pages: arrivals and the workers on post (the employer's HR officer) — confirm a worker's
arrival with the arrival health check, report that a worker has left, report absences — and
the flags that the bureaus follow up.

The employer's lists come from `transport.selectors.arrivals_awaiting` and
`recruitment.selectors.placements_of_employer`; a placement outside them is a 404. Each
arrival form carries a request key made when the page is rendered, so a form submitted twice
(a double tap on a phone, a resent request) records one arrival.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from laborlink.access import acting_organization
from laborlink.errors import DomainError
from laborlink.models import Organization, User
from laborlink.views import form_add_domain_error, paginate
from recruitment import placements as placement_services
from recruitment import selectors as recruitment_selectors
from recruitment.models import Placement
from transport import selectors, services
from transport.forms import (
    AbsenceForm,
    ArrivalForm,
    DepartureForm,
    FlagFilterForm,
    FlagResolveForm,
)
from transport.models import Booking


def _require_employer(user: User) -> Organization:
    employer = acting_organization(user, [User.Role.HR_OFFICER], Organization.Kind.EMPLOYER)
    if employer is None:
        raise PermissionDenied(_("Only an employer's HR officer confirms arrivals."))
    return employer


def _require_bureau(user: User) -> Organization:
    bureau = acting_organization(user, [User.Role.BUREAU_OFFICER], Organization.Kind.BUREAU)
    if bureau is None:
        raise PermissionDenied(_("Only a bureau officer follows up flags."))
    return bureau


def _raise_if_not_found_or_forbidden(error: DomainError) -> None:
    if error.status_code == 404:
        raise Http404 from error
    if error.status_code == 403:
        raise PermissionDenied(str(error.message)) from error


def _with_trip(placements):
    """The trip each worker travelled on (one query for the page)."""
    travelled = Booking.objects.filter(
        status__in=[Booking.Status.BOARDED, Booking.Status.BOOKED]
    ).select_related("trip")
    return placements.prefetch_related(Prefetch("bookings", travelled, to_attr="travel"))


def _on_post(user: User):
    return recruitment_selectors.placements_of_employer(user).filter(
        status__in=Placement.ON_POST_STATUSES
    )


# --- The employer's page -----------------------------------------------------------------------


def _arrivals_page(request: HttpRequest, *, status: int = 200, bound=None) -> HttpResponse:
    """The page, with `bound` = (kind, placement id, form) shown in place of that row's fresh
    form after a refused submission."""
    user = request.user
    _require_employer(user)
    kind_bound, pk_bound, form_bound = bound or ("", None, None)

    awaiting = paginate(request, _with_trip(selectors.arrivals_awaiting(user)))
    for placement in awaiting.object_list:
        placement.trip_booking = placement.travel[0] if placement.travel else None
        if kind_bound == "arrival" and placement.pk == pk_bound:
            placement.arrival_form = form_bound
        else:
            placement.arrival_form = ArrivalForm(placement_id=placement.pk)

    on_post = _paginate_on_post(request, _on_post(user))
    for placement in on_post.object_list:
        placement.departure_form = (
            form_bound
            if kind_bound == "departure" and placement.pk == pk_bound
            else DepartureForm(placement_id=placement.pk)
        )
        placement.absence_form = (
            form_bound
            if kind_bound == "absence" and placement.pk == pk_bound
            else AbsenceForm(placement_id=placement.pk)
        )
        placement.open_form = kind_bound if placement.pk == pk_bound else ""
    context = {"page_obj": awaiting, "awaiting": awaiting.object_list, "on_post": on_post}
    return render(request, "transport/arrivals/list.html", context, status=status)


def _paginate_on_post(request: HttpRequest, queryset):
    from django.core.paginator import Paginator

    from laborlink.views import PAGE_SIZE

    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("on_post_page"))


@login_required
def arrival_list(request: HttpRequest) -> HttpResponse:
    return _arrivals_page(request)


def _employer_placement(request: HttpRequest, queryset, pk: int) -> Placement:
    _require_employer(request.user)
    return get_object_or_404(queryset, pk=pk)


@require_POST
@login_required
def arrival_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    # A placement already confirmed is no longer awaiting: a second submission of the same
    # form still reaches the service, which answers from its request key.
    placement = _employer_placement(request, recruitment_selectors.placements_of_employer(user), pk)
    form = ArrivalForm(request.POST, placement_id=placement.pk)
    if not form.is_valid():
        return _arrivals_page(request, status=400, bound=("arrival", placement.pk, form))
    try:
        result = services.arrival_confirm(
            actor=user,
            placement=placement.pk,
            result=form.cleaned_data["result"],
            notes=form.cleaned_data["notes"],
            request_key=form.cleaned_data["request_key"],
        )
    except DomainError as error:
        _raise_if_not_found_or_forbidden(error)
        form_add_domain_error(form, error)
        messages.error(request, str(error.message))
        return _arrivals_page(request, status=error.status_code, bound=("arrival", pk, form))
    name = result.placement.applicant.name
    if not result.created:
        messages.info(request, _("%(name)s's arrival was already recorded.") % {"name": name})
    elif result.placement.status == Placement.Status.ARRIVED:
        messages.success(
            request, _("%(name)s has arrived and passed the check: on post.") % {"name": name}
        )
    elif result.placement.status == Placement.Status.REFERRED:
        messages.warning(
            request,
            _("%(name)s is referred to a doctor; confirm again after the follow-up.")
            % {"name": name},
        )
    else:
        messages.warning(
            request,
            _("%(name)s did not pass the check and returns home; the position is free again.")
            % {"name": name},
        )
    return redirect("transport:arrival-list")


@require_POST
@login_required
def placement_departure(request: HttpRequest, pk: int) -> HttpResponse:
    placement = _employer_placement(request, _on_post(request.user), pk)
    form = DepartureForm(request.POST, placement_id=placement.pk)
    if form.is_valid():
        try:
            placement_services.placement_report_departure(
                actor=request.user,
                placement=placement.pk,
                left_on=form.cleaned_data["left_on"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _raise_if_not_found_or_forbidden(error)
            form_add_domain_error(form, error)
            messages.error(request, str(error.message))
            return _arrivals_page(
                request, status=error.status_code, bound=("departure", placement.pk, form)
            )
        messages.success(
            request,
            _("%(name)s is recorded as having left.") % {"name": placement.applicant.name},
        )
        return redirect("transport:arrival-list")
    return _arrivals_page(request, status=400, bound=("departure", placement.pk, form))


@require_POST
@login_required
def placement_absence(request: HttpRequest, pk: int) -> HttpResponse:
    placement = _employer_placement(request, _on_post(request.user), pk)
    form = AbsenceForm(request.POST, placement_id=placement.pk)
    if form.is_valid():
        try:
            recorded = placement_services.absence_report(
                actor=request.user, placement=placement.pk, days=form.cleaned_data["days"]
            )
        except DomainError as error:
            _raise_if_not_found_or_forbidden(error)
            form_add_domain_error(form, error)
            messages.error(request, str(error.message))
            return _arrivals_page(
                request, status=error.status_code, bound=("absence", placement.pk, form)
            )
        messages.success(
            request,
            _("%(n)d day(s) of absence recorded for %(name)s.")
            % {"n": recorded, "name": placement.applicant.name},
        )
        return redirect("transport:arrival-list")
    return _arrivals_page(request, status=400, bound=("absence", placement.pk, form))


# --- Flags -------------------------------------------------------------------------------------


def _flags_page(request: HttpRequest, *, status: int = 200, bound=None) -> HttpResponse:
    _require_bureau(request.user)
    filter_form = FlagFilterForm(request.GET or None)
    flags = filter_form.apply(recruitment_selectors.flags_visible_to(request.user))
    page_obj = paginate(request, flags)
    pk_bound, form_bound = bound or (None, None)
    for flag in page_obj.object_list:
        if flag.resolved_at is None:
            flag.resolve_form = (
                form_bound if flag.pk == pk_bound else FlagResolveForm(flag_id=flag.pk)
            )
    context = {"filter_form": filter_form, "page_obj": page_obj, "flags": page_obj.object_list}
    return render(request, "transport/arrivals/flags.html", context, status=status)


@login_required
def flag_list(request: HttpRequest) -> HttpResponse:
    return _flags_page(request)


@require_POST
@login_required
def flag_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    _require_bureau(request.user)
    flag = get_object_or_404(recruitment_selectors.flags_visible_to(request.user), pk=pk)
    form = FlagResolveForm(request.POST, flag_id=flag.pk)
    if form.is_valid():
        try:
            placement_services.flag_resolve(
                actor=request.user, flag=flag.pk, resolution=form.cleaned_data["resolution"]
            )
        except DomainError as error:
            _raise_if_not_found_or_forbidden(error)
            form_add_domain_error(form, error)
            messages.error(request, str(error.message))
            return _flags_page(request, status=error.status_code, bound=(flag.pk, form))
        messages.success(request, _("The flag is resolved."))
        return redirect("transport:flag-list")
    return _flags_page(request, status=400, bound=(flag.pk, form))


urlpatterns = [
    path("arrivals/", arrival_list, name="arrival-list"),
    path("arrivals/<int:pk>/confirm/", arrival_confirm, name="arrival-confirm"),
    path("placements/<int:pk>/departure/", placement_departure, name="placement-departure"),
    path("placements/<int:pk>/absence/", placement_absence, name="placement-absence"),
    path("flags/", flag_list, name="flag-list"),
    path("flags/<int:pk>/resolve/", flag_resolve, name="flag-resolve"),
]
