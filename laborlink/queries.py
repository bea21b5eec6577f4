"""Reading large pages of rows fast: a `values()` query run as a prepared statement.

Django's PostgreSQL backend binds parameters on the client (the SQL text changes with every
value, so PostgreSQL plans every execution anew) and parses each timestamp and JSON column in
Python. For the hot read-only lists of the API (a page of 200 match results, pulled page after
page by other provinces' systems) `PreparedValuesIterable` runs the very query the ORM built,
but on a psycopg cursor that binds on the server: psycopg prepares a statement it has run five
times on a connection (`prepare_threshold`), so PostgreSQL plans it once per connection, and
rows are parsed by psycopg's compiled loaders (timestamps; JSON with orjson).
`prepared_cursor` serves statements written by hand the same way (the API's bearer-token
look-up, the latest run's id).

It goes through Django's cursor wrapper: query logging, execute wrappers (the audit context)
and the connection's transaction state are as for any other query. Only for `values()` rows
whose columns need no Django converter besides JSON and timestamps (tests/laborlink/
test_queries.py compares it with `values()`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.query import BaseIterable, QuerySet
from psycopg.postgres import types as pg_types
from psycopg.pq import Format
from psycopg.types.json import set_json_loads

_TIMESTAMPTZ = pg_types["timestamptz"].oid


@contextmanager
def prepared_cursor(using: str = "default") -> Iterator[CursorWrapper]:
    """A Django cursor whose psycopg cursor binds parameters on the server, with psycopg's
    own (compiled) timestamp loader and orjson for JSON instead of Django's. Timestamps come
    back aware, in the session's time zone (UTC, as Django sets it)."""
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    raw.adapters.register_loader(
        _TIMESTAMPTZ, psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)
    )
    set_json_loads(orjson.loads, raw)
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(raw, connection) as cursor:
        yield cursor


class PreparedValuesIterable(BaseIterable):
    """Yields a dict per row, like `values()`, read through `prepared_cursor`."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        queryset = self.queryset
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        with prepared_cursor(queryset.db) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for row in rows:
            yield dict(zip(names, row, strict=True))


def prepared_values(queryset: QuerySet, *fields: str, **expressions: Any) -> QuerySet:
    """`queryset.values(*fields, **expressions)`, evaluated by `PreparedValuesIterable` (and
    so are its clones: filtering and slicing keep it)."""
    rows = queryset.values(*fields, **expressions)
    rows._iterable_class = PreparedValuesIterable
    return rows
