"""Chartered trips and their seats.

A trip carries accepted workers from a pickup point in their home province to the importing
province. The database itself refuses more bookings than seats (seats are numbered 1..seats,
one active booking per seat, and a trigger refuses a seat beyond the trip's seat count or a
seat count below a seat in use) and one placement on two active trips (a partial unique
index); the booking services also lock the trip row, so concurrent requests for the last
seat queue and the losers get a clear "full" answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink.history import audited
from laborlink.models import Organization, Province


@audited("TripHistory")
class Trip(models.Model):
    class Mode(models.TextChoices):
        BUS = "bus", _("Chartered bus")
        TRAIN = "train", _("Chartered train")
        FLIGHT = "flight", _("Chartered flight")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        BOARDING = "boarding", _("Boarding")
        DEPARTED = "departed", _("Departed")
        ARRIVED = "arrived", _("Arrived")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = ("planned", "boarding")  # bookings may still change

    organiser = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="trips", verbose_name=_("organiser")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    operator = models.CharField(_("operator"), max_length=100)
    vehicle_number = models.CharField(_("vehicle or train number"), max_length=32)
    origin_province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("origin province")
    )
    origin_city = models.CharField(_("origin city"), max_length=64)
    pickup_point = models.CharField(_("pickup point"), max_length=200)
    destination_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("destination province"),
    )
    destination_city = models.CharField(_("destination city"), max_length=64)
    destination_point = models.CharField(_("drop-off point"), max_length=200)
    departure_at = models.DateTimeField(_("departure"))
    arrival_expected_at = models.DateTimeField(_("expected arrival"))
    seats = models.PositiveSmallIntegerField(_("seats"))
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    boarding_started_at = models.DateTimeField(_("boarding started at"), null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancellation"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["departure_at", "id"]
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="trip_has_seats"),
            models.CheckConstraint(
                condition=Q(arrival_expected_at__gt=F("departure_at")),
                name="trip_arrives_after_departure",
            ),
            models.CheckConstraint(
                condition=~Q(origin_province=F("destination_province")),
                name="trip_crosses_provinces",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="trip_cancelled_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["destination_province", "departure_at"], name="trip_destination"),
            models.Index(fields=["origin_province", "departure_at"], name="trip_origin"),
            models.Index(fields=["organiser", "departure_at"], name="trip_organiser"),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle_number} {self.departure_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


@audited("BookingHistory")
class Booking(models.Model):
    class Status(models.TextChoices):
        WAITLISTED = "waitlisted", _("Waitlisted")
        BOOKED = "booked", _("Booked")
        BOARDED = "boarded", _("Boarded")
        REFUSED = "refused", _("Refused at boarding")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    SEATED_STATUSES = ("booked", "boarded")  # hold a seat
    ACTIVE_STATUSES = ("waitlisted", "booked", "boarded")  # hold the placement

    trip = models.ForeignKey(Trip, on_delete=models.PROTECT, related_name="bookings")
    placement = models.ForeignKey(
        "recruitment.Placement", on_delete=models.PROTECT, related_name="bookings"
    )
    seat = models.PositiveSmallIntegerField(_("seat"), null=True, blank=True)
    group_label = models.CharField(_("travelling together"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # the boarding check: what the certificate said, who checked, why refused
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    certificate_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    check_outcome = models.CharField(_("certificate check"), max_length=24, blank=True)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("reason for cancellation"), max_length=300, blank=True)

    class Meta:
        ordering = ["trip", "seat", "created_at", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["trip", "seat"],
                condition=Q(status__in=["booked", "boarded"]),
                name="booking_one_per_seat",
            ),
            models.UniqueConstraint(
                fields=["placement"],
                condition=Q(status__in=["waitlisted", "booked", "boarded"]),
                name="booking_one_active_per_placement",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "boarded"], seat__isnull=False)
                | Q(status="waitlisted", seat__isnull=True)
                | Q(status__in=["no_show", "refused", "cancelled"]),
                name="booking_seated_iff_booked",
            ),
            # seats are numbered from 1: a seat 0 would be one seat more than the trip has
            models.CheckConstraint(
                condition=Q(seat__isnull=True) | Q(seat__gte=1), name="booking_seat_from_one"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="booking_cancelled_with_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="booking_refused_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["trip", "status"], name="booking_trip_status"),
        ]

    def __str__(self) -> str:
        return f"{self.trip_id} seat {self.seat} ({self.status})"


class BookingEvent(models.Model):
    """Every change of a booking (booked, seat changed, moved, cancelled, boarded, refused,
    no-show, promoted from the waitlist) with who, when and why."""

    class Action(models.TextChoices):
        BOOKED = "booked", _("Booked")
        WAITLISTED = "waitlisted", _("Waitlisted")
        PROMOTED = "promoted", _("Seat from the waitlist")
        SEAT_CHANGED = "seat_changed", _("Seat changed")
        CANCELLED = "cancelled", _("Cancelled")
        BOARDED = "boarded", _("Boarded")
        REFUSED = "refused", _("Refused at boarding")
        NO_SHOW = "no_show", _("No-show")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=14, choices=Action.choices)
    seat_before = models.PositiveSmallIntegerField(null=True, blank=True)
    seat_after = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")

    def __str__(self) -> str:
        return f"{self.booking_id} {self.action}"
