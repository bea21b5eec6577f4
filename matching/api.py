"""REST for matching: runs (read, request) and match results for other provinces' systems."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import orjson
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from laborlink import outbox
from laborlink.filters import UtcIsoDateTimeFilter
from laborlink.pagination import CursorPagination
from laborlink.queries import prepared_values
from matching import selectors, services
from matching.models import Match, MatchRun


class RunSerializer(serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    # Always present (null when there is none): the schema lists every read-only field
    # as required, and a client can rely on the key.
    notice = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Only when the task queue was down as the run was requested: the run is recorded "
            "and starts when the queue is back."
        ),
    )

    class Meta:
        model = MatchRun
        fields = [
            "id",
            "trigger",
            "algorithm",
            "weights",
            "run_date",
            "status",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "input_fingerprint",
            "phase_seconds",
            "counts",
            "total_score",
            "matched_count",
            "fill_rate",
            "blocking_pairs",
            "error",
            "progress",
            "notice",
        ]
        read_only_fields = fields

    def get_requested_by(self, obj: MatchRun) -> str | None:
        return str(obj.requested_by) if obj.requested_by_id else None

    def get_progress(self, obj: MatchRun) -> dict[str, Any]:
        if obj.status not in (MatchRun.Status.REQUESTED, MatchRun.Status.RUNNING):
            return {}
        return services.run_progress(obj.pk)


class RunRequestSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(
        choices=MatchRun.Algorithm.choices, default=MatchRun.Algorithm.OPTIMAL
    )
    weights = serializers.DictField(child=serializers.FloatField(), required=False, default=dict)


@extend_schema_view(
    list=extend_schema(summary=_("Matching runs, newest first")),
    retrieve=extend_schema(summary=_("One matching run with its figures")),
)
class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The run ledger. A bureau officer or admin requests an on-demand run with POST."""

    serializer_class = RunSerializer
    filterset_fields = ["status", "algorithm", "trigger", "run_date"]
    ordering = ["-requested_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MatchRun.objects.none()
        return selectors.runs_visible_to(self.request.user)

    @extend_schema(request=RunRequestSerializer, responses={201: RunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RunRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with outbox.deliveries() as delivery:
            run = services.run_request(
                actor=request.user,
                algorithm=data.validated_data["algorithm"],
                weights=data.validated_data["weights"],
            )
        if delivery.delayed:
            run.notice = str(services.run_delayed_message(run))
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RunSerializer)
    @action(detail=False, methods=["get"])
    def latest(self, request: Request) -> Response:
        """The newest finished run."""
        run = selectors.latest_run()
        if run is None or not self.get_queryset().filter(pk=run.pk).exists():
            from rest_framework.exceptions import NotFound

            raise NotFound()
        return Response(RunSerializer(run).data)


class MatchSerializer(serializers.ModelSerializer):
    applicant = serializers.SerializerMethodField()
    posting = serializers.SerializerMethodField()
    exporting_province = serializers.CharField(source="exporting_province_id", read_only=True)
    importing_province = serializers.CharField(source="importing_province_id", read_only=True)
    score = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = [
            "id",
            "run",
            "applicant",
            "posting",
            "exporting_province",
            "importing_province",
            "score",
            "breakdown",
            "explanation",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_applicant(self, obj: Match) -> dict[str, Any]:
        visible = getattr(obj, "contact_visible", True)
        return {
            "id": obj.applicant_id,
            "name": obj.applicant.name if visible else None,
            "national_id_masked": obj.applicant.national_id_masked,
            "home_province": obj.applicant.home_province_id,
        }

    def get_posting(self, obj: Match) -> dict[str, Any]:
        return {
            "id": obj.posting_id,
            "title": obj.posting.title,
            "employer": obj.posting.employer.name,
            "city": obj.posting.city,
        }

    def get_score(self, obj: Match) -> float:
        return obj.score / 1000

    def get_explanation(self, obj: Match) -> list[str]:
        from matching.scoring import explain

        return explain(obj.breakdown, weights=obj.run.weights)


# The list reads rows, not model instances (a page holds up to 1,000 matches): the columns
# MatchSerializer shows, shaped by `match_rows` into the same fields.
MATCH_ROW = (
    "id",
    "run_id",
    "applicant_id",
    "applicant__name",
    "applicant__national_id_masked",
    "applicant__home_province_id",
    "posting_id",
    "posting__title",
    "posting__employer__name",
    "posting__city",
    "exporting_province_id",
    "importing_province_id",
    "score",
    "breakdown",
    "status",
    "created_at",
    "updated_at",
)


def match_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MatchSerializer's output for rows of `MATCH_ROW` with `run_weights` (the run's weights
    as JSON text) and, for an employer, `contact_visible`; without a model instance and a
    serializer field call per row and column: about five times less CPU per page (README,
    section "Load test")."""
    from matching.scoring import explainer

    explain = {}  # per run, from its weights (read with the rows as text: no query of its own)
    for row in rows:
        if row["run_id"] not in explain:
            explain[row["run_id"]] = explainer(orjson.loads(row["run_weights"]))
    zone = timezone.get_current_timezone()
    # A run writes all its matches with one timestamp, and answers come in bursts: a page
    # holds few distinct times, each formatted once.
    formatted: dict[datetime, str] = {}

    def when(value: datetime) -> str:  # as serializers.DateTimeField shows it
        text = formatted.get(value)
        if text is None:
            text = value.astimezone(zone).isoformat()
            if text.endswith("+00:00"):
                text = text[:-6] + "Z"
            formatted[value] = text
        return text

    return [
        {
            "id": row["id"],
            "run": row["run_id"],
            "applicant": {
                "id": row["applicant_id"],
                "name": row["applicant__name"] if row.get("contact_visible", True) else None,
                "national_id_masked": row["applicant__national_id_masked"],
                "home_province": row["applicant__home_province_id"],
            },
            "posting": {
                "id": row["posting_id"],
                "title": row["posting__title"],
                "employer": row["posting__employer__name"],
                "city": row["posting__city"],
            },
            "exporting_province": row["exporting_province_id"],
            "importing_province": row["importing_province_id"],
            "score": row["score"] / 1000,
            "breakdown": row["breakdown"],
            "explanation": explain[row["run_id"]](row["breakdown"]),
            "status": row["status"],
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
        }
        for row in rows
    ]


class MatchFilter(filters.FilterSet):
    latest = filters.BooleanFilter(method="filter_latest", label=_("Only the latest run"))
    exporting_province = filters.CharFilter(field_name="exporting_province_id")
    importing_province = filters.CharFilter(field_name="importing_province_id")
    changed_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Match
        fields = ["run", "posting", "applicant", "status"]

    def get_form_class(self):
        # The form's fields depend on nothing of the request (the choice filters read every
        # run, posting, applicant): built once per process, not on every page.
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    def filter_latest(self, queryset, name, value):
        if not value:
            return queryset
        run_id = selectors.latest_run_id()
        return queryset.none() if run_id is None else queryset.filter(run_id=run_id)


# What MatchSerializer reads (besides the match's own foreign keys).
MATCH_COLUMNS = (
    "run__weights",
    "applicant__name",
    "applicant__national_id_masked",
    "applicant__home_province",
    "posting__title",
    "posting__city",
    "posting__employer__name",
    "exporting_province",
    "importing_province",
    "score",
    "breakdown",
    "status",
    "created_at",
    "updated_at",
)


class MatchPagination(CursorPagination):
    ordering = "id"


@extend_schema_view(
    list=extend_schema(summary=_("Match results visible to the caller (cursor paging)")),
    retrieve=extend_schema(summary=_("One match with its score breakdown")),
)
class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Proposed and answered matches: an API client sees those of its province, as exporting
    or importing side; `changed_since` fetches what changed after a timestamp."""

    serializer_class = MatchSerializer
    filterset_class = MatchFilter
    pagination_class = MatchPagination
    # cursor paging needs one fixed order (the ordering filter would otherwise override it)
    ordering = ["id"]
    ordering_fields = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Match.objects.none()
        user = self.request.user
        visible = selectors.with_contact_visibility(user, selectors.matches_visible_to(user))
        # One match: load only the related columns the serializer shows.
        return (
            visible.select_related(None)
            .select_related("run", "applicant", "posting__employer")
            .only(*MATCH_COLUMNS)
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        rows = selectors.matches_visible_to(user, _match_rows().all())
        # an employer's `contact_visible`, annotated after values(), comes with the rows
        queryset = self.filter_queryset(selectors.with_contact_visibility(user, rows))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(match_rows(page))


@functools.cache
def _match_rows() -> QuerySet[Match]:
    """The match list's rows (`MATCH_ROW`, and the run's weights as text: parsed once per page,
    not once per row), read as a prepared statement. Built once per process: resolving the
    joins of 18 columns was a twentieth of a page's time; each request works on a clone."""
    weights = Cast("run__weights", output_field=TextField())
    return prepared_values(Match.objects.all(), *MATCH_ROW, run_weights=weights)
