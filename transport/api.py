"""REST endpoints of the transport app: trips, bookings, boarding, arrivals, and the
employer's reports on its workers (departures, absences) and the bureaus' flags.

Every read goes through the selectors the pages use and every write through the services;
the serializers only shape input and output. An object outside the caller's scope answers
404; one the caller sees but may not change answers 403 (the services decide). Workers'
ID numbers and phones appear only masked, and an employer sees a worker's name and phone
only once the worker accepted one of its offers. API clients read; they never write.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from health.models import ArrivalCheck
from health.services import arrival_check_notes, arrival_check_result
from laborlink import audit
from laborlink.filters import UtcIsoDateTimeFilter
from laborlink.pagination import CursorPagination
from recruitment import placements as placement_services
from recruitment import selectors as recruitment_selectors
from recruitment.api import OrganizationRefSerializer
from recruitment.models import Applicant, Flag, JobPosting, Placement
from transport import selectors, services
from transport.models import Booking, Trip

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,64}$")  # visible ASCII, as the draft RFC

# --- The one error shape, for the schema ----------------------------------------------------


class ApiErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable reason, e.g. not_found, full."))
    message = serializers.CharField(help_text=_("The reason in the caller's language."))
    details = serializers.DictField(
        required=False, help_text=_("Per-field messages and other particulars.")
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorBodySerializer()


_ERROR_DESCRIPTIONS = {
    400: _("The request contains invalid data (code: invalid)."),
    403: _("The caller sees the object but may not do this, or is a read-only API client."),
    404: _("No such object among those the caller may see."),
    409: _("The request clashes with the current state (e.g. code full: no free seat)."),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ApiErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in codes
    }


# --- Shared pieces ----------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as an enum component of its own name: trips, bookings and
    placements each have a `status` of different choices, and each keeps a clear name
    (TripStatusEnum …) instead of a generated one."""

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        choices = {k: v for k, v in field.choices.items() if k not in ("", None)}
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(choices),
                "description": build_choice_description_list(choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        if field.allow_blank:
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


def placement_status_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="PlacementStatusEnum", choices=Placement.Status.choices, **kwargs
    )


def trip_status_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(enum_name="TripStatusEnum", choices=Trip.Status.choices, **kwargs)


class TravellerSerializer(serializers.Serializer):
    """A worker as the caller may see them: ID number and phone masked; name and phone null
    for an employer the worker has not accepted."""

    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    national_id_masked = serializers.CharField()
    phone_masked = serializers.CharField(allow_null=True)
    home_province = serializers.CharField()


def traveller(applicant: Applicant, *, contact_visible: bool) -> dict[str, Any]:
    return {
        "id": applicant.pk,
        "name": applicant.name if contact_visible else None,
        "national_id_masked": applicant.national_id_masked,
        "phone_masked": applicant.phone_masked if contact_visible else None,
        "home_province": applicant.home_province_id,
    }


class PostingRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobPosting
        fields = ["id", "title", "city", "start_date"]
        read_only_fields = fields


