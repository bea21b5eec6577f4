"""Filters the API's filter sets share."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, handed to the database in UTC.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: a query with
    `…T10:00+18:00` would fail in the database (a 500) instead of being read. A time that
    leaves the years 1-9999 once converted is refused like any other bad value."""

    default_error_messages = {
        "overflow": _("Enter a date and time between the years 1 and 9999."),
    }

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from exc


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
