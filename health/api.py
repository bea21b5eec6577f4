"""REST endpoints of the health app: certificates, verification and issuing keys.

Reads go through `health.selectors`, writes through `health.services`. The health result,
the signed token and the examiner notes are shown only to the issuing authority's health
officers; an exporting bureau or an API client reads the status fields (valid until …).
Anyone may verify a token: `POST /api/v1/certificates/verify/` answers 200 with the reason
code for every outcome, and every call is written to the verification log.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from health import selectors, services, tokens
from health.models import HealthCertificate, IssuingKey
from laborlink.models import Organization
from recruitment.models import Applicant

# --- Certificates ---------------------------------------------------------------------------


class CertificateApplicantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Applicant
        fields = ["id", "name", "national_id_masked"]
        read_only_fields = fields


class AuthorityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.STR)
class IssuerOnlyField(serializers.Field):
    """A value only the issuing authority's health officers read; the key is left out of the
    response for everyone else. Output only: it is not read-only merely so that the schema
    shows it as optional (drf-spectacular marks every read-only field as required)."""

    def __init__(self, read: Any, **kwargs: Any) -> None:
        self.read = read
        super().__init__(source="*", required=False, **kwargs)

    def get_attribute(self, instance: HealthCertificate) -> HealthCertificate:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not selectors.may_read_examiner_notes(user, instance):
            raise SkipField()
        return instance

    def to_representation(self, value: HealthCertificate) -> str:
        return self.read(value)

    def to_internal_value(self, data: Any) -> Any:
        raise serializers.ValidationError(_("This field is read-only."))


class CertificateSerializer(serializers.ModelSerializer):
    applicant = CertificateApplicantSerializer(read_only=True)
    authority = AuthorityRefSerializer(read_only=True)
    key_id = serializers.CharField(source="key.kid", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    in_force = serializers.SerializerMethodField(
        help_text=_("Usable today: unrevoked, within its validity (Asia/Shanghai) and fit.")
    )
    result = IssuerOnlyField(
        services.certificate_result,
        help_text=_("fit or not_fit. Only for the issuing authority's health officers."),
    )
    token = IssuerOnlyField(
        services.certificate_token,
        help_text=_("The signed token (compact JWS). Only for the issuing authority."),
    )
    notes = IssuerOnlyField(
        services.certificate_notes,
        help_text=_("Examiner notes. Only for the issuing authority's health officers."),
    )

    class Meta:
        model = HealthCertificate
        fields = [
            "id",
            "number",
            "applicant",
            "authority",
            "key_id",
            "examined_on",
            "issued_at",
            "valid_until",
            "status",
            "status_display",
            "revoked_at",
            "revoke_reason",
            "in_force",
            "result",
            "token",
            "notes",
        ]
        read_only_fields = [name for name in fields if name not in {"result", "token", "notes"}]

    def get_in_force(self, obj: HealthCertificate) -> bool:
        # "in force" means usable: unrevoked, within its dates, and fit (as the whitelist
        # page's status says), without telling others more than that.
        return (
            obj.is_in_force_on(timezone.localdate())
            and services.certificate_result(obj) == HealthCertificate.Result.FIT
        )


class CertificateIssueSerializer(serializers.Serializer):
    """What the examiner enters; the policy bounds (dates, notes length, the applicant's
    province) are checked by `services.certificate_issue`."""

    applicant = serializers.IntegerField(help_text=_("Applicant id (of your province)."))
    examined_on = serializers.DateField()
    result = serializers.ChoiceField(choices=HealthCertificate.Result.choices)
    valid_until = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CertificateRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class TokenField(serializers.CharField):
    """A token is a string: numbers, lists and objects are refused rather than coerced."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenVerifySerializer(serializers.Serializer):
    token = TokenField(
        max_length=tokens.MAX_TOKEN_LENGTH,
        help_text=_("The compact JWS printed on the certificate (and in its QR code)."),
    )


class VerifiedCertificateSerializer(serializers.Serializer):
    number = serializers.CharField(allow_null=True)
    issuer = serializers.CharField(allow_null=True)
    issuer_name = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_null=True)
    national_id_masked = serializers.CharField(allow_null=True)
    result = serializers.CharField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    valid_from = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


VERIFICATION_CODES = [
    tokens.VALID,
    tokens.EXPIRED,
    tokens.NOT_YET_VALID,
    tokens.REVOKED,
    tokens.SIGNATURE_INVALID,
    tokens.UNKNOWN_KEY,
    tokens.UNKNOWN_ISSUER,
    tokens.KEY_RETIRED,
    tokens.ALGORITHM_NOT_ALLOWED,
    tokens.MALFORMED,
]


class VerificationSerializer(serializers.Serializer):
    """The outcome of a verification (`health.tokens.Verification.as_dict()`)."""

    code = serializers.ChoiceField(
        choices=[(code, code) for code in VERIFICATION_CODES],
        help_text=_("The outcome's reason code."),
    )
    valid = serializers.BooleanField()
    message = serializers.CharField(help_text=_("The outcome in the caller's language."))
    certificate = VerifiedCertificateSerializer(
        required=False,
        help_text=_(
            "What the token says, when it could be read and its signature holds "
            "(absent for malformed, altered and unknown-key tokens)."
        ),
    )


class CertificateFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=HealthCertificate.Status.choices)
    applicant = filters.NumberFilter(field_name="applicant_id")
    valid_until_after = filters.DateFilter(
        field_name="valid_until", lookup_expr="gte", label=_("valid until on or after")
    )
    valid_until_before = filters.DateFilter(
        field_name="valid_until", lookup_expr="lte", label=_("valid until on or before")
    )
    issued_after = filters.DateFilter(
        field_name="issued_at", lookup_expr="date__gte", label=_("issued on or after")
    )
    issued_before = filters.DateFilter(
        field_name="issued_at", lookup_expr="date__lte", label=_("issued on or before")
    )

    class Meta:
        model = HealthCertificate
        fields = ["status", "applicant"]


@extend_schema_view(
    list=extend_schema(summary=_("Health certificates the caller may see")),
    retrieve=extend_schema(summary=_("One health certificate")),
)
class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Health certificates. A health officer sees those its authority issued, with the
    result, the token and the examiner notes; an exporting bureau (and its API client) sees
    the status of its applicants' certificates only."""

    serializer_class = CertificateSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = CertificateFilter
    search_fields = ["number", "applicant__name"]
    ordering_fields = ["issued_at", "valid_until", "examined_on", "number"]
    ordering = ["-issued_at", "-id"]

    def get_queryset(self) -> QuerySet[HealthCertificate]:
        if getattr(self, "swagger_fake_view", False):
            return HealthCertificate.objects.none()
        return selectors.certificates_visible_to(self.request.user)

    def _respond(self, certificate: HealthCertificate, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=certificate.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary=_("Issue a signed health certificate (health officers)"),
        request=CertificateIssueSerializer,
        responses={201: CertificateSerializer},
    )
    def create(self, request: Request) -> Response:
        data = CertificateIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        certificate = services.certificate_issue(actor=request.user, **data.validated_data)
        return self._respond(certificate, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Revoke a certificate (reason required)"),
        request=CertificateRevokeSerializer,
        responses=CertificateSerializer,
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        certificate = self.get_object()  # 404 outside the caller's scope
        data = CertificateRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        certificate = services.certificate_revoke(
            actor=request.user, certificate=certificate, reason=data.validated_data["reason"]
        )
        return self._respond(certificate)

    @extend_schema(
        summary=_("Verify a certificate token (anyone; every call is logged)"),
        description=_(
            "Checks the signature against the published trust list and the revocation list. "
            "Answers 200 for every outcome: `code` says why a token is refused (expired, "
            "not_yet_valid, revoked, signature_invalid, unknown_key, unknown_issuer, "
            "key_retired, algorithm_not_allowed, malformed). A missing or non-text token "
            "answers 400."
        ),
        request=TokenVerifySerializer,
        responses={200: VerificationSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        # Verifying reads nothing private, so anonymous callers and API clients may POST it
        # (this list replaces the global IsAuthenticated + IsReadOnlyForClients).
        permission_classes=[AllowAny],
        filter_backends=[],
        pagination_class=None,
    )
    def verify(self, request: Request) -> Response:
        data = TokenVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.certificate_verify(
            actor=request.user, token=data.validated_data["token"], channel="api"
        )
        response = Response(outcome.as_dict())
        response["Cache-Control"] = "no-store"
        return response


# --- Issuing keys ---------------------------------------------------------------------------


class IssuingKeySerializer(serializers.ModelSerializer):
    issuer = serializers.SerializerMethodField(help_text=_("The issuer id in tokens (iss)."))
    x = serializers.CharField(
        source="public_key",
        read_only=True,
        help_text=_("The Ed25519 public key, base64url (as in the trust list)."),
    )

    class Meta:
        model = IssuingKey
        fields = ["kid", "issuer", "status", "created_at", "retired_at", "x"]
        read_only_fields = fields

    def get_issuer(self, obj: IssuingKey) -> str:
        return services.issuer_id(obj.authority)


@extend_schema_view(
    list=extend_schema(summary=_("Your authority's signing keys (public halves only)")),
    retrieve=extend_schema(summary=_("One signing key")),
)
class IssuingKeyViewSet(viewsets.ReadOnlyModelViewSet):
    """The health authority's Ed25519 signing keys: the active one and those retired. The
    private halves never leave the server."""

    serializer_class = IssuingKeySerializer
    lookup_field = "kid"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    filterset_fields = ["status"]
    search_fields: list[str] = []
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[IssuingKey]:
        if getattr(self, "swagger_fake_view", False):
            return IssuingKey.objects.none()
        return selectors.issuing_keys_visible_to(self.request.user)

    @extend_schema(
        summary=_("Rotate: retire the active key and sign with a new one from now on"),
        description=_("Certificates signed with the retired key keep verifying until they expire."),
        request=None,
        responses={201: IssuingKeySerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def rotate(self, request: Request) -> Response:
        key = services.issuing_key_rotate(actor=request.user)
        fresh = self.get_queryset().get(pk=key.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)