class PlacementSerializer(serializers.ModelSerializer):
    applicant = serializers.SerializerMethodField()
    posting = PostingRefSerializer(read_only=True)
    status = placement_status_field(read_only=True)
    left_reason = NamedChoiceField(
        enum_name="LeftReasonEnum",
        choices=Placement.LeftReason.choices,
        allow_blank=True,
        read_only=True,
    )

    class Meta:
        model = Placement
        fields = [
            "id",
            "status",
            "applicant",
            "posting",
            "arrived_at",
            "employed_on",
            "left_on",
            "left_reason",
            "left_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TravellerSerializer)
    def get_applicant(self, obj: Placement) -> dict[str, Any]:
        return traveller(obj.applicant, contact_visible=getattr(obj, "contact_visible", True))


class PlacementRefSerializer(serializers.ModelSerializer):
    status = placement_status_field(read_only=True)

    class Meta:
        model = Placement
        fields = ["id", "status"]
        read_only_fields = fields


def _with_contact(user: Any, queryset: QuerySet, applicant_ref: str) -> QuerySet:
    return recruitment_selectors.with_contact_visibility(
        user, queryset, applicant_ref=applicant_ref
    )


# --- Trips --------------------------------------------------------------------------------------


class TripSerializer(serializers.ModelSerializer):
    organiser = OrganizationRefSerializer(read_only=True)
    origin_province = serializers.CharField(source="origin_province_id", read_only=True)
    destination_province = serializers.CharField(source="destination_province_id", read_only=True)
    status = trip_status_field(read_only=True)
    seats_taken = serializers.IntegerField(read_only=True)
    seats_free = serializers.SerializerMethodField()
    boarded_count = serializers.IntegerField(read_only=True)
    waitlisted_count = serializers.IntegerField(read_only=True)
    can_manage = serializers.SerializerMethodField(
        help_text=_("Whether the caller's organisation organised the trip (books, edits it).")
    )

    class Meta:
        model = Trip
        fields = [
            "id",
            "organiser",
            "mode",
            "operator",
            "vehicle_number",
            "origin_province",
            "origin_city",
            "pickup_point",
            "destination_province",
            "destination_city",
            "destination_point",
            "departure_at",
            "arrival_expected_at",
            "seats",
            "seats_taken",
            "seats_free",
            "boarded_count",
            "waitlisted_count",
            "contact_name",
            "contact_phone",
            "notes",
            "status",
            "boarding_started_at",
            "departed_at",
            "arrived_at",
            "cancelled_at",
            "cancel_reason",
            "can_manage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_seats_free(self, obj: Trip) -> int:
        return max(obj.seats - obj.seats_taken, 0)

    def get_can_manage(self, obj: Trip) -> bool:
        organiser = self.context.get("organiser")
        return organiser is not None and obj.organiser_id == organiser.pk


class TripWriteSerializer(serializers.Serializer):
    """A trip's fields. The service checks the rest: the destination is the organiser's
    province, an agreement with the origin is in force, times and seats make sense."""

    mode = serializers.ChoiceField(choices=Trip.Mode.choices)
    operator = serializers.CharField(max_length=100)
    vehicle_number = serializers.CharField(max_length=32)
    origin_province = serializers.CharField(max_length=2, help_text=_("Province code."))
    origin_city = serializers.CharField(max_length=64)
    pickup_point = serializers.CharField(max_length=200)
    destination_province = serializers.CharField(
        max_length=2, help_text=_("Province code: the organiser's own province.")
    )
    destination_city = serializers.CharField(max_length=64)
    destination_point = serializers.CharField(max_length=200)
    departure_at = serializers.DateTimeField()
    arrival_expected_at = serializers.DateTimeField()
    seats = serializers.IntegerField()
    contact_name = serializers.CharField(max_length=50)
    contact_phone = serializers.CharField(max_length=32)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class BookingRequestSerializer(serializers.Serializer):
    """Exactly one of `placements`, `posting` or `region_code` says whom to book."""

    placements = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=services.MAX_SEATS,
        help_text=_("Accepted placements to book, all or none."),
    )
    posting = serializers.IntegerField(
        required=False, help_text=_("Book every accepted worker of this posting not booked yet.")
    )
    region_code = serializers.CharField(
        required=False,
        max_length=6,
        help_text=_("Book every accepted worker from this six-digit county not booked yet."),
    )
    together = serializers.BooleanField(
        required=False, default=False, help_text=_("Seat them in adjacent seats.")
    )
    waitlist = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Those who find no seat wait for one instead of the request being refused."),
    )
    group_label = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("placements", "posting", "region_code") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of placements, posting or region_code.")
            )
        return attrs


def booking_status_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(enum_name="BookingStatusEnum", choices=Booking.Status.choices, **kwargs)


