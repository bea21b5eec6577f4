"""REST for matching: runs (read, request) and match results for other provinces' systems."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from laborlink.pagination import CursorPagination
from matching import selectors, services
from matching.models import Match, MatchRun


class RunSerializer(serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

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
        run = services.run_request(
            actor=request.user,
            algorithm=data.validated_data["algorithm"],
            weights=data.validated_data["weights"],
        )
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


class MatchFilter(filters.FilterSet):
    latest = filters.BooleanFilter(method="filter_latest", label=_("Only the latest run"))
    exporting_province = filters.CharFilter(field_name="exporting_province_id")
    importing_province = filters.CharFilter(field_name="importing_province_id")
    changed_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Match
        fields = ["run", "posting", "applicant", "status"]

    def filter_latest(self, queryset, name, value):
        if not value:
            return queryset
        run = selectors.latest_run()
        return queryset.filter(run=run) if run else queryset.none()


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
        return selectors.with_contact_visibility(user, selectors.matches_visible_to(user))
