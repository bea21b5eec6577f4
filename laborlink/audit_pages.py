"""The audit page: bureau officers search the trail of their province by object and by user."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from laborlink import audit
from laborlink.models import AuditEvent, User

PAGE_SIZE = 50

KIND_CHOICES = [
    ("", _("All")),
    ("insert", audit.CHANGE_LABELS["insert"]),
    ("update", audit.CHANGE_LABELS["update"]),
    ("delete", audit.CHANGE_LABELS["delete"]),
    *AuditEvent.Action.choices,
]


class AuditSearchForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object"), required=False)
    object_id = forms.IntegerField(label=_("Object number"), required=False, min_value=1)
    username = forms.CharField(label=_("User name"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("Action"), required=False, choices=KIND_CHOICES)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [
            ("", _("All")),
            *audit.object_type_choices(),
            ("transport.statistics", _("Statistics")),
        ]

    def clean_username(self) -> User | None:
        name = self.cleaned_data["username"].strip()
        if not name:
            return None
        user = User.objects.filter(username=name).first()
        if user is None:
            raise forms.ValidationError(_("There is no user with this name."))
        return user

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("object_id") and not cleaned.get("object_type"):
            self.add_error("object_type", _("Choose the kind of object the number belongs to."))
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_GET
def audit_search(request: HttpRequest) -> HttpResponse:
    if not audit.can_read_audit(request.user):
        raise Http404
    form = AuditSearchForm(request.GET or None)
    entries: list[audit.Entry] = []
    next_cursor = ""
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = audit.Filters(
            object_type=data.get("object_type") or "",
            object_id=str(data["object_id"]) if data.get("object_id") else "",
            actor=data.get("username"),
            kinds=(data["kind"],) if data.get("kind") else (),
            since=_day_start(data["since"]) if data.get("since") else None,
            until=_day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
            cursor=request.GET.get("after", "")[:80],
        )
        entries = audit.audit_entries(request.user, filters, limit=PAGE_SIZE + 1)
        if len(entries) > PAGE_SIZE:
            entries = entries[:PAGE_SIZE]
            next_cursor = entries[-1].cursor
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "laborlink/audit.html",
        {
            "form": form,
            "entries": entries,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "first_page": not request.GET.get("after"),
        },
    )


urlpatterns = [path("audit/", audit_search, name="audit")]
