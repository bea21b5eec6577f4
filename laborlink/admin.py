from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from laborlink.models import CooperationAgreement, Organization, Province, User
from laborlink.validators import normalize_credit_code


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "abbreviation", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False  # reference data shipped by a migration


class OrganizationAdminForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "kind",
            "level",
            "province",
            "city",
            "county",
            "credit_code",
            "contact_phone",
            "is_active",
        ]

    def clean_credit_code(self):
        return normalize_credit_code(self.cleaned_data.get("credit_code", ""))


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ["name", "kind", "level", "province", "city", "credit_code", "is_active"]
    list_filter = ["kind", "level", "province", "is_active"]
    search_fields = ["name", "city", "credit_code"]
    list_select_related = ["province"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("LaborLink"), {"fields": ("full_name", "organization", "role")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("LaborLink"), {"fields": ("full_name", "organization", "role")}),
    )
    list_display = ["username", "full_name", "role", "organization", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization__kind", "organization__province"]
    list_select_related = ["organization"]
    search_fields = ["username", "full_name", "organization__name"]
    autocomplete_fields = ["organization"]


@admin.register(CooperationAgreement)
class CooperationAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "importing_province",
        "exporting_province",
        "importing_city",
        "exporting_city",
        "valid_from",
        "valid_until",
        "status",
        "yearly_quota",
    ]
    list_filter = ["status", "importing_province", "exporting_province"]
    search_fields = ["title", "importing_city", "exporting_city"]
    list_select_related = ["importing_province", "exporting_province"]
    date_hierarchy = "valid_from"
