"""laborlink.queries: a values() query read through a prepared statement answers exactly what
Django's values() answers, is logged like any query, and is planned once per connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from laborlink.models import AuditEvent, User
from laborlink.queries import PreparedValuesIterable, prepared_values

pytestmark = pytest.mark.django_db

FIELDS = ("id", "at", "action", "actor_id", "actor__username", "provinces", "detail", "ip_address")


@pytest.fixture
def events(sichuan_officer):
    start = datetime(2026, 3, 1, 23, 59, 59, 123456, tzinfo=UTC)
    details = [
        {},
        {"format": "xlsx", "rows": 1200, "filters": {"status": ["pending", "approved"]}},
        {"reason": "不在白名单", "ratio": 0.25, "flag": True, "none": None},
        {"nested": [[1, 2], {"deep": "值"}], "quote": "a'b\"c\\"},
    ]
    return [
        AuditEvent.objects.create(
            at=start + timedelta(days=i, microseconds=-i),
            action=AuditEvent.Action.EXPORT if i % 2 else AuditEvent.Action.REVEAL,
            actor=sichuan_officer if i != 2 else None,
            provinces=["51", "33"][: i % 3],
            object_type="recruitment.applicant",
            object_id=str(i),
            detail=details[i % len(details)],
            ip_address="10.0.0.1" if i % 2 else None,
        )
        for i in range(9)
    ]


def test_rows_are_what_values_answers(events):
    queryset = AuditEvent.objects.filter(object_type="recruitment.applicant").order_by("id")
    prepared = list(prepared_values(queryset, *FIELDS))
    assert prepared == list(queryset.values(*FIELDS))
    assert len(prepared) == 9
    assert prepared[3]["detail"] == {"nested": [[1, 2], {"deep": "值"}], "quote": "a'b\"c\\"}
    assert prepared[2]["actor__username"] is None
    # aware times, to the microsecond
    assert prepared[0]["at"] == events[0].at
    assert prepared[0]["at"].utcoffset() is not None


def test_clones_keep_reading_through_the_prepared_statement(events, sichuan_officer):
    rows = prepared_values(AuditEvent.objects.all(), *FIELDS)
    page = rows.filter(id__gt=events[2].pk).order_by("-id")[:3]
    assert page._iterable_class is PreparedValuesIterable
    assert [row["id"] for row in page] == [events[8].pk, events[7].pk, events[6].pk]
    annotated = rows.annotate(
        by_officer=Exists(User.objects.filter(pk=OuterRef("actor_id"), role=sichuan_officer.role))
    ).order_by("id")
    assert [row["by_officer"] for row in annotated] == [
        row["by_officer"]
        for row in AuditEvent.objects.annotate(
            by_officer=Exists(
                User.objects.filter(pk=OuterRef("actor_id"), role=sichuan_officer.role)
            )
        )
        .order_by("id")
        .values("by_officer")
    ]


def test_an_empty_condition_reads_nothing(events):
    with CaptureQueriesContext(connection) as queries:
        assert list(prepared_values(AuditEvent.objects.filter(pk__in=[]), *FIELDS)) == []
    assert len(queries) == 0


def test_the_query_is_logged_and_sees_the_open_transaction(events):
    with CaptureQueriesContext(connection) as queries:
        rows = list(prepared_values(AuditEvent.objects.filter(object_id="4"), "id"))
    # the rows were written in this test's (uncommitted) transaction
    assert rows == [{"id": events[4].pk}]
    assert len(queries) == 1
    assert "audit" in queries[0]["sql"]


def _prepared_count(table: str) -> int:
    """Statements psycopg prepared on this connection that read `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s AND NOT from_sql",
            [f"%{table}%"],
        )
        return cursor.fetchone()[0]


def test_postgresql_plans_the_statement_once_per_connection(events):
    before = _prepared_count("laborlink_auditevent")
    for event in events[:7]:
        rows = list(prepared_values(AuditEvent.objects.filter(id__gte=event.pk), "id"))
        assert {row["id"] for row in rows} == {e.pk for e in events if e.pk >= event.pk}
    # psycopg prepared the statement after its fifth execution; the later ones reused it
    assert _prepared_count("laborlink_auditevent") == before + 1
