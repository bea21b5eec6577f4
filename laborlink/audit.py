"""The audit trail: who changed what (row history), who read personal data, who was refused.

Two sources, one page:

- **Row changes** of postings, applicants, whitelist entries, certificates, placements,
  trips and bookings are written by PostgreSQL triggers (django-pghistory) into one history
  table per model: a snapshot of the row after each insert and update and before each
  delete, with the request's user and path (`AuditContextMiddleware`) or the Celery task's
  name (`laborlink.celery`). Triggers see what the ORM does not: bulk `UPDATE`s, an import's
  `COPY`, a raw SQL fix. Before/after of a change is the difference between an event's
  snapshot and the previous snapshot of the same row.
- **Reads and refusals** (`AuditEvent`): reveals of full numbers, exports, certificate
  verifications, refused accesses, written by `record()`.

`audit_entries()` merges both, newest first, scoped to the reader: bureau officers see what
concerns their province, platform administrators everything. `prune()` removes entries older
than the retention period and never anything younger than six months.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pghistory.middleware import HistoryMiddleware

from laborlink.models import AuditEvent, User

# Columns of the tracked tables that hold personal data (ciphertext or keyed digests): the
# audit page says that they changed, never what they hold.
SECRET_COLUMN_MARKERS = ("encrypted", "digest", "_hash", "token")
# Columns not worth a line in "what changed".
QUIET_COLUMNS = {"updated_at", "id"}

CHANGE_LABELS = {
    "insert": _("Created"),
    "update": _("Changed"),
    "delete": _("Deleted"),
}


class AuditContextMiddleware(HistoryMiddleware):
    """Attach the user and the path (never the query string) to every row the request writes.
    The user is updated when DRF authenticates a session user in the view."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        user = getattr(request, "user", None)
        return {
            "user": user.pk if user is not None and user.is_authenticated else None,
            "url": request.path[:300],
        }


# --- reads and refusals ------------------------------------------------------------------


def _client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _province_codes(*codes: str | None) -> list[str]:
    return sorted({code for code in codes if code})


def record(
    *,
    action: str,
    actor: User | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
    province: str | None = None,
    path: str | None = None,
) -> AuditEvent:
    """Write one read or refusal. `detail` must hold no personal data (ids, formats, counts,
    the reveal's field name); `province` is the object's province when it is not the actor's."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    actor_province = None
    if actor is not None and actor.is_authenticated and actor.organization_id:
        actor_province = actor.organization.province_id
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        provinces=_province_codes(actor_province, province),
        object_type=object_type,
        object_id=str(object_id)[:40],
        path=(path if path is not None else request.path if request is not None else "")[:300],
        ip_address=_client_address(request),
        detail=detail or {},
    )


def record_export(request: HttpRequest, *, what: str, fmt: str, **detail: Any) -> AuditEvent:
    """An export the user downloaded (applicant list, manifest, error report, statistics)."""
    return record(
        action=AuditEvent.Action.EXPORT,
        actor=request.user,
        object_type=what,
        object_id=str(detail.pop("object_id", "")),
        request=request,
        detail={"format": fmt, **detail},
    )


def record_denied(request: HttpRequest, status: int, *, path: str) -> AuditEvent | None:
    """A 403 or 404 answered to a signed-in user or an API client: somebody tried an object
    that is not theirs (or a page their role has not). `path` is the request's path with any
    capability token already taken out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return record(
        action=AuditEvent.Action.ACCESS_DENIED,
        actor=user,
        request=request,
        path=path,
        detail={"method": request.method, "status": status},
    )


# --- row history -------------------------------------------------------------------------


def history_models() -> dict[str, type[models.Model]]:
    """Tracked model label ("recruitment.applicant") → its history model."""
    found = {}
    for model in apps.get_models():
        tracked = getattr(model, "pgh_tracked_model", None)
        if tracked is not None:
            found[tracked._meta.label_lower] = model
    return dict(sorted(found.items()))


def _province_scope(label: str, province: str) -> Q:
    """History rows about objects of `province`, for each tracked model."""
    Applicant = apps.get_model("recruitment", "Applicant")
    own_applicants = Applicant.objects.filter(home_province_id=province).values("pk")
    if label == "recruitment.jobposting":
        return Q(province_id=province) | Q(pgh_obj__target_provinces=province)
    if label == "recruitment.applicant":
        return Q(home_province_id=province)
    if label == "recruitment.whitelistentry":
        return Q(importing_province_id=province) | Q(applicant_id__in=own_applicants)
    if label == "health.healthcertificate":
        return Q(authority__province_id=province) | Q(applicant_id__in=own_applicants)
    if label == "recruitment.placement":
        return Q(posting__province_id=province) | Q(applicant_id__in=own_applicants)
    if label == "transport.trip":
        return Q(origin_province_id=province) | Q(destination_province_id=province)
    if label == "transport.booking":
        return Q(trip__origin_province_id=province) | Q(trip__destination_province_id=province)
    return Q(pk__in=[])


