"""The session list, newest first: session rows for the covered days the planner gives
them, the events grouped like session rows for the rest, read newest window first
(``newest_first``: the one paging loop of the read side)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import connection
from django.db.models import Q, QuerySet
from psycopg import sql

from stats.query.coverage import event_sets
from stats.query.engine import engine
from stats.query.plan import Measure, Source, plan
from stats.query.request import StatsQuery
from stats.query.results import SessionSummary
from stats.query.sources.events_python import session_summaries_from_events
from stats.query.sources.session_rows import session_days
from stats.query.sql import compose, identifiers, sql_of, union_sql

T = TypeVar("T")


def newest_first(
    start: datetime,
    newest: datetime | None,
    fetch: Callable[[datetime], list[T]],
    wanted: int | None,
) -> list[T]:
    """The rows ``fetch(window)`` gives for the first window that holds ``wanted`` rows (or
    reaches ``start``): the window starts 1, 2, 4… hours before ``newest`` (just after the
    newest event), so a busy site reads about an hour of events and the answer is exact."""
    if newest is None:
        return []
    span = 1
    while True:
        window = max(start, newest - timedelta(hours=span))
        rows = fetch(window)
        if window == start or (wanted is not None and len(rows) >= wanted):
            return rows
        span *= 2


def session_summaries(
    query: StatsQuery, *, limit: int | None = None, offset: int = 0
) -> list[dict]:
    """One row per session with events in the range (newest first): entry, exit, page views,
    duration (first to last event, as everywhere), bounce. ``limit``/``offset`` page in the
    database on PostgreSQL."""
    if engine().set_based:
        return [s.as_dict() for s in session_list(query, limit=limit, offset=offset)]
    ordered = session_summaries_from_events(query)
    return ordered[offset : offset + limit] if limit is not None else ordered[offset:]


# The columns a session row contributes to the session list, in this order.
_LIST_COLUMNS = (
    "day",
    "session_id",
    "visitor_id",
    "first_at",
    "last_at",
    "pageviews",
    "interactions",
    "first_event_id",
    "first_path",
    "entry_path",
    "exit_at",
    "exit_event_id",
    "exit_path",
    "exit_title",
)
# Raw events grouped like ``SessionDay`` rows (enough of them for the session list).
_RAW_SESSION_DAYS_SQL = """
    SELECT ("timestamp" AT TIME ZONE %s)::date AS day, session_id, visitor_id,
           min("timestamp") AS first_at, max("timestamp") AS last_at,
           count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
           (array_agg(id ORDER BY "timestamp", id))[1] AS first_event_id,
           (array_agg(path ORDER BY "timestamp", id))[1] AS first_path,
           (array_agg(entry_path ORDER BY entry_path = '', "timestamp", id))[1] AS entry_path,
           max("timestamp") FILTER (WHERE kind = 'pageview') AS exit_at,
           (array_agg(id ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_event_id,
           (array_agg(path ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_path,
           (array_agg(title ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_title
    FROM ({inner}) e GROUP BY 1, session_id, visitor_id
"""
# The event columns ``_RAW_SESSION_DAYS_SQL`` groups.
_RAW_SESSION_DAY_INPUTS = (
    "session_id", "visitor_id", "timestamp", "id", "kind", "path", "title", "interactive",
    "entry_path",
)  # fmt: skip
_NO_SESSION_ROWS = compose(
    "SELECT {columns} FROM stats_sessionday WHERE false", columns=identifiers(_LIST_COLUMNS)
)
_SESSION_LIST_SQL = """
    WITH raw AS MATERIALIZED ({raw}),
    recent AS ({recent_rows} UNION SELECT session_id FROM raw),
    rows AS (SELECT {columns} FROM ({rows}) c WHERE session_id IN (SELECT session_id FROM recent)
             UNION ALL SELECT {columns} FROM raw)
    SELECT session_id, min(visitor_id), min(first_at) AS start, max(last_at),
           (array_agg(coalesce(nullif(entry_path, ''), first_path) ORDER BY first_at, first_event_id))[1],
           (array_agg(exit_path ORDER BY exit_at DESC, exit_event_id DESC) FILTER (WHERE exit_at IS NOT NULL))[1],
           (array_agg(exit_title ORDER BY exit_at DESC, exit_event_id DESC) FILTER (WHERE exit_at IS NOT NULL))[1],
           sum(pageviews), sum(interactions)
    FROM rows GROUP BY session_id HAVING min(first_at) >= %s
    ORDER BY start DESC, session_id DESC LIMIT %s
"""


def _raw_session_days(query: StatsQuery, rest: StatsQuery | None, window: datetime) -> tuple:
    """SQL grouping the events of ``rest`` (the days session rows do not answer) like session
    rows, for the sessions with events at or after ``window`` only: no other session can
    have started in the window. Under per-event filters ``rest`` is the whole range, read
    from ``RolledEvent`` rows and raw events."""
    if rest is None:
        return _NO_SESSION_ROWS, ()
    parts = event_sets(rest)
    if window > rest.start:
        recent = active_since(parts, "session_id", window)
        if recent is None:
            return _NO_SESSION_ROWS, ()
        parts = [part.filter(recent) for part in parts]
    inner, params = union_sql(parts, _RAW_SESSION_DAY_INPUTS)
    return compose(_RAW_SESSION_DAYS_SQL, inner=inner), (query.tz, *params)


_NO_RECENT_ROWS = "SELECT NULL::bigint AS session_id WHERE false"
_MAX_LISTED_IDS = 5000  # ids looked up as a list; more as a subquery


def latest_event_at(parts: list[QuerySet]) -> datetime | None:
    """Just after the newest event of ``parts`` (None without events): where a newest-first
    window starts, so a quiet hour (or a site without traffic since last week) costs no
    empty windows. One backward index step per part."""
    newest = [
        at
        for part in parts
        for at in part.order_by("-timestamp").values_list("timestamp", flat=True)[:1]
    ]
    return max(newest) + timedelta(microseconds=1) if newest else None


def active_since(parts: list[QuerySet], key: str, since: datetime) -> Q | None:
    """A condition keeping the rows of the sessions (``key="session_id"``) or visitors with
    events at or after ``since`` in any of ``parts``; None when there are none.

    Up to a few thousand ids are passed as a list, which PostgreSQL looks up by index; a
    subquery would tend to make it scan the whole range and hash them."""
    window = [part.filter(timestamp__gte=since).values(key) for part in parts]
    inner, params = union_sql(window, (key,))
    with connection.cursor() as cursor:
        cursor.execute(
            compose(
                "SELECT DISTINCT {key} FROM ({inner}) e LIMIT %s",
                key=sql.Identifier(key),
                inner=inner,
            ),
            (*params, _MAX_LISTED_IDS + 1),
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return None
    if len(ids) <= _MAX_LISTED_IDS:
        return Q(**{f"{key}__in": ids})
    condition = Q()
    for subquery in window:
        condition |= Q(**{f"{key}__in": subquery})
    return condition


def session_list(
    query: StatsQuery, *, limit: int | None = None, offset: int = 0
) -> list[SessionSummary]:
    """Newest sessions first, from session rows (covered days) and events (the rest).

    Only the newest events are read: the sessions that started at or after a time W are
    those with events at W or later and none before; W moves back (``newest_first``) until
    a page is full or the range is exhausted."""
    parts = plan(query, Measure.SESSIONS)
    covered = next((p.query for p in parts if p.source is Source.SESSION_ROWS), None)
    rest = next((p.query for p in parts if p.source is Source.EVENTS), None)
    wanted = offset + limit if limit is not None else None
    newest = latest_event_at(event_sets(dataclasses.replace(query, filters={})))
    rows_sql, rows_params = (
        sql_of(session_days(query, covered.first_day, covered.last_day).values(*_LIST_COLUMNS))
        if covered
        else (_NO_SESSION_ROWS, ())
    )

    def fetch(window: datetime) -> list[tuple]:
        raw_sql, raw_params = _raw_session_days(query, rest, window)
        window_day = window.astimezone(query.zone).date()
        recent_sql, recent_params = _NO_RECENT_ROWS, ()
        if covered and window_day <= covered.last_day:
            recent_sql, recent_params = sql_of(
                session_days(query, max(window_day, covered.first_day), covered.last_day)
                .filter(last_at__gte=window)
                .values("session_id")
            )
        # (JIT, which cost ~0.5 s here, is off for every connection: PG_SESSION_OPTIONS.)
        with connection.cursor() as cursor:
            cursor.execute(
                compose(
                    _SESSION_LIST_SQL,
                    raw=raw_sql,
                    recent_rows=recent_sql,
                    rows=rows_sql,
                    columns=identifiers(_LIST_COLUMNS),
                ),
                (
                    *raw_params,
                    *recent_params,
                    *rows_params,
                    window,
                    wanted if wanted is not None else 10**9,
                ),
            )
            return cursor.fetchall()

    rows = newest_first(query.start, newest, fetch, wanted)
    return [
        SessionSummary(
            session_id=sid,
            visitor_id=vid,
            start=start,
            end=end,
            entry_path=entry or "",
            exit_path=exit_path or "",
            exit_title=exit_title or "",
            page_views=int(views),
            interactions=int(inter),
        )
        for sid, vid, start, end, entry, exit_path, exit_title, views, inter in rows[offset:]
    ]
