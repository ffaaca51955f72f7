"""Bulk writes of event rows: COPY on PostgreSQL, INSERT OR IGNORE on SQLite.

Idempotent by event id, so a batch replayed after a crash never makes duplicates.
Rows are cleaned here (NUL bytes stripped, strings cut to their column's length),
off the request path.

On PostgreSQL a batch the consumer reads for the first time (``replay=False``) is
COPYed straight into the events table: one pass instead of COPY into a staging table
plus ``INSERT … SELECT … ON CONFLICT``. The table's primary key still guards it: if
any id is already stored (a batch that is a replay after all, e.g. Redis restored
entries whose acknowledgement it lost), the COPY fails as a whole, is rolled back to
a savepoint, and the batch takes the staging path, which skips the stored ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import IntEnum
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction

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


class Cleaning(IntEnum):
    """How ``clean_row`` treats a column's value (integers: the spec predates the names)."""

    AS_IS = 0
    TEXT = 1  # never None, no NUL, cut to the column's length
    PROPS = 2  # a JSON object, NULs dropped at any depth


# (column, cleaning, max length) in ``EVENT_COLUMNS`` order.
_SPEC = [
    (
        c,
        Cleaning.TEXT if c in _TEXT_LIMITS else Cleaning.PROPS if c == "props" else Cleaning.AS_IS,
        _TEXT_LIMITS.get(c),
    )
    for c in EVENT_COLUMNS
]


def _text(value, limit: int) -> str:
    """A text column's value: never None, no NUL character, at most ``limit`` long."""
    if value is None:
        value = ""
    elif type(value) is not str:
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    if len(value) > limit:
        value = value[:limit]
    return value


def _props(value) -> dict:
    return _clean_json(value) if isinstance(value, dict) and value else {}


def _compile_clean_row():
    """``clean_row`` as one list display written out from ``_SPEC``: no loop over the
    columns and no call for a text value that is already clean (nearly all of them).
    A loop over the spec cost ~70 % of the consumer's time (docs/performance.md)."""
    items = []
    for column, cleaning, limit in _SPEC:
        get = f"get({column!r})"
        if cleaning is Cleaning.TEXT:
            items.append(
                f"v if (v := {get}).__class__ is str and len(v) <= {limit} "
                f"and '\\x00' not in v else _text(v, {limit})"
            )
        elif cleaning is Cleaning.PROPS:
            items.append(f"_props({get})")
        else:
            items.append(get)
    source = "def clean_row(row):\n    get = row.get\n    return [\n"
    source += "".join(f"        {item},\n" for item in items) + "    ]\n"
    namespace = {"_text": _text, "_props": _props}
    exec(compile(source, f"<{__name__}.clean_row>", "exec"), namespace)  # noqa: S102
    function = namespace["clean_row"]
    function.__doc__ = "The row's values in ``EVENT_COLUMNS`` order, safe for the database."
    return function


clean_row = _compile_clean_row()


def clean_rows(rows: Iterable[Mapping[str, Any]]) -> list[list]:
    """``rows`` (dicts keyed by Event column) as ``write_clean`` takes them."""
    return [clean_row(row) for row in rows]


def write_rows(rows: Iterable[Mapping[str, Any]], *, replay: bool = True) -> int:
    """Store ``rows`` (dicts keyed by Event column), skipping ids already stored.

    ``replay=False``: the rows are most likely all new (a first delivery), so they are
    COPYed straight into the table, falling back to the staging path if not.
    Returns how many rows were newly inserted.
    """
    return write_clean(clean_rows(rows), replay=replay)


def write_clean(values: list[list], *, replay: bool = True) -> int:
    """``write_rows`` for rows ``clean_rows`` made already (the consumer cleans the next
    batch while this one is written)."""
    if not values:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted = _write_postgresql(values, replay=replay)
        else:
            inserted = _write_generic(values)
        new_sites = {v[_SITE_INDEX] for v in values} - _sites_with_events
        if new_sites:
            site_mark_first_event(new_sites)
    _sites_with_events.update(new_sites)
    return inserted


_PROPS_INDEX = EVENT_COLUMNS.index("props")
_COLUMN_LIST = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)


def _props_text(props: dict) -> str:
    """``props`` as JSON text for COPY (text COPY sends it as is; PostgreSQL parses it)."""
    if not props:
        return "{}"
    try:
        return orjson.dumps(props).decode()
    except TypeError:  # integers beyond 64 bits: the standard library writes them
        return json.dumps(props, ensure_ascii=False)


def _copy(cursor, table: str, values: list[list]) -> None:
    # psycopg's own COPY: wrap its errors into Django's (DataError, IntegrityError…).
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({_COLUMN_LIST}) FROM STDIN") as copy,
    ):
        write_row = copy.write_row
        for row in values:
            write_row(row)


def _write_postgresql(values: list[list], *, replay: bool = True) -> int:
    columns = _COLUMN_LIST
    for row in values:  # our own lists (clean_row's): props become JSON text once
        row[_PROPS_INDEX] = _props_text(row[_PROPS_INDEX])
    with connection.cursor() as cursor:
        if not replay:
            try:
                with transaction.atomic():  # a savepoint: a conflict undoes only the COPY
                    _copy(cursor, _TABLE, values)
                return len(values)
            except IntegrityError:
                pass  # some ids are stored already: skip them through the staging table
        # A temp table per connection, emptied at each commit: COPY's landing zone.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS event_staging "
            f"(LIKE {_TABLE} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        _copy(cursor, "event_staging", values)
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
