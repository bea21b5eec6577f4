"""Read-only admin for the health app.

Keys, certificates and logs are written only by `health.services` (signing, rotation,
revocation); the admin shows them for support and never decrypts anything: no private key,
health result, examiner notes or token appears here.
"""

from django.contrib import admin

from health.models import ArrivalCheck, HealthCertificate, IssuingKey, VerificationLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by platform admins; changed only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IssuingKey)
class IssuingKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "authority", "status", "created_at", "retired_at"]
    list_filter = ["status", "authority__province"]
    list_select_related = ["authority"]
    search_fields = ["kid", "authority__name"]
    fields = ["kid", "authority", "public_key", "status", "created_at", "retired_at"]
    readonly_fields = fields
    date_hierarchy = "created_at"


@admin.register(HealthCertificate)
class HealthCertificateAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "applicant",
        "authority",
        "examined_on",
        "issued_at",
        "valid_until",
        "status",
    ]
    list_filter = ["status", "authority"]
    list_select_related = ["applicant", "authority"]
    search_fields = ["number"]
    fields = [
        "number",
        "applicant",
        "authority",
        "key",
        "issued_by",
        "examined_on",
        "issued_at",
        "valid_until",
        "status",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    readonly_fields = fields
    date_hierarchy = "issued_at"


@admin.register(VerificationLog)
class VerificationLogAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "certificate_number", "outcome", "channel", "actor"]
    list_filter = ["outcome", "channel"]
    list_select_related = ["actor"]
    search_fields = ["certificate_number"]
    fields = ["checked_at", "certificate_number", "outcome", "channel", "actor"]
    readonly_fields = fields
    date_hierarchy = "checked_at"


@admin.register(ArrivalCheck)
class ArrivalCheckAdmin(ReadOnlyAdmin):
    list_display = ["placement", "checked_by", "checked_at"]
    list_select_related = ["checked_by"]
    fields = ["placement", "checked_by", "checked_at"]
    readonly_fields = fields
    date_hierarchy = "checked_at"
