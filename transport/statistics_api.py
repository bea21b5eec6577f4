"""Statistics API: aggregates for bureaus, computed in the database.

GET /api/v1/transport/statistics/<figure>/ answers one figure of `transport.statistics`
(the same selectors as the statistics page) as JSON. A bureau officer or a province's API
client reads the figures of its province (as importing or exporting side), an employer's
HR officer those of its own postings; anyone else gets 404. `start` and `end` (Shanghai
days, at most 366 days apart) default to the last 30 days, and for retention to the last 365.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recruitment.models import JobPosting
from transport import statistics

MAX_DAYS = 366
DEFAULT_DAYS = 30
RETENTION_DAYS = 365


# --- Query parameters ---------------------------------------------------------------------


class RangeQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, help_text=_("First day (Asia/Shanghai), default 30 days ago.")
    )
    end = serializers.DateField(required=False, help_text=_("Last day, default today."))

    default_days = DEFAULT_DAYS

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end: date = attrs.get("end") or timezone.localdate()
        start: date = attrs.get("start") or end - timedelta(days=self.default_days - 1)
        if end < start:
            raise serializers.ValidationError({"end": [_("The end must not be before the start.")]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"end": [_("Choose a range of at most %(days)d days.") % {"days": MAX_DAYS}]}
            )
        return {"start": start, "end": end}


class RetentionQuerySerializer(RangeQuerySerializer):
    default_days = RETENTION_DAYS


class FestivalQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False,
        min_value=2001,
        max_value=2099,
        help_text=_("Year of the Spring Festival, default the latest that has begun."),
    )


# --- Response shapes ----------------------------------------------------------------------


class ModeCountsSerializer(serializers.Serializer):
    bus = serializers.IntegerField()
    train = serializers.IntegerField()
    flight = serializers.IntegerField()


class ArrivalDaySerializer(ModeCountsSerializer):
    day = serializers.DateField()
    total = serializers.IntegerField()
    cumulative = serializers.IntegerField()


class ArrivalProvinceSerializer(ModeCountsSerializer):
    province = serializers.CharField()
    province_name = serializers.CharField()
    total = serializers.IntegerField()


class ArrivalsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    total = serializers.IntegerField()
    by_mode = ModeCountsSerializer()
    by_day = ArrivalDaySerializer(many=True)
    by_province = ArrivalProvinceSerializer(many=True)


class PipelineCountsSerializer(serializers.Serializer):
    booked = serializers.IntegerField()
    boarded = serializers.IntegerField()
    arrived = serializers.IntegerField()
    no_show = serializers.IntegerField()
    refused = serializers.IntegerField()
    waitlisted = serializers.IntegerField()


class PipelineDaySerializer(PipelineCountsSerializer):
    day = serializers.DateField()
    trips = serializers.IntegerField()


class PipelinePairSerializer(PipelineCountsSerializer):
    origin = serializers.CharField()
    origin_name = serializers.CharField()
    destination = serializers.CharField()
    destination_name = serializers.CharField()
    trips = serializers.IntegerField()


class PipelineSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    totals = PipelineCountsSerializer()
    by_day = PipelineDaySerializer(many=True)
    by_pair = PipelinePairSerializer(many=True)


class FillCountsSerializer(serializers.Serializer):
    postings = serializers.IntegerField()
    positions = serializers.IntegerField()
    filled = serializers.IntegerField()
    held = serializers.IntegerField()
    fill_percent = serializers.FloatField(allow_null=True)


class FillOccupationSerializer(FillCountsSerializer):
    occupation = serializers.CharField()
    occupation_label = serializers.CharField()


class FillRatesSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    totals = FillCountsSerializer()
    by_occupation = FillOccupationSerializer(many=True)


class PostingFillSerializer(serializers.ModelSerializer):
    employer = serializers.CharField(source="employer.name", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)
    occupation = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text=_("Status of the posting."))
    held = serializers.IntegerField(read_only=True)
    fill_percent = serializers.FloatField(source="fill_rate_percent", read_only=True)

    class Meta:
        model = JobPosting
        fields = [
            "id",
            "title",
            "employer",
            "province",
            "occupation",
            "status",
            "deadline",
            "positions",
            "positions_filled",
            "held",
            "fill_percent",
        ]
        read_only_fields = fields


class HorizonSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    eligible = serializers.IntegerField(help_text=_("Arrived at least this many days ago."))
    retained = serializers.IntegerField(help_text=_("Of those, not left before this day."))
    share = serializers.FloatField(allow_null=True, help_text=_("retained / eligible, in %"))


class CohortSerializer(serializers.Serializer):
    cohort = serializers.DateField(help_text=_("First day of the month of arrival."))
    arrived = serializers.IntegerField()
    horizons = HorizonSerializer(many=True)


class RetentionSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    cohorts = CohortSerializer(many=True)


class FestivalPairSerializer(serializers.Serializer):
    importing = serializers.CharField()
    importing_name = serializers.CharField()
    exporting = serializers.CharField()
    exporting_name = serializers.CharField()
    on_post = serializers.IntegerField()
    stayed = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class SpringFestivalSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    new_year = serializers.DateField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    eve = serializers.DateField()
    complete = serializers.BooleanField()
    on_post = serializers.IntegerField()
    stayed = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    by_pair = FestivalPairSerializer(many=True)


class SupplyDemandRowSerializer(serializers.Serializer):
    importing = serializers.CharField()
    importing_name = serializers.CharField()
    exporting = serializers.CharField()
    exporting_name = serializers.CharField()
    occupation = serializers.CharField()
    occupation_label = serializers.CharField()
    postings = serializers.IntegerField()
    demand = serializers.IntegerField(help_text=_("Open positions remaining."))
    supply = serializers.IntegerField(
        allow_null=True, help_text=_("Available applicants (null for employers).")
    )
    gap = serializers.IntegerField()


class SupplyDemandSerializer(serializers.Serializer):
    results = SupplyDemandRowSerializer(many=True)


# --- Views --------------------------------------------------------------------------------


def _require_scope(request: Request) -> None:
    if statistics.statistics_scope(request.user) is None:
        raise NotFound()


def _query(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


TAG = ["transport statistics"]


class ArrivalsView(APIView):
    """Workers who boarded a charter and arrived, per day, mode and exporting province."""

    @extend_schema(
        tags=TAG,
        summary=_("Charter arrivals per day, by mode and exporting province"),
        parameters=[RangeQuerySerializer],
        responses=ArrivalsSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        period = _query(request, RangeQuerySerializer)
        figure = statistics.charter_arrivals(request.user, **period)
        return Response(ArrivalsSerializer({**period, **figure}).data)


class PipelineView(APIView):
    """Booked vs boarded vs arrived vs no-show of the trips departing in the range."""

    @extend_schema(
        tags=TAG,
        summary=_("Bookings, boarding and arrival per departure day and province pair"),
        parameters=[RangeQuerySerializer],
        responses=PipelineSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        period = _query(request, RangeQuerySerializer)
        figure = statistics.charter_pipeline(request.user, **period)
        return Response(PipelineSerializer({**period, **figure}).data)


class FillRatesView(APIView):
    """Positions, filled, held and fill % per occupation of the postings open in the range."""

    @extend_schema(
        tags=TAG,
        summary=_("Postings' fill rates by occupation"),
        parameters=[RangeQuerySerializer],
        responses=FillRatesSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        period = _query(request, RangeQuerySerializer)
        figure = statistics.posting_fill_rates(request.user, **period)
        return Response(FillRatesSerializer({**period, **figure}).data)


class PostingFillView(generics.ListAPIView):
    """The postings open in the range with their fill rate, the least filled first."""

    serializer_class = PostingFillSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return JobPosting.objects.none()
        _require_scope(self.request)
        period = _query(self.request, RangeQuerySerializer)
        return statistics.postings_fill(self.request.user, **period)

    @extend_schema(
        tags=TAG, summary=_("Postings with their fill rate"), parameters=[RangeQuerySerializer]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RetentionView(APIView):
    """Monthly arrival cohorts: the share still on post at 7, 30, 90 and 180 days."""

    @extend_schema(
        tags=TAG,
        summary=_("Retention cohorts by month of arrival"),
        parameters=[RetentionQuerySerializer],
        responses=RetentionSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        period = _query(request, RetentionQuerySerializer)
        cohorts = statistics.retention_cohorts(request.user, **period)
        return Response(RetentionSerializer({**period, "cohorts": cohorts}).data)


class SpringFestivalView(APIView):
    """Workers on post on the eve of the Spring Festival period (seven days before Chinese
    New Year's day to the Lantern Festival) and the share still on post after it."""

    @extend_schema(
        tags=TAG,
        summary=_("Retention over the Spring Festival"),
        parameters=[FestivalQuerySerializer],
        responses=SpringFestivalSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        year = _query(request, FestivalQuerySerializer).get("year")
        year = year or statistics.latest_spring_festival_year()
        figure = statistics.spring_festival_retention(request.user, year=year)
        return Response(SpringFestivalSerializer(figure).data)


class SupplyDemandView(APIView):
    """Today's open positions and available applicants by province pair and occupation."""

    @extend_schema(
        tags=TAG,
        summary=_("Supply and demand by province pair and occupation"),
        responses=SupplyDemandSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_scope(request)
        rows = statistics.supply_and_demand(request.user)
        return Response(SupplyDemandSerializer({"results": rows}).data)


urlpatterns = [
    path("statistics/arrivals/", ArrivalsView.as_view(), name="api-statistics-arrivals"),
    path("statistics/pipeline/", PipelineView.as_view(), name="api-statistics-pipeline"),
    path("statistics/fill-rates/", FillRatesView.as_view(), name="api-statistics-fill-rates"),
    path("statistics/postings/", PostingFillView.as_view(), name="api-statistics-postings"),
    path("statistics/retention/", RetentionView.as_view(), name="api-statistics-retention"),
    path(
        "statistics/spring-festival/",
        SpringFestivalView.as_view(),
        name="api-statistics-spring-festival",
    ),
    path(
        "statistics/supply-demand/",
        SupplyDemandView.as_view(),
        name="api-statistics-supply-demand",
    ),
]