def can_read_audit(user: User) -> bool:
    return user.is_authenticated and (
        user.role == User.Role.PLATFORM_ADMIN
        or (user.role == User.Role.BUREAU_OFFICER and user.organization_id is not None)
    )


# --- the merged, scoped listing ------------------------------------------------------------


@dataclass
class Change:
    field: str
    label: str
    before: Any
    after: Any
    secret: bool = False


@dataclass
class Entry:
    """One line of the audit page."""

    at: datetime
    source: str  # "history:<model label>" or "event"
    key: int
    kind: str  # insert / update / delete / reveal / export / verification / access_denied
    kind_label: str
    actor_id: int | None
    object_type: str
    object_label: str
    object_id: str
    path: str = ""
    changes: list[Change] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    actor: User | None = None

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.source}|{self.key}"


@dataclass
class Filters:
    object_type: str = ""  # a tracked model label, or "" for all
    object_id: str = ""
    actor: User | None = None
    kinds: tuple[str, ...] = ()  # empty: all
    since: datetime | None = None
    until: datetime | None = None
    cursor: str = ""


def _parse_cursor(cursor: str) -> tuple[datetime, str, int] | None:
    try:
        at, source, key = cursor.split("|")
        parsed = datetime.fromisoformat(at)
        return (parsed, source, int(key)) if parsed.tzinfo else None
    except ValueError:
        return None


def _before_cursor(
    source: str, time_field: str, key_field: str, cursor: tuple[datetime, str, int]
) -> Q:
    """Rows that come after the cursor in the order (time desc, source desc, key desc)."""
    at, cursor_source, key = cursor
    if source < cursor_source:
        return Q(**{f"{time_field}__lte": at})
    if source > cursor_source:
        return Q(**{f"{time_field}__lt": at})
    return Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, f"{key_field}__lt": key})


def _history_rows(
    label: str, model: type[models.Model], reader: User, filters: Filters, limit: int
) -> QuerySet:
    rows = model.objects.all()
    if reader.role != User.Role.PLATFORM_ADMIN:
        rows = rows.filter(_province_scope(label, reader.organization.province_id))
    if filters.object_id:
        rows = rows.filter(pgh_obj_id=filters.object_id)
    if filters.actor is not None:
        rows = rows.filter(pgh_context__user=filters.actor.pk)
    if filters.kinds:
        rows = rows.filter(pgh_label__in=filters.kinds)
    if filters.since:
        rows = rows.filter(pgh_created_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(pgh_created_at__lt=filters.until)
    cursor = _parse_cursor(filters.cursor)
    if cursor:
        rows = rows.filter(_before_cursor(f"history:{label}", "pgh_created_at", "pgh_id", cursor))
    previous = (
        model.objects.filter(pgh_obj_id=OuterRef("pgh_obj_id"), pgh_id__lt=OuterRef("pgh_id"))
        .order_by("-pgh_id")
        .values("pgh_id")[:1]
    )
    return (
        rows.annotate(previous_id=Subquery(previous))
        .order_by("-pgh_created_at", "-pgh_id")
        .distinct()[:limit]
    )


def _event_rows(reader: User, filters: Filters, limit: int) -> QuerySet:
    rows = AuditEvent.objects.all()
    if reader.role != User.Role.PLATFORM_ADMIN:
        rows = rows.filter(provinces__contains=[reader.organization.province_id])
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type)
    if filters.object_id:
        rows = rows.filter(object_id=filters.object_id)
    if filters.actor is not None:
        rows = rows.filter(actor=filters.actor)
    if filters.kinds:
        rows = rows.filter(action__in=filters.kinds)
    if filters.since:
        rows = rows.filter(at__gte=filters.since)
    if filters.until:
        rows = rows.filter(at__lt=filters.until)
    cursor = _parse_cursor(filters.cursor)
    if cursor:
        rows = rows.filter(_before_cursor("event", "at", "id", cursor))
    return rows.order_by("-at", "-id")[:limit]


def _is_secret(column: str) -> bool:
    return any(marker in column for marker in SECRET_COLUMN_MARKERS)


def _display(model: type[models.Model], name: str, value: Any) -> Any:
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return value
    if model_field.choices and value is not None:
        return dict(model_field.flatchoices).get(value, value)
    return value


