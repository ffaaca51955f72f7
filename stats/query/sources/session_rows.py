"""Session rows (``SessionDay``, PostgreSQL): whole past days filtered by visit attributes
only. A session may have several rows a day (its attributes changed): bounces, durations
and exits are taken per (day, session) over the rows the filters kept, as the events
source does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection
from django.db.models import Count, QuerySet, Sum

from stats.dimensions import DIMENSIONS
from stats.models import SessionDay
from stats.query.filters import apply_filters
from stats.query.request import StatsQuery
from stats.query.sql import compose, sql_of

ZERO_METRICS = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}


class SessionRows:
    name = "session_rows"

    def days(self, query: StatsQuery) -> dict[date, dict]:
        found = {day: dict(ZERO_METRICS) for day in query.days()}
        found.update(daily_from_session_rows(query, query.first_day, query.last_day))
        return found

    def visitors(self, query: StatsQuery) -> int:
        days = daily_from_session_rows(query, query.first_day, query.last_day)
        return sum(m["visitors"] for m in days.values())

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
        per_day: dict[date, dict[tuple, dict]] = {day: {} for day in query.days()}
        if dimension == "exit":
            per_day.update(exit_days_from_session_rows(query, query.first_day, query.last_day))
        else:
            per_day.update(
                dimension_days_from_session_rows(query, dimension, query.first_day, query.last_day)
            )
        return per_day


SOURCE = SessionRows()


def session_days(query: StatsQuery, first: date, last: date) -> QuerySet[SessionDay]:
    """The query's ``SessionDay`` rows of [first, last], filters applied."""
    rows = SessionDay.objects.filter(
        site_id=query.site_id, tz=query.tz, day__gte=first, day__lte=last
    )
    return apply_filters(rows, query.filters)


def daily_from_session_rows(query: StatsQuery, first: date, last: date) -> dict[date, dict]:
    """``daily_from_events`` for [first, last] from ``SessionDay`` rows (PostgreSQL).

    A session may have several rows a day (its attributes changed): bounces and durations
    are taken per (day, session) over the rows the filters kept, as the raw path does."""
    inner, params = sql_of(
        session_days(query, first, last).values(
            "day", "session_id", "visitor_id", "pageviews", "interactions", "first_at", "last_at"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            compose(
                """WITH s AS MATERIALIZED ({inner}),
                per_session AS (
                    SELECT day, sum(pageviews) AS pageviews, sum(interactions) AS interactions,
                           floor(extract(epoch FROM max(last_at) - min(first_at)) * 1000) AS ms
                    FROM s GROUP BY day, session_id)
                SELECT day, v.visitors, v.views, p.sessions, p.bounces, p.ms
                FROM (SELECT day, count(DISTINCT visitor_id) AS visitors, sum(pageviews) AS views
                      FROM s GROUP BY day) v
                JOIN (SELECT day, count(*) AS sessions,
                             count(*) FILTER (WHERE pageviews <= 1 AND interactions = 0) AS bounces,
                             coalesce(sum(ms), 0)::bigint AS ms
                      FROM per_session GROUP BY day) p USING (day)""",
                inner=inner,
            ),
            params,
        )
        return {
            day: {
                "visitors": visitors,
                "views": int(views),
                "sessions": sessions,
                "bounces": bounces,
                "duration_ms": int(ms),
            }
            for day, visitors, views, sessions, bounces, ms in cursor.fetchall()
        }


def dimension_days_from_session_rows(
    query: StatsQuery, dimension: str, first: date, last: date
) -> dict[date, dict[tuple, dict]]:
    """``dimension_days_from_events`` for [first, last] from ``SessionDay`` rows."""
    columns, kind = DIMENSIONS[dimension]
    rows = session_days(query, first, last)
    if kind == "pageview":
        rows = rows.filter(pageviews__gt=0)
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for row in rows.values("day", *columns).annotate(
        visitors=Count("visitor_id", distinct=True),
        views=Sum("pageviews"),
        sessions=Count("session_id", distinct=True),
    ):
        per_day[row["day"]][tuple(row[c] for c in columns)] = {
            "visitors": row["visitors"],
            "views": row["views"],
            "sessions": row["sessions"],
        }
    return per_day


def exit_days_from_session_rows(
    query: StatsQuery, first: date, last: date
) -> dict[date, dict[tuple, dict]]:
    """``exit_days_from_events`` for [first, last] from ``SessionDay`` rows."""
    inner, params = sql_of(
        session_days(query, first, last)
        .filter(exit_at__isnull=False)
        .values(
            "day", "session_id", "visitor_id", "exit_path", "exit_title", "exit_at", "exit_event_id"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            compose(
                """SELECT day, exit_path, max(exit_title), count(DISTINCT visitor_id), count(*) FROM (
                    SELECT DISTINCT ON (day, session_id) day, session_id, visitor_id, exit_path, exit_title
                    FROM ({inner}) s ORDER BY day, session_id, exit_at DESC, exit_event_id DESC
                ) x GROUP BY day, exit_path""",
                inner=inner,
            ),
            params,
        )
        per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
        for day, path, title, visitors, exits in cursor.fetchall():
            per_day[day][(path, title)] = {"visitors": visitors, "views": exits, "sessions": exits}
    return per_day
