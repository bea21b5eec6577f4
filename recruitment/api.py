"""REST endpoints of the recruitment app: postings, applicants and whitelist entries.

Every read goes through the selectors the pages use and every write through the services;
the serializers here only shape input and output. Full ID numbers and phones never appear
in a response, except in the audited answer of `applicants/{id}/reveal/`, and never in a
URL or query string (an exact look-up by ID number is a POST).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response

from laborlink import outbox
from laborlink.access import province_code_of
from laborlink.errors import DomainError, NotFound
from laborlink.models import Organization, User
from laborlink.selectors import provinces_cooperate
from recruitment import selectors, services
from recruitment.models import (
    Applicant,
    JobPosting,
    KeyGroup,
    PersonalDataReveal,
    Sex,
    Urgency,
    WhitelistDecision,
    WhitelistEntry,
)
from recruitment.national_id import normalize_national_id
from recruitment.notices import NOTIFYING_DELAYED
from recruitment.occupations import Occupation, occupation_label

Role = User.Role


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


# --- Postings -------------------------------------------------------------------------------


class PostingSerializer(serializers.ModelSerializer):
    employer = OrganizationRefSerializer(read_only=True)
    province = serializers.CharField(
        source="province_id", read_only=True, help_text=_("The employer's province (code).")
    )
    occupation_label = serializers.SerializerMethodField()
    target_provinces = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    positions_remaining = serializers.IntegerField(read_only=True)
    fill_percent = serializers.IntegerField(read_only=True)
    is_expired = serializers.BooleanField(read_only=True)
    status_display = serializers.CharField(source="display_status", read_only=True)
    # Always present (null when there is none): the schema lists every read-only field
    # as required, and a client can rely on the key.
    notice = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Only when work that follows the action is delayed (the task queue is down); "
            "it will be done automatically."
        ),
    )

    class Meta:
        model = JobPosting
        fields = [
            "id",
            "employer",
            "province",
            "title",
            "description",
            "occupation",
            "occupation_label",
            "positions",
            "positions_filled",
            "positions_remaining",
            "fill_percent",
            "wage_min",
            "wage_max",
            "city",
            "county",
            "workplace",
            "start_date",
            "deadline",
            "urgency",
            "caring_job",
            "housing_provided",
            "housing_subsidy",
            "transport_subsidy",
            "age_min",
            "age_max",
            "target_provinces",
            "contact_name",
            "contact_phone",
            "status",
            "is_expired",
            "status_display",
            "published_at",
            "created_at",
            "updated_at",
            "notice",
        ]
        read_only_fields = fields

    def get_occupation_label(self, obj: JobPosting) -> str:
        return occupation_label(obj.occupation)


class PostingWriteSerializer(serializers.Serializer):
    """A posting's editable fields. Business rules (wage and age ranges, dates, positions
    not below those filled, target provinces under an agreement) are checked by the service."""

    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True)
    occupation = serializers.ChoiceField(choices=Occupation.choices)
    positions = serializers.IntegerField()
    wage_min = serializers.IntegerField()
    wage_max = serializers.IntegerField()
    city = serializers.CharField(max_length=64)
    county = serializers.CharField(max_length=64, required=False, allow_blank=True)
    workplace = serializers.CharField(max_length=200, required=False, allow_blank=True)
    start_date = serializers.DateField()
    deadline = serializers.DateField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    caring_job = serializers.BooleanField(required=False)
    housing_provided = serializers.BooleanField(required=False)
    housing_subsidy = serializers.IntegerField(required=False)
    transport_subsidy = serializers.IntegerField(required=False)
    age_min = serializers.IntegerField(required=False)
    age_max = serializers.IntegerField(required=False)
    target_provinces = serializers.ListField(
        child=serializers.CharField(max_length=2),
        required=False,
        help_text=_(
            "Codes of the exporting provinces; on creation, every province cooperating with "
            "the employer's by default."
        ),
    )
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class PostingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=JobPosting.Status.choices,
        method="filter_status",
        label=_("Status (open and paused exclude postings past their deadline: see expired)"),
    )
    open = filters.BooleanFilter(
        method="filter_open",
        label=_("Open now: published, deadline not passed, positions left"),
    )
    expired = filters.BooleanFilter(
        method="filter_expired", label=_("Open or paused with its deadline passed")
    )
    urgency = filters.ChoiceFilter(choices=Urgency.choices)
    occupation = filters.ChoiceFilter(choices=Occupation.choices)
    city = filters.CharFilter(field_name="city")
    province = filters.CharFilter(field_name="province_id", label=_("Employer's province"))
    target_province = filters.CharFilter(
        field_name="target_provinces", label=_("Targeted exporting province")
    )
    caring_job = filters.BooleanFilter()
    start_date = filters.DateFromToRangeFilter()

    class Meta:
        model = JobPosting
        fields = ["status", "urgency", "occupation", "city", "province", "caring_job"]

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        queryset = queryset.filter(status=value)
        if value in {JobPosting.Status.OPEN, JobPosting.Status.PAUSED}:
            # as the pages show them: past its deadline, an open posting is "expired"
            queryset = queryset.filter(deadline__gte=timezone.localdate())
        return queryset

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        open_now = selectors.postings_open(among=JobPosting.objects.all()).values("pk")
        return queryset.filter(pk__in=open_now) if value else queryset.exclude(pk__in=open_now)

    def filter_expired(self, queryset, name, value):
        if value is None:
            return queryset
        expired = Q(
            status__in=[JobPosting.Status.OPEN, JobPosting.Status.PAUSED],
            deadline__lt=timezone.localdate(),
        )
        return queryset.filter(expired) if value else queryset.exclude(expired)


@extend_schema_view(
    list=extend_schema(summary=_("Job postings the caller may see")),
    retrieve=extend_schema(summary=_("One job posting")),
)
class JobPostingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Job postings: an employer's own; a bureau's province's; open postings targeted at a
    bureau's (or API client's) province. HR officers create and manage their own."""

    serializer_class = PostingSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = PostingFilter
    search_fields = ["title", "description", "city", "employer__name"]
    ordering_fields = [
        "created_at",
        "published_at",
        "start_date",
        "deadline",
        "wage_max",
        "positions",
    ]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[JobPosting]:
        if getattr(self, "swagger_fake_view", False):
            return JobPosting.objects.none()
        return selectors.postings_visible_to(self.request.user)

    def _respond(self, posting: JobPosting, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=posting.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary=_("Save a draft posting"),
        request=PostingWriteSerializer,
        responses={201: PostingSerializer},
    )
    def create(self, request: Request) -> Response:
        data = PostingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        targets = values.pop("target_provinces", None)
        posting = services.posting_create(actor=request.user, target_provinces=targets, **values)
        return self._respond(posting, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Replace a posting's fields"),
        request=PostingWriteSerializer,
        responses=PostingSerializer,
    )
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        summary=_("Change some of a posting's fields"),
        request=PostingWriteSerializer,
        responses=PostingSerializer,
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        posting = self.get_object()
        data = PostingWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        targets = changes.pop("target_provinces", None)
        posting = services.posting_update(
            actor=request.user, posting=posting, target_provinces=targets, **changes
        )
        return self._respond(posting)

    @extend_schema(summary=_("Publish a draft or paused posting"), request=None)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        with outbox.deliveries() as delivery:
            posting = services.posting_publish(actor=request.user, posting=self.get_object())
        response = self._respond(posting)
        if delivery.delayed:
            response.data["notice"] = str(NOTIFYING_DELAYED)
        return response

    @extend_schema(summary=_("Pause an open posting"), request=None)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        posting = services.posting_pause(actor=request.user, posting=self.get_object())
        return self._respond(posting)

    @extend_schema(summary=_("Close a posting"), request=None)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        posting = services.posting_close(actor=request.user, posting=self.get_object())
        return self._respond(posting)


