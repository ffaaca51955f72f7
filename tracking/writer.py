"""Bulk writes of event rows: COPY on PostgreSQL, INSERT OR IGNORE on SQLite.

Idempotent by event id, so a batch replayed after a crash never makes duplicates.
Rows are cleaned here (NUL bytes stripped, strings cut to their column's length),
off the request path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from psycopg.types.json import Jsonb

from sites.services import site_mark_first_event
from tracking.models import Event

_FIELDS = [f for f in Event._meta.concrete_fields]
EVENT_COLUMNS: list[str] = [f.column for f in _FIELDS]
_TEXT_LIMITS = {f.column: f.max_length for f in _FIELDS if f.get_internal_type() == "CharField"}
_TABLE = Event._meta.db_table
_SITE_INDEX = EVENT_COLUMNS.index("site_id")
# Sites this process already saw events for: their first_event_at is set.
_sites_with_events: set[int] = set()


def _clean_json(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_clean_json(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


# (column, kind, max length): kind 1 = text, 2 = JSON props, 0 = passed through.
_SPEC = [
    (c, 1 if c in _TEXT_LIMITS else 2 if c == "props" else 0, _TEXT_LIMITS.get(c))
    for c in EVENT_COLUMNS
]


def clean_row(row: dict) -> list:
    """The row's values in ``EVENT_COLUMNS`` order, safe for the database."""
    values = []
    append = values.append
    get = row.get
    for column, kind, limit in _SPEC:
        value = get(column)
        if kind == 1:
            if value is None:
                value = ""
            elif type(value) is not str:
                value = str(value)
            if "\x00" in value:
                value = value.replace("\x00", "")
            if len(value) > limit:
                value = value[:limit]
        elif kind == 2:
            value = _clean_json(value) if isinstance(value, dict) and value else {}
        append(value)
    return values


def write_rows(rows: Iterable[dict]) -> int:
    """Store ``rows`` (dicts keyed by Event column), skipping ids already stored.

    Returns how many rows were newly inserted.
    """
    values = [clean_row(row) for row in rows]
    if not values:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted = _write_postgresql(values)
        else:
            inserted = _write_generic(values)
        new_sites = {v[_SITE_INDEX] for v in values} - _sites_with_events
        if new_sites:
            site_mark_first_event(new_sites)
    _sites_with_events.update(new_sites)
    return inserted


def _write_postgresql(values: list[list]) -> int:
    columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    props_index = EVENT_COLUMNS.index("props")
    with connection.cursor() as cursor:
        # A temp table per connection, emptied at each commit: COPY's landing zone.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS event_staging "
            f"(LIKE {_TABLE} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        # psycopg's own COPY: wrap its errors into Django's (DataError, OperationalError…).
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY event_staging ({columns}) FROM STDIN") as copy,
        ):
            for row in values:
                row = list(row)
                row[props_index] = Jsonb(row[props_index])
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {_TABLE} ({columns}) SELECT {columns} FROM event_staging "  # noqa: S608
            f"ON CONFLICT (id) DO NOTHING"
        )
        return cursor.rowcount


def _write_generic(values: list[list]) -> int:
    props_index = EVENT_COLUMNS.index("props")
    time_indexes = [EVENT_COLUMNS.index("timestamp"), EVENT_COLUMNS.index("received_at")]
    columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
    prepared = []
    for row in values:
        row = list(row)
        row[props_index] = json.dumps(row[props_index])
        row[0] = str(row[0]).replace("-", "")  # SQLite stores UUIDs as 32 hex chars
        # Rows carry ISO 8601 times; SQLite's date functions need Django's own format.
        for index in time_indexes:
            if isinstance(row[index], str):
                row[index] = datetime.fromisoformat(row[index])
            row[index] = connection.ops.adapt_datetimefield_value(row[index])
        prepared.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT OR IGNORE INTO {_TABLE} ({columns}) VALUES ({placeholders})",  # noqa: S608
            prepared,
        )
        # sqlite3 sums the changes of every statement; ignored duplicates count 0.
        return cursor.rowcount