class BookingBriefSerializer(serializers.ModelSerializer):
    status = booking_status_field(read_only=True)

    class Meta:
        model = Booking
        fields = ["id", "seat", "status", "group_label"]
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer):
    applicant = serializers.SerializerMethodField()
    placement = PlacementRefSerializer(read_only=True)
    posting = PostingRefSerializer(source="placement.posting", read_only=True)
    employer = OrganizationRefSerializer(source="placement.posting.employer", read_only=True)
    status = booking_status_field(read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "trip",
            "seat",
            "status",
            "group_label",
            "applicant",
            "placement",
            "posting",
            "employer",
            "checked_at",
            "check_outcome",
            "certificate_number",
            "refusal_reason",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TravellerSerializer)
    def get_applicant(self, obj: Booking) -> dict[str, Any]:
        visible = getattr(obj, "contact_visible", True)
        return traveller(obj.placement.applicant, contact_visible=visible)


class BookingResultSerializer(serializers.Serializer):
    booked = BookingSerializer(many=True)
    waitlisted = BookingSerializer(many=True)


class BoardingCheckRequestSerializer(serializers.Serializer):
    certificate = serializers.CharField(
        allow_blank=True,
        max_length=8000,
        help_text=_("The scanned certificate token, or the certificate number typed in."),
    )


class BoardingCheckSerializer(serializers.Serializer):
    boarded = serializers.BooleanField()
    code = serializers.CharField(
        help_text=_(
            "boarded, already_boarded, not_on_trip, refused, or the certificate's "
            "verification code (expired, revoked …)."
        )
    )
    message = serializers.CharField()
    certificate_code = serializers.CharField(
        allow_blank=True, help_text=_("The certificate verification's outcome code.")
    )
    booking = BookingBriefSerializer(allow_null=True)


class ManifestSerializer(serializers.Serializer):
    trip = TripSerializer()
    bookings = BookingSerializer(many=True)


class TripFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Trip.Status.choices)
    mode = filters.ChoiceFilter(choices=Trip.Mode.choices)
    origin_province = filters.CharFilter(field_name="origin_province_id")
    destination_province = filters.CharFilter(field_name="destination_province_id")
    departure_after = UtcIsoDateTimeFilter(
        field_name="departure_at", lookup_expr="gte", label=_("departing at or after")
    )
    departure_before = UtcIsoDateTimeFilter(
        field_name="departure_at", lookup_expr="lte", label=_("departing at or before")
    )
    managed = filters.BooleanFilter(
        method="filter_managed", label=_("Only the trips the caller's organisation organised")
    )

    class Meta:
        model = Trip
        fields = ["status", "mode", "origin_province", "destination_province"]

    def filter_managed(self, queryset, name, value):
        if value is None:
            return queryset
        managed = selectors.trips_managed_by(self.request.user).values("pk")
        return queryset.filter(pk__in=managed) if value else queryset.exclude(pk__in=managed)


