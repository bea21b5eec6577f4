"""Template helpers of the health pages, and the certificate status other apps' pages show
(`{% load health_tags %}`): recruitment templates use them without importing health.

    {% certificate_statuses page_obj as statuses %}       one query for the whole page
    {{ statuses|certificate_badge:applicant.pk }}          "valid until 2027-01-31" …

Rows may be applicants or anything with an `applicant_id` (whitelist entries). The badge
tells the status only: in force and fit until a date, not fit, expired, revoked, or none —
never the examiner's notes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from health.selectors import CertificateStatus
from health.selectors import certificate_statuses as statuses_of

register = template.Library()


@register.simple_tag(name="certificate_statuses")
def certificate_statuses(rows: Iterable[Any]) -> dict[int, CertificateStatus]:
    ids = {getattr(row, "applicant_id", None) or row.pk for row in rows or []}
    return statuses_of(ids) if ids else {}


@register.filter
def certificate_badge(statuses: dict[int, CertificateStatus] | None, applicant_id: int) -> str:
    status = (statuses or {}).get(applicant_id) or CertificateStatus("none")
    if status.code == "valid":
        text = _("Valid until %(date)s") % {"date": f"{status.valid_until:%Y-%m-%d}"}
        css = "badge-approved"
    elif status.code == "not_fit":
        text, css = _("Not fit"), "badge-rejected"
    elif status.code == "expired":
        text, css = _("Certificate expired"), "badge-expired"
    elif status.code == "revoked":
        text, css = _("Certificate revoked"), "badge-revoked"
    else:
        text, css = _("No certificate"), ""
    return format_html(
        '<span class="badge {}" data-certificate="{}">{}</span>', css, status.code, text
    )


@register.filter
def bilingual(label: Any) -> SafeString:
    """A lazily translated label in Chinese and English side by side (once if they are the
    same, e.g. before a translation exists)."""
    with translation.override("zh-hans"):
        chinese = str(label)
    with translation.override("en"):
        english = str(label)
    if chinese == english:
        return format_html('<span lang="en">{}</span>', english)
    return format_html(
        '<span lang="zh-Hans">{}</span> <span class="en" lang="en">{}</span>', chinese, english
    )
