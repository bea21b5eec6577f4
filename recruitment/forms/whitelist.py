"""Forms of the whitelist review pages."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.models import WhitelistEntry


class IdListField(forms.Field):
    """Ticked row ids (checkboxes sharing one name); the services check scope and state."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Tick at least one row."),
        "invalid": _("The selection is not valid."),
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


def _default_expiry():
    return timezone.localdate() + timedelta(days=90)


class ReviewDecisionForm(forms.Form):
    """Approve or reject the ticked applicants of the queue."""

    DECISIONS = [("approve", _("Approve")), ("reject", _("Reject"))]

    applicants = IdListField(label=_("Applicants"))
    decision = forms.ChoiceField(choices=DECISIONS, label=_("Decision"))
    expires_on = forms.DateField(
        label=_("Approval expires on"),
        required=False,
        initial=_default_expiry,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        help_text=_("Required for a rejection."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "approve" and not data.get("expires_on"):
            self.add_error("expires_on", _("Enter the date the approval expires."))
        return data


class EntriesActionForm(forms.Form):
    """Revoke, countersign or return the ticked entries."""

    entries = IdListField(label=_("Entries"))
    action = forms.ChoiceField(
        choices=[
            ("revoke", _("Revoke")),
            ("countersign", _("Countersign")),
            ("return", _("Return for correction")),
        ]
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class EntryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *WhitelistEntry.Status.choices, ("expired", _("Expired"))],
    )
    countersign = forms.ChoiceField(
        label=_("Countersignature"),
        required=False,
        choices=[("", _("All")), *WhitelistEntry.Countersign.choices],
    )
    province = forms.ChoiceField(label=_("Province"), required=False, choices=())
    q = forms.CharField(label=_("Name"), required=False)

    def __init__(self, *args, provinces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = [("", _("All")), *[(p.code, p.name) for p in provinces]]

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        today = timezone.localdate()
        if data["status"] == "expired":
            queryset = queryset.filter(status="approved", expires_on__lt=today)
        elif data["status"] == "approved":
            queryset = queryset.filter(status="approved", expires_on__gte=today)
        elif data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["countersign"]:
            queryset = queryset.filter(countersign=data["countersign"])
        if data["province"]:
            queryset = queryset.filter(importing_province_id=data["province"])
        if data["q"]:
            queryset = queryset.filter(applicant__name__icontains=data["q"].strip())
        return queryset