@extend_schema_view(
    list=extend_schema(
        summary=_("Trips the caller may see"), responses={200: TripSerializer, **errors(400)}
    ),
    retrieve=extend_schema(
        summary=_("One trip with its seat counts"), responses={200: TripSerializer, **errors(404)}
    ),
)
class TripViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Chartered trips: the organiser's (an importing bureau or an employer), those leaving or
    entering a bureau's (or API client's) province, and for an employer those carrying its
    workers. The organiser edits, books, cancels; the organiser and the origin province's
    bureau run boarding."""

    serializer_class = TripSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = TripFilter
    search_fields = ["vehicle_number", "origin_city", "destination_city", "operator"]
    ordering_fields = ["departure_at", "created_at", "seats"]
    ordering = ["departure_at", "id"]

    def get_queryset(self) -> QuerySet[Trip]:
        if getattr(self, "swagger_fake_view", False):
            return Trip.objects.none()
        return selectors.with_seat_counts(selectors.trips_visible_to(self.request.user))

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["organiser"] = selectors.organiser_of(self.request.user)
        return context

    def _respond(self, trip: Trip, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=trip.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _bookings(self, trip: Trip) -> QuerySet[Booking]:
        user = self.request.user
        return _with_contact(
            user, selectors.bookings_visible_to(user, trip), "placement__applicant_id"
        )

    @extend_schema(
        summary=_("Charter a trip into your province"),
        request=TripWriteSerializer,
        responses={201: TripSerializer, **errors(400, 403)},
    )
    def create(self, request: Request) -> Response:
        data = TripWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_create(actor=request.user, **data.validated_data)
        return self._respond(trip, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change some of a planned trip's fields"),
        request=TripWriteSerializer,
        responses={200: TripSerializer, **errors(400, 403, 404, 409)},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        trip = self.get_object()
        data = TripWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        trip = services.trip_update(actor=request.user, trip=trip, **data.validated_data)
        return self._respond(trip)

    @extend_schema(
        summary=_("Start boarding a planned trip"),
        request=None,
        responses={200: TripSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="start-boarding")
    def start_boarding(self, request: Request, pk: str | None = None) -> Response:
        trip = services.trip_start_boarding(actor=request.user, trip=self.get_object())
        return self._respond(trip)

    @extend_schema(
        summary=_("The trip leaves: workers not boarded become no-shows"),
        request=None,
        responses={200: TripSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def depart(self, request: Request, pk: str | None = None) -> Response:
        trip = services.trip_depart(actor=request.user, trip=self.get_object())
        return self._respond(trip)

    @extend_schema(
        summary=_("The trip has arrived"),
        request=None,
        responses={200: TripSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, pk: str | None = None) -> Response:
        trip = services.trip_arrive(actor=request.user, trip=self.get_object())
        return self._respond(trip)

    @extend_schema(
        summary=_("Cancel a trip that has not left (reason required)"),
        request=ReasonSerializer,
        responses={200: TripSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        trip = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = services.trip_cancel(
            actor=request.user, trip=trip, reason=data.validated_data["reason"]
        )
        return self._respond(trip)

    @extend_schema(
        summary=_("Book accepted workers on the trip"),
        description=_(
            "All or none. A trip without enough free seats answers 409 with code full, unless "
            "waitlist is set."
        ),
        request=BookingRequestSerializer,
        responses={201: BookingResultSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="bookings")
    def book(self, request: Request, pk: str | None = None) -> Response:
        trip = self.get_object()
        data = BookingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        common = {
            "actor": request.user,
            "trip": trip,
            "together": values["together"],
            "waitlist": values["waitlist"],
        }
        if "placements" in values:
            result = services.booking_create(
                placements=values["placements"], group_label=values["group_label"], **common
            )
        elif "posting" in values:
            result = services.booking_create_for_posting(posting=values["posting"], **common)
        else:
            result = services.booking_create_for_county(region_code=values["region_code"], **common)
        ids = [b.pk for b in [*result.booked, *result.waitlisted]]
        fresh = {b.pk: b for b in self._bookings(trip).filter(pk__in=ids)}
        context = self.get_serializer_context()
        body = {
            "booked": BookingSerializer(
                [fresh[b.pk] for b in result.booked], many=True, context=context
            ).data,
            "waitlisted": BookingSerializer(
                [fresh[b.pk] for b in result.waitlisted], many=True, context=context
            ).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Check a worker's certificate at the door and board the worker"),
        description=_(
            "Answers 200 with boarded false and the reason when the worker may not board."
        ),
        request=BoardingCheckRequestSerializer,
        responses={200: BoardingCheckSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="boarding-check")
    def boarding_check(self, request: Request, pk: str | None = None) -> Response:
        trip = self.get_object()
        data = BoardingCheckRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = services.boarding_check(
            actor=request.user, trip=trip, certificate=data.validated_data["certificate"]
        )
        body = {
            "boarded": check.boarded,
            "code": check.code,
            "message": check.message,
            "certificate_code": check.certificate_code,
            "booking": BookingBriefSerializer(check.booking).data if check.booking else None,
        }
        return Response(body)

    @extend_schema(
        summary=_("The trip's manifest: its bookings by seat, workers masked"),
        responses={200: ManifestSerializer, **errors(404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def manifest(self, request: Request, pk: str | None = None) -> Response:
        trip = self.get_object()
        context = self.get_serializer_context()
        bookings = self._bookings(trip).order_by("seat", "created_at", "id")
        audit.record_export(request, what="transport.trip", fmt="json", object_id=trip.pk)
        return Response(
            {
                "trip": TripSerializer(trip, context=context).data,
                "bookings": BookingSerializer(bookings, many=True, context=context).data,
            }
        )


# --- Bookings -----------------------------------------------------------------------------------


class SeatChangeSerializer(serializers.Serializer):
    seat = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class BookingFilter(filters.FilterSet):
    trip = filters.NumberFilter(field_name="trip_id")
    status = filters.ChoiceFilter(choices=Booking.Status.choices)
    placement = filters.NumberFilter(field_name="placement_id")
    group_label = filters.CharFilter()

    class Meta:
        model = Booking
        fields = ["trip", "status", "placement", "group_label"]


class BookingPagination(CursorPagination):
    ordering = "id"


@extend_schema_view(
    list=extend_schema(
        summary=_("Bookings the caller may see (cursor paging)"),
        responses={200: BookingSerializer, **errors(400)},
    ),
    retrieve=extend_schema(
        summary=_("One booking"), responses={200: BookingSerializer, **errors(404)}
    ),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Seat bookings: all of a trip's for its organiser and the bureaus of both provinces;
    for an employer, those of its own workers. The trip's organiser cancels and moves them."""

    serializer_class = BookingSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = BookingFilter
    pagination_class = BookingPagination
    # cursor paging needs one fixed order (the ordering filter would otherwise override it)
    ordering = ["id"]
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Booking]:
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        user = self.request.user
        return _with_contact(user, selectors.bookings_visible_to(user), "placement__applicant_id")

    def _respond(self, booking: Booking) -> Response:
        fresh = self.get_queryset().get(pk=booking.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(
        summary=_("Cancel a booking (reason required); the waitlist's first takes the seat"),
        request=ReasonSerializer,
        responses={200: BookingSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_cancel(
            actor=request.user, booking=booking, reason=data.validated_data["reason"]
        )
        return self._respond(booking)

    @extend_schema(
        summary=_("Move a booked worker to another free seat (reason required)"),
        request=SeatChangeSerializer,
        responses={200: BookingSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="change-seat")
    def change_seat(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        data = SeatChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_change_seat(
            actor=request.user,
            booking=booking,
            seat=data.validated_data["seat"],
            reason=data.validated_data["reason"],
        )
        return self._respond(booking)


# --- Arrivals -----------------------------------------------------------------------------------


class TripRefSerializer(serializers.ModelSerializer):
    status = trip_status_field(read_only=True)

    class Meta:
        model = Trip
        fields = ["id", "vehicle_number", "status", "arrival_expected_at", "arrived_at"]
        read_only_fields = fields


class ArrivalAwaitingSerializer(PlacementSerializer):
    trip = serializers.SerializerMethodField(help_text=_("The trip the worker boarded, if any."))

    class Meta(PlacementSerializer.Meta):
        fields = [*PlacementSerializer.Meta.fields, "trip"]
        read_only_fields = fields

    @extend_schema_field(TripRefSerializer(allow_null=True))
    def get_trip(self, obj: Placement) -> dict[str, Any] | None:
        boarded = getattr(obj, "boarded_bookings", [])
        return TripRefSerializer(boarded[-1].trip).data if boarded else None


def arrival_result_field() -> NamedChoiceField:
    return NamedChoiceField(enum_name="ArrivalCheckResultEnum", choices=ArrivalCheck.Result.choices)


class ArrivalCreateSerializer(serializers.Serializer):
    placement = serializers.IntegerField()
    result = arrival_result_field()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ArrivalCheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    result = arrival_result_field()
    notes = serializers.CharField(allow_blank=True)
    checked_at = serializers.DateTimeField()
    checked_by = serializers.CharField()


class ArrivalSerializer(serializers.Serializer):
    created = serializers.BooleanField(
        help_text=_("False when this request (or this arrival) had already been recorded.")
    )
    placement = PlacementSerializer()
    check = ArrivalCheckSerializer(allow_null=True)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise serializers.ValidationError(
            {IDEMPOTENCY_HEADER: [_("Use 1 to 64 visible ASCII characters.")]}
        )
    return key


@extend_schema_view(
    list=extend_schema(
        summary=_("Your workers whose arrival awaits confirmation"),
        responses={200: ArrivalAwaitingSerializer, **errors(400)},
    ),
)
class ArrivalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """An employer's arrivals: workers on their way, travelling on their own, or referred
    after a first check. Confirming one records the arrival health check."""

    serializer_class = ArrivalAwaitingSerializer
    filterset_fields = ["status", "posting"]
    search_fields = ["applicant__name"]
    ordering_fields = ["updated_at", "created_at"]

    def get_queryset(self) -> QuerySet[Placement]:
        if getattr(self, "swagger_fake_view", False):
            return Placement.objects.none()
        user = self.request.user
        boarded = Booking.objects.filter(status=Booking.Status.BOARDED).select_related("trip")
        awaiting = selectors.arrivals_awaiting(user).prefetch_related(
            Prefetch("bookings", queryset=boarded.order_by("id"), to_attr="boarded_bookings")
        )
        return _with_contact(user, awaiting, "applicant_id")

    @extend_schema(
        summary=_("Confirm a worker's arrival with the arrival health check"),
        description=_(
            "Send an Idempotency-Key header: a retried request with the same key records "
            "nothing new and answers 200 with the arrival first recorded."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=_("A key unique to this confirmation (1 to 64 visible characters)."),
            )
        ],
        request=ArrivalCreateSerializer,
        responses={
            201: ArrivalSerializer,
            200: OpenApiResponse(ArrivalSerializer, description=_("Already recorded.")),
            **errors(400, 403, 404, 409),
        },
    )
    def create(self, request: Request) -> Response:
        key = _idempotency_key(request)
        data = ArrivalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.arrival_confirm(
            actor=request.user,
            placement=data.validated_data["placement"],
            result=data.validated_data["result"],
            notes=data.validated_data["notes"],
            request_key=key,
        )
        user = request.user
        placement = (
            _with_contact(user, recruitment_selectors.placements_of_employer(user), "applicant_id")
            .filter(pk=result.placement.pk)
            .first()
        ) or result.placement
        check = result.check
        body = {
            "created": result.created,
            "placement": placement,
            "check": None
            if check is None
            else {
                "id": check.pk,
                "result": arrival_check_result(check),
                "notes": arrival_check_notes(check),
                "checked_at": check.checked_at,
                "checked_by": str(check.checked_by.full_name or check.checked_by),
            },
        }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ArrivalSerializer(body).data, status=code)


# --- The employer's placements: departures and absences -----------------------------------


class DepartureSerializer(serializers.Serializer):
    left_on = serializers.DateField()
    reason = NamedChoiceField(enum_name="LeftReasonEnum", choices=Placement.LeftReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class AbsenceReportSerializer(serializers.Serializer):
    days = serializers.ListField(
        child=serializers.DateField(),
        allow_empty=False,
        max_length=placement_services.MAX_ABSENCE_DAYS_PER_REPORT,
    )


class AbsenceResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text=_("How many of the days were new."))
    placement = PlacementSerializer()


class PlacementFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Placement.Status.choices)
    posting = filters.NumberFilter(field_name="posting_id")

    class Meta:
        model = Placement
        fields = ["status", "posting"]


@extend_schema_view(
    list=extend_schema(
        summary=_("Your workers: placements on your postings once accepted"),
        responses={200: PlacementSerializer, **errors(400)},
    ),
    retrieve=extend_schema(
        summary=_("One of your workers' placements"),
        responses={200: PlacementSerializer, **errors(404)},
    ),
)
class PlacementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An HR officer's placements: report that a worker left, or days a worker was absent
    (five consecutive working days raise a flag to both bureaus)."""

    serializer_class = PlacementSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = PlacementFilter
    search_fields = ["applicant__name"]
    ordering_fields = ["updated_at", "created_at", "arrived_at"]
    ordering = ["-updated_at", "-id"]

    def get_queryset(self) -> QuerySet[Placement]:
        if getattr(self, "swagger_fake_view", False):
            return Placement.objects.none()
        user = self.request.user
        return _with_contact(
            user, recruitment_selectors.placements_of_employer(user), "applicant_id"
        )

    def _fresh_data(self, placement: Placement) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=placement.pk)).data

    @extend_schema(
        summary=_("Report that a worker has left"),
        request=DepartureSerializer,
        responses={200: PlacementSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def departure(self, request: Request, pk: str | None = None) -> Response:
        placement = self.get_object()
        data = DepartureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        placement = placement_services.placement_report_departure(
            actor=request.user, placement=placement, **data.validated_data
        )
        return Response(self._fresh_data(placement))

    @extend_schema(
        summary=_("Report days a worker did not come to work"),
        description=_("Reporting a day twice changes nothing."),
        request=AbsenceReportSerializer,
        responses={200: AbsenceResultSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def absences(self, request: Request, pk: str | None = None) -> Response:
        placement = self.get_object()
        data = AbsenceReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = placement_services.absence_report(
            actor=request.user, placement=placement, days=data.validated_data["days"]
        )
        return Response({"recorded": recorded, "placement": self._fresh_data(placement)})


# --- Flags --------------------------------------------------------------------------------------


class FlagSerializer(serializers.ModelSerializer):
    applicant = serializers.SerializerMethodField()
    placement = PlacementRefSerializer(read_only=True)
    posting = PostingRefSerializer(source="placement.posting", read_only=True)
    employer = OrganizationRefSerializer(source="placement.posting.employer", read_only=True)
    importing_province = serializers.CharField(source="importing_province_id", read_only=True)
    exporting_province = serializers.CharField(source="exporting_province_id", read_only=True)
    resolved_by = serializers.CharField(
        source="resolved_by.full_name", read_only=True, allow_null=True
    )
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = [
            "id",
            "kind",
            "applicant",
            "placement",
            "posting",
            "employer",
            "importing_province",
            "exporting_province",
            "detail",
            "raised_at",
            "is_open",
            "resolved_at",
            "resolved_by",
            "resolution",
        ]
        read_only_fields = fields

    @extend_schema_field(TravellerSerializer)
    def get_applicant(self, obj: Flag) -> dict[str, Any]:
        return traveller(obj.placement.applicant, contact_visible=True)

    def get_is_open(self, obj: Flag) -> bool:
        return obj.resolved_at is None


class FlagResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True, max_length=300)


class FlagFilter(filters.FilterSet):
    open = filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", label=_("Open (true) or resolved (false)")
    )
    kind = filters.ChoiceFilter(choices=Flag.Kind.choices)
    placement = filters.NumberFilter(field_name="placement_id")
    importing_province = filters.CharFilter(field_name="importing_province_id")
    exporting_province = filters.CharFilter(field_name="exporting_province_id")

    class Meta:
        model = Flag
        fields = ["open", "kind", "placement", "importing_province", "exporting_province"]


class FlagPagination(CursorPagination):
    ordering = "-id"


@extend_schema_view(
    list=extend_schema(
        summary=_("Flags for your bureau, newest first (cursor paging)"),
        responses={200: FlagSerializer, **errors(400)},
    ),
    retrieve=extend_schema(summary=_("One flag"), responses={200: FlagSerializer, **errors(404)}),
)
class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """What a bureau must look at: arrivals not confirmed a day after the trip arrived, and
    workers absent five consecutive working days. A bureau officer resolves them."""

    serializer_class = FlagSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = FlagFilter
    pagination_class = FlagPagination
    ordering = ["-id"]
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Flag]:
        if getattr(self, "swagger_fake_view", False):
            return Flag.objects.none()
        return recruitment_selectors.flags_visible_to(self.request.user)

    @extend_schema(
        summary=_("Resolve a flag with a note on what was done"),
        request=FlagResolveSerializer,
        responses={200: FlagSerializer, **errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        flag = self.get_object()
        data = FlagResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = placement_services.flag_resolve(
            actor=request.user, flag=flag, resolution=data.validated_data["resolution"]
        )
        fresh = self.get_queryset().get(pk=flag.pk)
        return Response(self.get_serializer(fresh).data)