def _field_label(model: type[models.Model], column: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.column == column:
            return str(model_field.verbose_name)
    return column


def _changes(
    model: type[models.Model], tracked: type[models.Model], row: Any, previous: Any | None
) -> list[Change]:
    changes = []
    for model_field in model._meta.concrete_fields:
        name, column = model_field.name, model_field.attname
        if name.startswith("pgh_") or column in QUIET_COLUMNS:
            continue
        after = getattr(row, column)
        before = getattr(previous, column, None)
        if previous is not None and before == after:
            continue
        if previous is None and row.pgh_label != "delete" and after in (None, "", [], {}):
            continue
        secret = _is_secret(column)
        changes.append(
            Change(
                field=column,
                label=_field_label(tracked, model_field.column),
                before=None if secret else _display(tracked, name, before),
                after=None if secret else _display(tracked, name, after),
                secret=secret,
            )
        )
    return changes


def audit_entries(reader: User, filters: Filters, *, limit: int = 50) -> list[Entry]:
    """The newest `limit` audit entries the reader may see that match the filters, after the
    filters' cursor. A constant number of queries: two per history table, one for the events,
    one for the actors."""
    if not can_read_audit(reader):
        return []
    sources: list[Iterable[Entry]] = []
    kinds = set(filters.kinds)
    row_kinds = {"insert", "update", "delete"}
    if not kinds or kinds & row_kinds:
        history_filters = Filters(**{**filters.__dict__, "kinds": tuple(kinds & row_kinds)})
        for label, model in history_models().items():
            if filters.object_type and filters.object_type != label:
                continue
            sources.append(_history_entries(label, model, reader, history_filters, limit))
    if not kinds or kinds - row_kinds:
        event_filters = Filters(**{**filters.__dict__, "kinds": tuple(kinds - row_kinds)})
        sources.append(_event_entries(reader, event_filters, limit))
    merged = list(heapq.merge(*sources, key=lambda e: (e.at, e.source, e.key), reverse=True))[
        :limit
    ]
    actor_ids = {entry.actor_id for entry in merged if entry.actor_id}
    actors = User.objects.select_related("organization").in_bulk(actor_ids)
    for entry in merged:
        entry.actor = actors.get(entry.actor_id)
    return merged


def _history_entries(
    label: str, model: type[models.Model], reader: User, filters: Filters, limit: int
) -> Iterator[Entry]:
    tracked = model.pgh_tracked_model
    rows = list(_history_rows(label, model, reader, filters, limit))
    previous = model.objects.in_bulk([row.previous_id for row in rows if row.previous_id])
    for row in rows:
        context = row.pgh_context or {}
        actor_id = context.get("user")
        yield Entry(
            at=row.pgh_created_at,
            source=f"history:{label}",
            key=row.pgh_id,
            kind=row.pgh_label,
            kind_label=str(CHANGE_LABELS.get(row.pgh_label, row.pgh_label)),
            actor_id=actor_id if isinstance(actor_id, int) else None,
            object_type=label,
            object_label=str(tracked._meta.verbose_name),
            object_id=str(row.pgh_obj_id),
            path=context.get("url") or context.get("task") or "",
            changes=_changes(model, tracked, row, previous.get(row.previous_id)),
        )


def _event_entries(reader: User, filters: Filters, limit: int) -> Iterator[Entry]:
    for event in _event_rows(reader, filters, limit):
        model = None
        if "." in event.object_type:
            try:
                model = apps.get_model(event.object_type)
            except LookupError:
                model = None
        yield Entry(
            at=event.at,
            source="event",
            key=event.pk,
            kind=event.action,
            kind_label=event.get_action_display(),
            actor_id=event.actor_id,
            object_type=event.object_type,
            object_label=str(model._meta.verbose_name) if model else event.object_type,
            object_id=event.object_id,
            path=event.path,
            detail=event.detail,
        )


def object_type_choices() -> list[tuple[str, str]]:
    return [
        (label, str(model.pgh_tracked_model._meta.verbose_name))
        for label, model in history_models().items()
    ]


# --- retention -----------------------------------------------------------------------------


def prune(*, days: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Delete audit entries older than `days` (default AUDIT_RETENTION_DAYS). Refuses a
    period shorter than AUDIT_MINIMUM_RETENTION_DAYS (six months): younger entries are never
    removed. Returns the number of rows deleted per table."""
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    if days < settings.AUDIT_MINIMUM_RETENTION_DAYS:
        raise ValueError(
            _("Audit entries are kept at least %(days)d days.")
            % {"days": settings.AUDIT_MINIMUM_RETENTION_DAYS}
        )
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = {}
    with transaction.atomic():
        for model in history_models().values():
            count, _detail = model.objects.filter(pgh_created_at__lt=cutoff).delete()
            deleted[model._meta.db_table] = count
        count, _detail = AuditEvent.objects.filter(at__lt=cutoff).delete()
        deleted[AuditEvent._meta.db_table] = count
    return deleted
