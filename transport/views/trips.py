"""Pages: trips — the list with its filters, the create and edit form, the detail with its
seats, bookings and waitlist, the booking forms, the trip's lifecycle (boarding, departure,
arrival, cancellation), the manifest (printable page, CSV, XLSX) and the boarding check on a
phone at the pickup point.

Every trip is read through `selectors.trips_visible_to`, so a trip outside the user's scope
is a 404; a write on a visible trip that the user does not manage is a 403. Writes go
through `transport.services`; their refusals (a full trip, a seat taken …) are shown on the
page with their 4xx status.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from laborlink import audit
from laborlink.errors import DomainError
from laborlink.models import User
from laborlink.views import form_add_domain_error, paginate
from recruitment import exports
from transport import selectors, services
from transport.forms import (
    BoardingForm,
    BookCountyForm,
    BookingCancelForm,
    BookingForm,
    BookPostingForm,
    ChangeSeatForm,
    TripCancelForm,
    TripFilter,
    TripForm,
)
from transport.models import Booking, Trip

SEAT_MAP_MAX = 120  # a seat map for buses and small charters; a train gets the table only
BOOKABLE_SHOWN = 200  # larger groups are booked by posting or by county
RECENT_CHECKS = 8

# The manifest's columns, printed in Chinese (with English alongside on the page).
MANIFEST_COLUMNS = [
    _("Seat"),
    _("Name"),
    _("Sex"),
    _("Age"),
    _("ID number (masked)"),
    _("Phone (masked)"),
    _("Home county code"),
    _("Employer"),
    _("Job posting"),
    _("Status"),
]
MANIFEST_LABELS = {
    "title": _("Passenger manifest"),
    "origin": _("From"),
    "destination": _("To"),
    "departure": _("Departure"),
    "contact": _("Contact"),
    "organiser": _("Organiser"),
    "seats": _("Seats taken"),
    "checked_by": _("Checked by"),
    "driver": _("Driver or conductor"),
    "date": _("Date"),
}
MANIFEST_STATUS_ORDER = ["booked", "boarded", "waitlisted", "refused", "no_show"]


# --- Access ------------------------------------------------------------------------------------


def _visible_trip(request: HttpRequest, pk: int) -> Trip:
    trips = selectors.with_seat_counts(selectors.trips_visible_to(request.user))
    return get_object_or_404(trips, pk=pk)


def _manages(user: User, trip: Trip) -> bool:
    return selectors.trips_managed_by(user).filter(pk=trip.pk).exists()


def _boards(user: User, trip: Trip) -> bool:
    return selectors.trips_boardable_by(user).filter(pk=trip.pk).exists()


def _managed_trip(request: HttpRequest, pk: int) -> Trip:
    trip = _visible_trip(request, pk)
    if not _manages(request.user, trip):
        raise PermissionDenied(_("Only the trip's organiser can change it."))
    return trip


def _boardable_trip(request: HttpRequest, pk: int) -> Trip:
    trip = _visible_trip(request, pk)
    if not _boards(request.user, trip):
        raise PermissionDenied(_("You cannot check boarding on this trip."))
    return trip


def _raise_if_not_found_or_forbidden(error: DomainError) -> None:
    if error.status_code == 404:
        raise Http404 from error
    if error.status_code == 403:
        raise PermissionDenied(str(error.message)) from error


def _add_service_errors(form, error: DomainError) -> None:
    """Put a service's refusal on the form: each message of `details["fields"]` against its
    field (the trip services report every field at once), otherwise as the helper does."""
    fields = (error.details or {}).get("fields")
    if isinstance(fields, dict) and fields:
        for name, message in fields.items():
            form.add_error(name if name in form.fields else None, str(message))
        return
    form_add_domain_error(form, error)


def _seat_percent(trip: Trip) -> int:
    taken = getattr(trip, "seats_taken", 0) or 0
    return min(100, round(100 * taken / trip.seats)) if trip.seats else 0


# --- List, create, edit ------------------------------------------------------------------------


@login_required
def trip_list(request: HttpRequest) -> HttpResponse:
    trips = selectors.with_seat_counts(selectors.trips_visible_to(request.user)).order_by(
        "-departure_at", "-id"
    )
    filterset = TripFilter(request.GET or None, queryset=trips)
    page_obj = paginate(request, filterset.qs)
    for trip in page_obj.object_list:
        trip.seat_percent = _seat_percent(trip)
        trip.seats_free = max(0, trip.seats - trip.seats_taken)
    context = {
        "filter": filterset,
        "page_obj": page_obj,
        "trips": page_obj.object_list,
        "can_create": selectors.organiser_of(request.user) is not None,
    }
    return render(request, "transport/trips/list.html", context)


@login_required
def trip_new(request: HttpRequest) -> HttpResponse:
    organiser = selectors.organiser_of(request.user)
    if organiser is None:
        raise PermissionDenied(_("Only an importing bureau or an employer charters trips."))
    form = TripForm(request.POST or None, initial=TripForm.defaults(organiser.province_id))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                trip = services.trip_create(actor=request.user, **form.service_values())
            except DomainError as error:
                _raise_if_not_found_or_forbidden(error)
                _add_service_errors(form, error)
                status = error.status_code
            else:
                messages.success(request, _("The trip is planned. Book the workers on it now."))
                return redirect("transport:trip-detail", pk=trip.pk)
    return render(request, "transport/trips/form.html", {"form": form, "trip": None}, status=status)


@login_required
def trip_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _managed_trip(request, pk)
    if trip.status != Trip.Status.PLANNED:
        messages.error(request, _("Only a planned trip can be changed."))
        return redirect("transport:trip-detail", pk=trip.pk)
    status = 200
    if request.method == "POST":
        form = TripForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.trip_update(actor=request.user, trip=trip.pk, **form.service_values())
            except DomainError as error:
                _raise_if_not_found_or_forbidden(error)
                _add_service_errors(form, error)
                status = error.status_code
            else:
                messages.success(request, _("The trip is saved."))
                return redirect("transport:trip-detail", pk=trip.pk)
    else:
        form = TripForm(initial=TripForm.initial_from(trip))
    return render(request, "transport/trips/form.html", {"form": form, "trip": trip}, status=status)


# --- Detail and bookings -----------------------------------------------------------------------


def _seat_map(trip: Trip, bookings: list[Booking]) -> list[dict]:
    by_seat = {b.seat: b for b in bookings if b.status in Booking.SEATED_STATUSES}
    return [{"number": n, "booking": by_seat.get(n)} for n in range(1, trip.seats + 1)]


def _detail_context(request: HttpRequest, trip: Trip, **forms) -> dict:
    user = request.user
    bookings = list(selectors.bookings_visible_to(user, trip).order_by("seat", "created_at", "id"))
    seated = [b for b in bookings if b.status in Booking.SEATED_STATUSES]
    waitlist = sorted(
        (b for b in bookings if b.status == Booking.Status.WAITLISTED),
        key=lambda b: (b.created_at, b.pk),
    )
    others = [b for b in bookings if b not in seated and b not in waitlist]
    employer = selectors.employer_of(user)
    sees_all = employer is None or trip.organiser_id == employer.pk
    manages = _manages(user, trip)
    boards = _boards(user, trip)
    context = {
        "trip": trip,
        "seat_percent": _seat_percent(trip),
        "seats_free": max(0, trip.seats - trip.seats_taken),
        "seated": seated,
        "waitlist": waitlist,
        "others": others,
        "sees_all": sees_all,
        "seat_map": _seat_map(trip, seated) if sees_all and trip.seats <= SEAT_MAP_MAX else None,
        "manages": manages,
        "actions": {
            "edit": manages and trip.status == Trip.Status.PLANNED,
            "start_boarding": boards and trip.status == Trip.Status.PLANNED,
            "boarding": boards and trip.status == Trip.Status.BOARDING,
            "depart": boards and trip.is_open,
            "arrive": boards and trip.status == Trip.Status.DEPARTED,
            "cancel": manages and trip.is_open,
        },
        "can_change_bookings": manages and trip.is_open,
        "cancel_form": forms.get("cancel_form") or TripCancelForm(auto_id="id_trip_cancel_%s"),
    }
    if manages and trip.is_open:
        bookable = selectors.placements_bookable(user, trip)
        shown = list(bookable[: BOOKABLE_SHOWN + 1])
        by_posting = (
            bookable.order_by()
            .values("posting_id", "posting__title")
            .annotate(n=Count("id"))
            .order_by("posting_id")
        )
        by_county = (
            bookable.order_by()
            .values("applicant__region_code")
            .annotate(n=Count("id"))
            .order_by("applicant__region_code")
        )
        postings = [
            (row["posting_id"], f"{row['posting__title']} ({row['n']})") for row in by_posting
        ]
        context.update(
            bookable=shown[:BOOKABLE_SHOWN],
            bookable_more=len(shown) > BOOKABLE_SHOWN,
            counties=list(by_county),
            book_form=forms.get("book_form") or BookingForm(bookable=bookable),
            posting_form=forms.get("posting_form") or BookPostingForm(postings=postings),
            county_form=forms.get("county_form") or BookCountyForm(),
        )
        if forms.get("book_form") is not None:
            context["chosen"] = {str(v) for v in request.POST.getlist("placements")}
    return context


def _render_detail(request: HttpRequest, trip: Trip, *, status: int = 200, **forms):
    return render(
        request,
        "transport/trips/detail.html",
        _detail_context(request, trip, **forms),
        status=status,
    )


@login_required
def trip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_trip(request, pk))


def _booked_message(request: HttpRequest, result: services.BookingResult) -> None:
    if result.booked:
        seats = "、".join(str(b.seat) for b in result.booked)
        messages.success(
            request,
            _("%(n)d booked: seats %(seats)s.") % {"n": len(result.booked), "seats": seats},
        )
    if result.waitlisted:
        messages.warning(
            request,
            _("%(n)d on the waitlist: they get a seat when one frees up.")
            % {"n": len(result.waitlisted)},
        )


def _book(request: HttpRequest, trip: Trip, form, form_name: str, call) -> HttpResponse:
    """Run one booking service for a valid form, or show the form's or the service's
    refusal (a full trip is a 409 with the service's message) on the trip page."""
    status = 400
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except DomainError as error:
            _raise_if_not_found_or_forbidden(error)
            form_add_domain_error(form, error)
            messages.error(request, str(error.message))
            status = error.status_code
        else:
            _booked_message(request, result)
            return redirect("transport:trip-detail", pk=trip.pk)
    return _render_detail(request, trip, status=status, **{form_name: form})


@require_POST
@login_required
def trip_book(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _managed_trip(request, pk)
    form = BookingForm(request.POST, bookable=selectors.placements_bookable(request.user, trip))
    return _book(
        request,
        trip,
        form,
        "book_form",
        lambda data: services.booking_create(
            actor=request.user,
            trip=trip.pk,
            placements=[p.pk for p in data["placements"]],
            together=data["together"],
            waitlist=data["waitlist"],
            group_label=data["group_label"],
        ),
    )


@require_POST
@login_required
def trip_book_posting(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _managed_trip(request, pk)
    postings = (
        selectors.placements_bookable(request.user, trip)
        .order_by()
        .values_list("posting_id", "posting__title")
        .distinct()
    )
    form = BookPostingForm(request.POST, postings=list(postings))
    return _book(
        request,
        trip,
        form,
        "posting_form",
        lambda data: services.booking_create_for_posting(
            actor=request.user,
            trip=trip.pk,
            posting=data["posting"],
            together=data["together"],
            waitlist=data["waitlist"],
        ),
    )


@require_POST
@login_required
def trip_book_county(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _managed_trip(request, pk)
    form = BookCountyForm(request.POST)
    return _book(
        request,
        trip,
        form,
        "county_form",
        lambda data: services.booking_create_for_county(
            actor=request.user,
            trip=trip.pk,
            region_code=data["region_code"],
            together=data["together"],
            waitlist=data["waitlist"],
        ),
    )


def _managed_booking(request: HttpRequest, pk: int) -> tuple[Trip, Booking]:
    booking = get_object_or_404(selectors.bookings_visible_to(request.user), pk=pk)
    return _managed_trip(request, booking.trip_id), booking


def _booking_change(request: HttpRequest, pk: int, form_class, call, success) -> HttpResponse:
    trip, booking = _managed_booking(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(booking, form.cleaned_data)
        except DomainError as error:
            _raise_if_not_found_or_forbidden(error)
            messages.error(request, str(error.message))
            return _render_detail(request, trip, status=error.status_code)
        messages.success(request, success)
        return redirect("transport:trip-detail", pk=trip.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return _render_detail(request, trip, status=400)


@require_POST
@login_required
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _booking_change(
        request,
        pk,
        BookingCancelForm,
        lambda booking, data: services.booking_cancel(
            actor=request.user, booking=booking.pk, reason=data["reason"]
        ),
        _("The booking is cancelled."),
    )


@require_POST
@login_required
def booking_change_seat(request: HttpRequest, pk: int) -> HttpResponse:
    return _booking_change(
        request,
        pk,
        ChangeSeatForm,
        lambda booking, data: services.booking_change_seat(
            actor=request.user, booking=booking.pk, seat=data["seat"], reason=data["reason"]
        ),
        _("The seat is changed."),
    )


# --- The trip's lifecycle ----------------------------------------------------------------------


def _transition(request: HttpRequest, trip: Trip, call, success) -> HttpResponse:
    try:
        call()
    except DomainError as error:
        _raise_if_not_found_or_forbidden(error)
        messages.error(request, str(error.message))
        return _render_detail(request, trip, status=error.status_code)
    messages.success(request, success)
    return redirect("transport:trip-detail", pk=trip.pk)


@require_POST
@login_required
def trip_start_boarding(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _boardable_trip(request, pk)
    response = _transition(
        request,
        trip,
        lambda: services.trip_start_boarding(actor=request.user, trip=trip.pk),
        _("Boarding has started."),
    )
    if response.status_code == 302:
        return redirect("transport:trip-boarding", pk=trip.pk)
    return response


@require_POST
@login_required
def trip_depart(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _boardable_trip(request, pk)
    return _transition(
        request,
        trip,
        lambda: services.trip_depart(actor=request.user, trip=trip.pk),
        _("The trip has left. Workers who did not board are recorded as no-shows."),
    )


@require_POST
@login_required
def trip_arrive(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _boardable_trip(request, pk)
    return _transition(
        request,
        trip,
        lambda: services.trip_arrive(actor=request.user, trip=trip.pk),
        _("The trip has arrived. The employers confirm each worker's arrival."),
    )


@require_POST
@login_required
def trip_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _managed_trip(request, pk)
    form = TripCancelForm(request.POST, auto_id="id_trip_cancel_%s")
    if not form.is_valid():
        return _render_detail(request, trip, status=400, cancel_form=form)
    return _transition(
        request,
        trip,
        lambda: services.trip_cancel(
            actor=request.user, trip=trip.pk, reason=form.cleaned_data["reason"]
        ),
        _("The trip is cancelled; its workers can be booked on another trip."),
    )


# --- Manifest ----------------------------------------------------------------------------------


def _manifest_bookings(request: HttpRequest, trip: Trip) -> list[Booking]:
    """The passengers: seated first by seat, then the waitlist, then those who did not
    travel (cancelled bookings are left out)."""
    bookings = selectors.bookings_visible_to(request.user, trip).exclude(
        status=Booking.Status.CANCELLED
    )
    order = {status: n for n, status in enumerate(MANIFEST_STATUS_ORDER)}
    seated = set(Booking.SEATED_STATUSES)
    return sorted(
        bookings,
        key=lambda b: (
            0 if b.status in seated else 1 + order.get(b.status, 9),
            b.seat or 0,
            b.created_at,
            b.pk,
        ),
    )


def _manifest_row(booking: Booking) -> list:
    applicant = booking.placement.applicant
    posting = booking.placement.posting
    return [
        booking.seat,
        applicant.name,
        applicant.get_sex_display(),
        applicant.age,
        applicant.national_id_masked,
        applicant.phone_masked,
        applicant.region_code,
        posting.employer.name,
        posting.title,
        booking.get_status_display(),
    ]


@login_required
def trip_manifest(request: HttpRequest, pk: int) -> HttpResponse:
    trip = _visible_trip(request, pk)
    bookings = _manifest_bookings(request, trip)
    context = {
        "trip": trip,
        "columns": MANIFEST_COLUMNS,
        "labels": MANIFEST_LABELS,
        "bookings": bookings,
        "rows": [_manifest_row(b) for b in bookings],
    }
    return render(request, "transport/trips/manifest.html", context)


def _manifest_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    trip = _visible_trip(request, pk)
    bookings = _manifest_bookings(request, trip)
    with translation.override("zh-hans"):
        header = [str(label) for label in MANIFEST_COLUMNS]
        # built here, in Chinese: the download streams after this block
        rows = [_manifest_row(b) for b in bookings]
        title = str(_("Manifest"))
    filename = f"manifest-{trip.pk}-{trip.departure_at:%Y%m%d}.{kind}"
    audit.record_export(request, what="transport.trip", fmt=kind, object_id=trip.pk, rows=len(rows))
    if kind == "xlsx":
        return exports.xlsx_response(filename, header, rows, title=title)
    return exports.csv_response(filename, header, rows)


@login_required
def trip_manifest_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return _manifest_download(request, pk, "csv")


@login_required
def trip_manifest_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    return _manifest_download(request, pk, "xlsx")


# --- Boarding ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def trip_boarding(request: HttpRequest, pk: int) -> HttpResponse:
    """The boarding check at the door: scan, type or photograph the worker's certificate;
    the page says boarded (green) or refused and why (red), and counts who is on board. The
    token travels in the POST body only."""
    if request.method == "GET" and request.GET:
        return redirect(request.path)
    trip = _boardable_trip(request, pk)
    form = BoardingForm()
    check = None
    status = 200
    if request.method == "POST":
        form = BoardingForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                check = services.boarding_check(
                    actor=request.user, trip=trip.pk, certificate=form.cleaned_data["certificate"]
                )
            except DomainError as error:
                _raise_if_not_found_or_forbidden(error)
                form_add_domain_error(form, error)
                status = error.status_code
            else:
                status = 200
                form = BoardingForm()  # the token is not echoed back
                trip = _visible_trip(request, pk)  # the new count
    recent = (
        selectors.bookings_visible_to(request.user, trip)
        .filter(checked_at__isnull=False)
        .order_by("-checked_at", "-id")[:RECENT_CHECKS]
    )
    context = {"trip": trip, "form": form, "check": check, "recent": recent}
    return render(request, "transport/trips/boarding.html", context, status=status)


urlpatterns = [
    path("trips/", trip_list, name="trip-list"),
    path("trips/new/", trip_new, name="trip-new"),
    path("trips/<int:pk>/", trip_detail, name="trip-detail"),
    path("trips/<int:pk>/edit/", trip_edit, name="trip-edit"),
    path("trips/<int:pk>/book/", trip_book, name="trip-book"),
    path("trips/<int:pk>/book/posting/", trip_book_posting, name="trip-book-posting"),
    path("trips/<int:pk>/book/county/", trip_book_county, name="trip-book-county"),
    path("trips/<int:pk>/start-boarding/", trip_start_boarding, name="trip-start-boarding"),
    path("trips/<int:pk>/boarding/", trip_boarding, name="trip-boarding"),
    path("trips/<int:pk>/depart/", trip_depart, name="trip-depart"),
    path("trips/<int:pk>/arrive/", trip_arrive, name="trip-arrive"),
    path("trips/<int:pk>/cancel/", trip_cancel, name="trip-cancel"),
    path("trips/<int:pk>/manifest/", trip_manifest, name="trip-manifest"),
    path("trips/<int:pk>/manifest.csv", trip_manifest_csv, name="trip-manifest-csv"),
    path("trips/<int:pk>/manifest.xlsx", trip_manifest_xlsx, name="trip-manifest-xlsx"),
    path("bookings/<int:pk>/cancel/", booking_cancel, name="booking-cancel"),
    path("bookings/<int:pk>/seat/", booking_change_seat, name="booking-seat"),
]