# --- Applicants -----------------------------------------------------------------------------


class ApplicantSerializer(serializers.ModelSerializer):
    """An applicant as the caller may see it: ID number and phone always masked; for an
    employer, name and phone only once the applicant accepted one of its offers."""

    name = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()
    home_province = serializers.CharField(source="home_province_id", read_only=True)
    age = serializers.SerializerMethodField()
    registering_bureau = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Applicant
        fields = [
            "id",
            "name",
            "national_id_masked",
            "phone_masked",
            "home_province",
            "region_known",
            "sex",
            "age",
            "skills",
            "preferred_provinces",
            "minimum_wage",
            "available_from",
            "key_groups",
            "consent_cross_province",
            "consent_recorded_at",
            "registering_bureau",
            "created_at",
        ]
        read_only_fields = fields

    def _contact_visible(self, obj: Applicant) -> bool:
        visible = getattr(obj, "contact_visible", None)
        if visible is None:
            visible = selectors.employer_may_see_contact(self.context["request"].user, obj)
        return visible

    def get_name(self, obj: Applicant) -> str | None:
        return obj.name if self._contact_visible(obj) else None

    def get_phone_masked(self, obj: Applicant) -> str | None:
        return obj.phone_masked if self._contact_visible(obj) else None

    def get_age(self, obj: Applicant) -> int:
        return obj.age_on(timezone.localdate())


