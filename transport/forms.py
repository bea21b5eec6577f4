"""Forms of the transport pages: trips, bookings, boarding, arrivals, departures, absences and
flags.

They check types and required fields only; every business rule (the seats, the provinces,
the lifecycle of a placement …) is the services' and comes back as a `DomainError`, shown
next to its field.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from health.forms import MAX_IMAGE_BYTES, MAX_TOKEN_LENGTH, read_qr_token
from health.models import ArrivalCheck
from laborlink.i18n import format_lazy_percent
from laborlink.selectors import provinces_all
from recruitment.models import Placement
from recruitment.placements import MAX_ABSENCE_DAYS_PER_REPORT
from transport.models import Trip
from transport.services import MAX_SEATS, TRIP_FIELDS

ALL = _("All")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _label(name: str):
    """The model field's own (translated) name, so that form and admin say the same."""
    return capfirst(Trip._meta.get_field(name).verbose_name)


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _reason(label, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=300, widget=forms.TextInput(attrs={"required": True, **attrs})
    )


class TripForm(forms.Form):
    """Every field of `services.TRIP_FIELDS`."""

    mode = forms.ChoiceField(label=_label("mode"), choices=Trip.Mode.choices)
    operator = forms.CharField(label=_label("operator"), max_length=100)
    vehicle_number = forms.CharField(label=_label("vehicle_number"), max_length=32)
    origin_province = forms.ModelChoiceField(
        label=_label("origin_province"), queryset=provinces_all().order_by("code")
    )
    origin_city = forms.CharField(label=_label("origin_city"), max_length=64)
    pickup_point = forms.CharField(label=_label("pickup_point"), max_length=200)
    destination_province = forms.ModelChoiceField(
        label=_label("destination_province"), queryset=provinces_all().order_by("code")
    )
    destination_city = forms.CharField(label=_label("destination_city"), max_length=64)
    destination_point = forms.CharField(label=_label("destination_point"), max_length=200)
    departure_at = forms.DateTimeField(
        label=_label("departure_at"), widget=_datetime_input(), input_formats=[DATETIME_FORMAT]
    )
    arrival_expected_at = forms.DateTimeField(
        label=_label("arrival_expected_at"),
        widget=_datetime_input(),
        input_formats=[DATETIME_FORMAT],
    )
    seats = forms.IntegerField(label=_label("seats"), min_value=1, max_value=MAX_SEATS)
    contact_name = forms.CharField(label=_label("contact_name"), max_length=50)
    contact_phone = forms.CharField(label=_label("contact_phone"), max_length=32)
    notes = forms.CharField(
        label=_label("notes"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @classmethod
    def defaults(cls, province_code: str) -> dict:
        """A new trip: a 45-seat bus into the organiser's province, leaving tomorrow at 8."""
        departure = timezone.make_aware(
            datetime.combine(timezone.localdate() + timedelta(days=1), time(8, 0))
        )
        return {
            "mode": Trip.Mode.BUS,
            "destination_province": province_code,
            "seats": 45,
            "departure_at": departure,
            "arrival_expected_at": departure + timedelta(hours=24),
        }

    @classmethod
    def initial_from(cls, trip: Trip) -> dict:
        initial = {name: getattr(trip, name) for name in TRIP_FIELDS}
        initial["origin_province"] = trip.origin_province_id
        initial["destination_province"] = trip.destination_province_id
        for name in ("departure_at", "arrival_expected_at"):
            initial[name] = timezone.localtime(initial[name])
        return initial

    def service_values(self) -> dict:
        """Keyword arguments for `trip_create` / `trip_update`."""
        values = {name: self.cleaned_data[name] for name in TRIP_FIELDS}
        values["origin_province"] = values["origin_province"].pk
        values["destination_province"] = values["destination_province"].pk
        return values


class TripFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_label("status"), choices=Trip.Status.choices, empty_label=ALL
    )
    mode = django_filters.ChoiceFilter(
        label=_label("mode"), choices=Trip.Mode.choices, empty_label=ALL
    )
    origin_province = django_filters.ModelChoiceFilter(
        label=_label("origin_province"), queryset=provinces_all(), empty_label=ALL
    )
    departure_from = django_filters.DateFilter(
        label=_("Departing from"),
        field_name="departure_at",
        method="filter_from",
        widget=_date_input(),
    )
    departure_to = django_filters.DateFilter(
        label=_("Departing until"),
        field_name="departure_at",
        method="filter_to",
        widget=_date_input(),
    )

    class Meta:
        model = Trip
        fields: list[str] = []

    @staticmethod
    def _day_start(day):
        return timezone.make_aware(datetime.combine(day, time.min))

    def filter_from(self, queryset: QuerySet[Trip], name: str, value):
        return queryset.filter(departure_at__gte=self._day_start(value))

    def filter_to(self, queryset: QuerySet[Trip], name: str, value):
        return queryset.filter(departure_at__lt=self._day_start(value + timedelta(days=1)))


class TripCancelForm(forms.Form):
    reason = _reason(_("Reason for cancellation"))


# --- Bookings ----------------------------------------------------------------------------------


class _BookingOptions(forms.Form):
    together = forms.BooleanField(label=_("Seat them together (adjacent seats)"), required=False)
    waitlist = forms.BooleanField(
        label=_("Put them on the waitlist if the trip is full"), required=False
    )


class BookingForm(_BookingOptions):
    """Chosen workers: the choices are the placements the user may book on this trip."""

    placements = forms.ModelMultipleChoiceField(
        label=_("Workers"),
        queryset=Placement.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one worker.")},
    )
    group_label = forms.CharField(
        label=_("Group name (optional)"),
        max_length=40,
        required=False,
        help_text=_("Workers booked together share it, e.g. a village or a family."),
    )

    def __init__(self, *args, bookable: QuerySet[Placement], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["placements"].queryset = bookable


class BookPostingForm(_BookingOptions):
    posting = forms.TypedChoiceField(label=_("Job posting"), coerce=int, choices=[])

    def __init__(self, *args, postings: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, auto_id="id_posting_%s", **kwargs)
        self.fields["posting"].choices = postings


class BookCountyForm(_BookingOptions):
    region_code = forms.RegexField(
        label=_("County code"),
        regex=r"^\d{6}$",
        max_length=6,
        help_text=_("The six-digit region code at the start of the workers' ID numbers."),
        error_messages={"invalid": _("Enter a six-digit county code.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "list": "county-codes"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="id_county_%s", **kwargs)


class BookingCancelForm(forms.Form):
    reason = _reason(_("Reason"))


class ChangeSeatForm(forms.Form):
    seat = forms.IntegerField(label=_("New seat"), min_value=1, max_value=MAX_SEATS)
    reason = _reason(_("Reason"))


# --- Boarding ----------------------------------------------------------------------------------


class BoardingForm(forms.Form):
    """A scanned or pasted certificate token, a typed certificate number, or a photo of the
    certificate's QR code (read on the server, as on the verification page)."""

    certificate = forms.CharField(
        label=_("Certificate token or number"),
        required=False,
        max_length=MAX_TOKEN_LENGTH,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "class": "boarding-input",
            }
        ),
    )
    image = forms.FileField(
        label=_("Or a photo of the QR code"),
        required=False,
        help_text=format_lazy_percent(
            _("PNG, JPEG, GIF, WebP or BMP, at most %(max)d MB."),
            max=MAX_IMAGE_BYTES // (1024 * 1024),
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def clean_certificate(self) -> str:
        # a token has no whitespace; line breaks come from copying a printed, wrapped token
        return "".join(self.cleaned_data["certificate"].split())

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        return None if upload is None else read_qr_token(upload)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        text, from_image = data.get("certificate"), data.get("image")
        if text and from_image:
            raise forms.ValidationError(_("Give either the certificate or a picture, not both."))
        if not text and not from_image:
            raise forms.ValidationError(
                _("Scan the QR code, type the certificate number or upload a photo.")
            )
        data["certificate"] = text or from_image
        return data


# --- Arrivals, departures, absences ------------------------------------------------------------


class ArrivalForm(forms.Form):
    """One worker's arrival check. The hidden request key is made when the page renders, so
    that a form submitted twice records one arrival."""

    result = forms.ChoiceField(
        label=_("Arrival health check"),
        choices=ArrivalCheck.Result.choices,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=1000, required=False, widget=forms.TextInput()
    )
    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, placement_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_arrival_{placement_id}_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)


class DepartureForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=_date_input())
    reason = forms.ChoiceField(
        label=_("Reason for leaving"),
        choices=[("", "---------"), *Placement.LeftReason.choices],
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, placement_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_departure_{placement_id}_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("left_on", timezone.localdate())


class AbsenceForm(forms.Form):
    first_day = forms.DateField(label=_("Absent from"), widget=_date_input())
    last_day = forms.DateField(
        label=_("Absent until"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave empty for a single day."),
    )

    def __init__(self, *args, placement_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_absence_{placement_id}_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("first_day", timezone.localdate())

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first is None:
            return data
        last = last or first
        if last < first:
            raise forms.ValidationError(_("The last day cannot be before the first."))
        if (last - first).days + 1 > MAX_ABSENCE_DAYS_PER_REPORT:
            raise forms.ValidationError(
                _("Report at most %(n)d days at a time.") % {"n": MAX_ABSENCE_DAYS_PER_REPORT}
            )
        data["days"] = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return data


# --- Flags -------------------------------------------------------------------------------------


class FlagFilterForm(forms.Form):
    OPEN, RESOLVED = "open", "resolved"
    state = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(OPEN, _("Open")), (RESOLVED, _("Resolved")), ("all", ALL)],
    )

    def apply(self, queryset):
        state = self.cleaned_data.get("state") if self.is_valid() else ""
        state = state or self.OPEN
        if state == self.OPEN:
            return queryset.filter(resolved_at__isnull=True)
        if state == self.RESOLVED:
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class FlagResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=300)

    def __init__(self, *args, flag_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_flag_{flag_id}_%s")
        super().__init__(*args, **kwargs)
