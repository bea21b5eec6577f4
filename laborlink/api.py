"""API base: authentication, pagination, the one error shape, and the core endpoints."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from django.views import defaults as django_defaults
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from laborlink import selectors
from laborlink.errors import DomainError
from laborlink.models import CooperationAgreement, Organization, Province, User

logger = logging.getLogger(__name__)


# --- One error shape ------------------------------------------------------------------------


def error_body(code: str, message: Any, details: Any = None) -> dict[str, Any]:
    """The one error shape of the API: {"error": {"code", "message", "details"?}}."""
    body: dict[str, Any] = {"error": {"code": code, "message": str(message)}}
    if details:
        body["error"]["details"] = details
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error answers {"error": {"code", "message", "details"?}}."""
    if isinstance(exc, DomainError):
        details = dict(exc.details)
        if exc.field:
            details.setdefault(exc.field, [str(exc.message)])
        return Response(error_body(exc.code, exc.message, details), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if not isinstance(exc, exceptions.APIException):
        return None  # a server error: Django's handler logs it and answers 500

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body("invalid", _("The request contains invalid data."), details)
    else:
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        body = error_body(str(code), detail)
    return Response(body, status=exc.status_code, headers=headers)


# --- Core endpoints -------------------------------------------------------------------------


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name_zh", "name_en", "abbreviation", "kind"]


class ProvinceViewSet(viewsets.ReadOnlyModelViewSet):
    """The 34 provincial-level divisions (GB/T 2260). Public reference data."""

    serializer_class = ProvinceSerializer
    pagination_class = None
    filterset_fields = ["kind"]
    search_fields = ["code", "name_zh", "name_en"]
    lookup_field = "code"

    def get_queryset(self):
        return selectors.provinces_all()


class AgreementSerializer(serializers.ModelSerializer):
    importing_province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    exporting_province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    in_force_today = serializers.SerializerMethodField()

    class Meta:
        model = CooperationAgreement
        fields = [
            "id",
            "title",
            "importing_province",
            "exporting_province",
            "importing_city",
            "exporting_city",
            "signed_on",
            "valid_from",
            "valid_until",
            "status",
            "yearly_quota",
            "in_force_today",
        ]

    def get_in_force_today(self, obj: CooperationAgreement) -> bool:
        from django.utils import timezone

        return obj.is_in_force_on(timezone.localdate())


class AgreementFilter(filters.FilterSet):
    importing_province = filters.CharFilter(field_name="importing_province_id")
    exporting_province = filters.CharFilter(field_name="exporting_province_id")
    in_force_on = filters.DateFilter(method="filter_in_force_on", label=_("in force on"))

    class Meta:
        model = CooperationAgreement
        fields = ["status", "importing_province", "exporting_province"]

    def filter_in_force_on(self, queryset, name, value):
        return selectors.agreements_in_force(on=value, among=queryset)


class AgreementViewSet(viewsets.ReadOnlyModelViewSet):
    """Cooperation agreements of the caller's province (all of them for platform admins)."""

    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    search_fields = ["title", "importing_city", "exporting_city"]
    ordering_fields = ["valid_from", "signed_on", "id"]
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CooperationAgreement.objects.none()
        return selectors.agreements_visible_to(self.request.user)


class OrganizationBriefSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "kind", "level", "province", "city"]


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationBriefSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "organization"]


class MeView(APIView):
    """Who the caller is: role, organisation and province."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data, status=status.HTTP_200_OK)


# --- Django's own 400 and 404 under /api/ ---------------------------------------------------


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """Django's 400 handler (a request Django itself refuses, before any API view): the one
    error shape under /api/, Django's page elsewhere."""
    if is_api_path(request):
        body = error_body("bad_request", _("The request could not be read."))
        return JsonResponse(body, status=400)
    return django_defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """Django's 404 handler: a URL under /api/ that no route matches (an id with a slash or
    a dot, a misspelt path) answers in the one error shape, like the API's own 404s."""
    if is_api_path(request):
        return JsonResponse(error_body("not_found", exceptions.NotFound.default_detail), status=404)
    return django_defaults.page_not_found(request, exception)