class ApplicantChangeSerializer(serializers.Serializer):
    """What a bureau may correct. The service checks every value and reports all problems."""

    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    skills = serializers.ListField(child=serializers.CharField(), required=False)
    preferred_provinces = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("Province codes.")
    )
    minimum_wage = serializers.IntegerField(required=False, allow_null=True)
    available_from = serializers.DateField(required=False, allow_null=True)
    key_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=KeyGroup.choices), required=False
    )
    consent = serializers.BooleanField(
        required=False, help_text=_("Consent to cross-province sharing.")
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class ApplicantRegisterSerializer(ApplicantChangeSerializer):
    national_id = serializers.CharField(allow_blank=True)
    home_province = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Must be the ID number's province.")
    )


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=PersonalDataReveal.Field.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RevealResultSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class LookupSerializer(serializers.Serializer):
    national_id = serializers.CharField()


class ApplicantFilter(filters.FilterSet):
    home_province = filters.CharFilter(field_name="home_province_id")
    sex = filters.ChoiceFilter(choices=Sex.choices)
    skill = filters.ChoiceFilter(
        choices=Occupation.choices, method="filter_skill", label=_("Has this skill")
    )
    key_group = filters.ChoiceFilter(
        choices=KeyGroup.choices, method="filter_key_group", label=_("In this key group")
    )
    consent = filters.BooleanFilter(field_name="consent_cross_province")
    region_known = filters.BooleanFilter()
    registered_after = filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    registered_before = filters.DateFilter(field_name="created_at__date", lookup_expr="lte")
    whitelisted_for = filters.CharFilter(
        method="filter_whitelisted",
        label=_("Has a whitelist entry for this importing province (code)"),
    )
    whitelist_status = filters.ChoiceFilter(
        choices=WhitelistEntry.Status.choices,
        method="filter_whitelisted",
        label=_("Status of that entry (with whitelisted_for)"),
    )

    class Meta:
        model = Applicant
        fields = ["home_province", "sex", "consent", "region_known"]

    def filter_skill(self, queryset, name, value):
        return queryset.filter(skills__contains=[value]) if value else queryset

    def filter_key_group(self, queryset, name, value):
        return queryset.filter(key_groups__contains=[value]) if value else queryset

    def filter_whitelisted(self, queryset, name, value):
        # Both parameters are applied together, once, from the cleaned data.
        if name != "whitelisted_for":
            return queryset
        entries = selectors.whitelist_entries_visible_to(self.request.user).filter(
            applicant_id=OuterRef("pk"), importing_province_id=value
        )
        wanted_status = self.form.cleaned_data.get("whitelist_status")
        if wanted_status:
            entries = entries.filter(status=wanted_status)
        return queryset.filter(Exists(entries))


class ApplicantNameSearch(SearchFilter):
    """Search by name only. An employer's search reaches only the applicants whose name it may
    already see, so that a search cannot tell it a hidden name."""

    def filter_queryset(self, request, queryset, view):
        filtered = super().filter_queryset(request, queryset, view)
        if self.get_search_terms(request) and request.user.role == Role.HR_OFFICER:
            filtered = filtered.filter(contact_visible=True)
        return filtered


@extend_schema_view(
    list=extend_schema(summary=_("Applicants the caller may see")),
    retrieve=extend_schema(summary=_("One applicant")),
)
class ApplicantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Applicants, masked. An exporting bureau sees those it registered, an importing bureau
    those approved for its province, an employer those placed on its postings, an API client
    what its bureau sees. There is no query parameter for an ID number or a phone."""

    serializer_class = ApplicantSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = ApplicantFilter
    filter_backends = [filters.DjangoFilterBackend, ApplicantNameSearch, OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["created_at", "minimum_wage", "available_from"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Applicant]:
        if getattr(self, "swagger_fake_view", False):
            return Applicant.objects.none()
        user = self.request.user
        return selectors.with_contact_visibility(user, selectors.applicants_visible_to(user))

    def _registered(self, pk: Any) -> Applicant:
        """An applicant of the caller's own registry; anyone else's is 404."""
        found = selectors.applicants_registered_by(self.request.user).filter(pk=pk).first()
        if found is None:
            raise NotFound()
        return found

    def _respond(self, applicant: Applicant, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=applicant.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary=_("Register an applicant"),
        request=ApplicantRegisterSerializer,
        responses={201: ApplicantSerializer},
    )
    def create(self, request: Request) -> Response:
        data = ApplicantRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        applicant = services.applicant_register(actor=request.user, **data.validated_data)
        return self._respond(applicant, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Correct a registration (the ID number cannot change)"),
        request=ApplicantChangeSerializer,
        responses=ApplicantSerializer,
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        applicant = self._registered(pk)
        if "national_id" in request.data:
            raise serializers.ValidationError(
                {"national_id": [_("The ID number cannot change; register the person anew.")]}
            )
        data = ApplicantChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        applicant = services.applicant_update(
            actor=request.user, applicant=applicant, **data.validated_data
        )
        return self._respond(applicant)

    @extend_schema(
        summary=_("Show one full ID number or phone (audited)"),
        request=RevealSerializer,
        responses=RevealResultSerializer,
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        applicant = self._registered(pk)
        data = RevealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        field = data.validated_data["field"]
        value = services.applicant_reveal(
            actor=request.user,
            applicant=applicant,
            field=field,
            reason=data.validated_data["reason"],
        )
        response = Response({"field": field, "value": value})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary=_("Find an applicant of your registry by ID number"),
        description=_(
            "The ID number travels in the request body, never in a URL. Answers 404 when "
            "your bureau has not registered that person."
        ),
        request=LookupSerializer,
        responses=ApplicantSerializer,
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def lookup(self, request: Request) -> Response:
        data = LookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        digest = services.applicant_index(normalize_national_id(data.validated_data["national_id"]))
        found = (
            selectors.applicants_registered_by(request.user).filter(national_id_hash=digest).first()
        )
        if found is None:
            raise NotFound()
        return self._respond(found)


# --- Whitelist ------------------------------------------------------------------------------


class WhitelistApplicantSerializer(serializers.ModelSerializer):
    home_province = serializers.CharField(source="home_province_id", read_only=True)

    class Meta:
        model = Applicant
        fields = ["id", "name", "national_id_masked", "home_province"]
        read_only_fields = fields


class WhitelistDecisionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.full_name", read_only=True)

    class Meta:
        model = WhitelistDecision
        fields = ["action", "actor", "reason", "expires_on", "decided_at"]
        read_only_fields = fields


class WhitelistEntrySerializer(serializers.ModelSerializer):
    applicant = WhitelistApplicantSerializer(read_only=True)
    importing_province = serializers.CharField(source="importing_province_id", read_only=True)
    status_display = serializers.CharField(source="display_status", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.full_name", read_only=True, allow_null=True
    )
    countersigned_by = serializers.CharField(
        source="countersigned_by.full_name", read_only=True, allow_null=True
    )
    is_effective = serializers.SerializerMethodField()
    history = WhitelistDecisionSerializer(source="decisions", many=True, read_only=True)

    class Meta:
        model = WhitelistEntry
        fields = [
            "id",
            "applicant",
            "importing_province",
            "status",
            "status_display",
            "expires_on",
            "decided_by",
            "decided_at",
            "reason",
            "countersign",
            "countersigned_by",
            "countersigned_at",
            "countersign_reason",
            "is_effective",
            "history",
        ]
        read_only_fields = fields

    def get_is_effective(self, obj: WhitelistEntry) -> bool:
        return obj.is_effective_on(timezone.localdate())


class WhitelistApproveSerializer(serializers.Serializer):
    applicants = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    importing_province = serializers.CharField(max_length=2)
    expires_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class WhitelistRejectSerializer(serializers.Serializer):
    applicants = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    importing_province = serializers.CharField(max_length=2)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class WhitelistEntriesSerializer(serializers.Serializer):
    entries = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class WhitelistEntriesReasonSerializer(WhitelistEntriesSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewQueueQuerySerializer(serializers.Serializer):
    province = serializers.CharField(max_length=2)
    include_decided = serializers.BooleanField(
        required=False, default=False, help_text=_("Also rejected and revoked applicants.")
    )


class WhitelistFilter(filters.FilterSet):
    importing_province = filters.CharFilter(field_name="importing_province_id")
    status = filters.ChoiceFilter(choices=WhitelistEntry.Status.choices)
    countersign = filters.ChoiceFilter(choices=WhitelistEntry.Countersign.choices)
    expires_before = filters.DateFilter(field_name="expires_on", lookup_expr="lte")
    expires_after = filters.DateFilter(field_name="expires_on", lookup_expr="gte")
    applicant = filters.NumberFilter(field_name="applicant_id")

    class Meta:
        model = WhitelistEntry
        fields = ["importing_province", "status", "countersign", "applicant"]


@extend_schema_view(
    list=extend_schema(summary=_("Whitelist entries the caller may see")),
    retrieve=extend_schema(summary=_("One whitelist entry with its history")),
)
class WhitelistEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Whitelist entries: the exporting bureau decides (approve, reject, revoke) for its own
    applicants, the importing bureau countersigns or returns approvals for its province.
    Every decision is all or nothing over the ids given."""

    serializer_class = WhitelistEntrySerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = WhitelistFilter
    search_fields = ["applicant__name"]
    ordering_fields = ["updated_at", "decided_at", "expires_on"]
    ordering = ["-updated_at", "-id"]

    def get_queryset(self) -> QuerySet[WhitelistEntry]:
        if getattr(self, "swagger_fake_view", False):
            return WhitelistEntry.objects.none()
        decisions = WhitelistDecision.objects.select_related("actor").order_by("decided_at", "id")
        return selectors.whitelist_entries_visible_to(self.request.user).prefetch_related(
            Prefetch("decisions", queryset=decisions)
        )

    def _input(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _respond(self, entries: list[WhitelistEntry]) -> Response:
        fresh = self.get_queryset().filter(pk__in=[e.pk for e in entries]).order_by("pk")
        return Response(self.get_serializer(fresh, many=True).data)

    @extend_schema(
        summary=_("Approve applicants for an importing province"),
        request=WhitelistApproveSerializer,
        responses=WhitelistEntrySerializer(many=True),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request: Request) -> Response:
        values = self._input(WhitelistApproveSerializer)
        return self._respond(services.whitelist_approve(actor=request.user, **values))

    @extend_schema(
        summary=_("Refuse applicants for an importing province (reason required)"),
        request=WhitelistRejectSerializer,
        responses=WhitelistEntrySerializer(many=True),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def reject(self, request: Request) -> Response:
        values = self._input(WhitelistRejectSerializer)
        return self._respond(services.whitelist_reject(actor=request.user, **values))

    @extend_schema(
        summary=_("Withdraw approvals (reason required)"),
        request=WhitelistEntriesReasonSerializer,
        responses=WhitelistEntrySerializer(many=True),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def revoke(self, request: Request) -> Response:
        values = self._input(WhitelistEntriesReasonSerializer)
        return self._respond(services.whitelist_revoke(actor=request.user, **values))

    @extend_schema(
        summary=_("Countersign approvals for your province"),
        request=WhitelistEntriesSerializer,
        responses=WhitelistEntrySerializer(many=True),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def countersign(self, request: Request) -> Response:
        values = self._input(WhitelistEntriesSerializer)
        return self._respond(services.whitelist_countersign(actor=request.user, **values))

    @extend_schema(
        summary=_("Return approvals to the exporting bureau for correction (reason required)"),
        request=WhitelistEntriesReasonSerializer,
        responses=WhitelistEntrySerializer(many=True),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="return",
        url_name="return",
        filter_backends=[],
        pagination_class=None,
    )
    def return_entries(self, request: Request) -> Response:
        values = self._input(WhitelistEntriesReasonSerializer)
        return self._respond(services.whitelist_return(actor=request.user, **values))

    @extend_schema(
        summary=_("Your applicants awaiting a decision for an importing province"),
        parameters=[
            OpenApiParameter(
                "province",
                str,
                required=True,
                description=_("Importing province (code)."),
            )
        ],
        responses=ApplicantSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="review-queue", filter_backends=[])
    def review_queue(self, request: Request) -> Response:
        query = ReviewQueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        province = query.validated_data["province"]
        own = province_code_of(request.user)
        if own is None or not provinces_cooperate(importing=province, exporting=own):
            raise DomainError(
                _("No cooperation agreement with this province is in force."),
                code="no_agreement",
                field="province",
            )
        applicants = selectors.applicants_for_review(
            request.user,
            province=province,
            include_decided=query.validated_data["include_decided"],
        ).filter(consent_cross_province=True)
        page = self.paginate_queryset(applicants.order_by("created_at", "id"))
        rows = ApplicantSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(rows.data)
