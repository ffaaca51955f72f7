"""The events source on PostgreSQL: each measure in one set-based statement over the
planned event parts (rolled-up events for covered days, raw events for the rest;
``stats.query.sql.events_sql``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection
from psycopg import sql

from stats.dimensions import COMPUTED_COLUMNS, DIMENSIONS
from stats.query.request import StatsQuery
from stats.query.results import GroupMetrics
from stats.query.sources.revenue import revenue_by_value
from stats.query.sql import compose, events_sql, identifiers

MAX_PAGE_TIME_MS = 30 * 60_000  # one page visit's time on page is at most 30 minutes

DAYS_SQL = """WITH e AS MATERIALIZED (
        SELECT *, ("timestamp" AT TIME ZONE %s)::date AS day FROM ({inner}) x),
    per_session AS (
        SELECT day, count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
               count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
               floor(extract(epoch FROM max("timestamp") - min("timestamp")) * 1000) AS ms
        FROM e GROUP BY day, session_id)
    SELECT day, v.visitors, v.views, p.sessions, p.bounces, p.ms
    FROM (SELECT day, count(DISTINCT visitor_id) AS visitors,
                 count(*) FILTER (WHERE kind = 'pageview') AS views
          FROM e GROUP BY day) v
    JOIN (SELECT day, count(*) AS sessions,
                 count(*) FILTER (WHERE pageviews <= 1 AND interactions = 0) AS bounces,
                 coalesce(sum(ms), 0)::bigint AS ms
          FROM per_session GROUP BY day) p USING (day)"""


GROUPS_SQL = """
    WITH e AS MATERIALIZED (
        SELECT ("timestamp" AT TIME ZONE %s)::date AS day, {values},
               visitor_id, session_id, kind, interactive, "timestamp"
        FROM ({inner}) x),
    per_session AS (
        SELECT day, {keys}, session_id,
               count(*) FILTER (WHERE kind = 'pageview') AS views,
               count(*) FILTER (WHERE kind IN ('pageview', 'custom')) AS events,
               count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
               floor(extract(epoch FROM max("timestamp") - min("timestamp")) * 1000) AS ms
        FROM e GROUP BY day, {keys}, session_id),
    v AS (SELECT day, {keys}, count(*) AS visitors
          FROM (SELECT DISTINCT day, {keys}, visitor_id FROM e) d GROUP BY day, {keys}),
    s AS (SELECT day, {keys}, count(*) AS sessions, sum(views) AS views, sum(events) AS events,
                 count(*) FILTER (WHERE views <= 1 AND interactions = 0) AS bounces,
                 coalesce(sum(ms), 0)::bigint AS ms
          FROM per_session GROUP BY day, {keys})
    SELECT day, {keys}, visitors, sessions, views, events, bounces, ms
    FROM v JOIN s USING (day, {keys})"""


def _key_values(query: StatsQuery, columns: tuple[str, ...]) -> tuple[sql.Composable, list]:
    """The select list of key ``columns`` (computed ones from the event time) and its
    parameters, the day's time zone first."""
    values: list[sql.Composable] = []
    params = [query.tz]
    for column in columns:
        if column in COMPUTED_COLUMNS:
            values.append(
                sql.SQL("{} AS {}").format(
                    sql.SQL(COMPUTED_COLUMNS[column] % {"tz": "%s"}), sql.Identifier(column)
                )
            )
            params.append(query.tz)
        else:
            values.append(sql.Identifier(column))
    return sql.SQL(", ").join(values), params


class EventsSQL:
    name = "events"
    revenue = staticmethod(revenue_by_value)  # Measure.REVENUE (``sources/revenue.py``)

    def days(self, query: StatsQuery) -> dict[date, dict]:
        """Visitors, views, sessions, bounces and duration per local day, in one statement
        (sessions are grouped in the database, not in Python)."""
        inner, params = events_sql(
            query, "visitor_id", "session_id", "kind", "interactive", "timestamp"
        )
        with connection.cursor() as cursor:
            cursor.execute(compose(DAYS_SQL, inner=inner), (query.tz, *params))
            return {
                day: {
                    "visitors": visitors,
                    "views": views,
                    "sessions": sessions,
                    "bounces": bounces,
                    "duration_ms": int(ms),
                }
                for day, visitors, views, sessions, bounces, ms in cursor.fetchall()
            }

    def visitors(self, query: StatsQuery) -> int:
        """The distinct visitors of each day, summed."""
        inner, params = events_sql(query, "visitor_id", "timestamp")
        with connection.cursor() as cursor:
            cursor.execute(
                compose(
                    """SELECT count(*) FROM (SELECT DISTINCT ("timestamp" AT TIME ZONE %s)::date,
                       visitor_id FROM ({inner}) e) d""",
                    inner=inner,
                ),
                (query.tz, *params),
            )
            return cursor.fetchone()[0]

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
        """Per local day and value: visitors, views and sessions (``exit``: exits)."""
        if dimension == "exit":
            return self.exit_days(query)
        columns, kind = DIMENSIONS[dimension]
        return self._dimension_days(query, columns, kind)

    def _dimension_days(
        self, query: StatsQuery, columns: tuple[str, ...], kind: str | None
    ) -> dict[date, dict[tuple, dict]]:
        """One statement that counts distinct visitors and sessions by grouping first: hash
        aggregates, where ``count(DISTINCT)`` sorts every row by the value's collation
        (docs/performance.md)."""
        stored = [c for c in columns if c not in COMPUTED_COLUMNS]
        inner, inner_params = events_sql(
            query,
            *dict.fromkeys((*stored, "visitor_id", "session_id", "kind", "timestamp")),
            refine=(lambda events: events.filter(kind=kind)) if kind else None,
        )
        values, params = _key_values(query, columns)
        statement = compose(
            """
            WITH e AS MATERIALIZED (
                SELECT ("timestamp" AT TIME ZONE %s)::date AS day, {values},
                       visitor_id, session_id, kind
                FROM ({inner}) x),
            v AS (SELECT day, {keys}, count(*) AS visitors
                  FROM (SELECT DISTINCT day, {keys}, visitor_id FROM e) d GROUP BY day, {keys}),
            s AS (SELECT day, {keys}, count(*) AS sessions, sum(views) AS views
                  FROM (SELECT day, {keys}, session_id,
                               count(*) FILTER (WHERE kind = 'pageview') AS views
                        FROM e GROUP BY day, {keys}, session_id) d
                  GROUP BY day, {keys})
            SELECT day, {keys}, visitors, views, sessions FROM v JOIN s USING (day, {keys})""",
            values=values,
            inner=inner,
            keys=identifiers(columns),
        )
        per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(statement, (*params, *inner_params))
            for day, *key, visitors, views, sessions in cursor.fetchall():
                per_day[day][tuple(key)] = {
                    "visitors": visitors,
                    "views": int(views),
                    "sessions": sessions,
                }
        return per_day

    def groups(
        self, query: StatsQuery, columns: tuple[str, ...], kinds: tuple[str, ...] | None
    ) -> dict[date, dict[tuple, GroupMetrics]]:
        """``Measure.GROUPS``: per local day and value of ``columns`` (session-scoped ones
        as the session's values, ``hour`` the local hour) over the events of ``kinds``
        (None: all), in one statement: sessions are grouped in the database."""
        stored = [c for c in columns if c not in COMPUTED_COLUMNS]
        inner, inner_params = events_sql(
            query,
            *dict.fromkeys(
                (*stored, "visitor_id", "session_id", "kind", "interactive", "timestamp")
            ),
            refine=(lambda events: events.filter(kind__in=kinds)) if kinds else None,
        )
        values, params = _key_values(query, columns)
        statement = compose(GROUPS_SQL, values=values, inner=inner, keys=identifiers(columns))
        per_day: dict[date, dict[tuple, GroupMetrics]] = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(statement, (*params, *inner_params))
            for day, *key, visitors, sessions, views, events, bounces, ms in cursor.fetchall():
                per_day[day][tuple(key)] = GroupMetrics(
                    visitors, sessions, int(views), int(events), bounces, int(ms)
                )
        return per_day

    def exit_days(self, query: StatsQuery) -> dict[date, dict[tuple, dict]]:
        """Per local day, exits per (page, title): each session's last page view of the day.

        Like sessions, exits are counted per day (a session spanning midnight exits on both
        days); ``views`` and ``sessions`` are the exits, ``visitors`` the day's distinct ones."""
        inner, params = events_sql(
            query,
            *("session_id", "visitor_id", "path", "title", "timestamp", "id"),
            refine=lambda qs: qs.filter(kind="pageview"),
        )
        per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(
                compose(
                    """SELECT day, path, max(title), count(DISTINCT visitor_id), count(*) FROM (
                        SELECT DISTINCT ON (day, session_id) ("timestamp" AT TIME ZONE %s)::date AS day,
                               session_id, visitor_id, path, title
                        FROM ({inner}) e ORDER BY day, session_id, "timestamp" DESC, id DESC
                    ) x GROUP BY day, path""",
                    inner=inner,
                ),
                (query.tz, *params),
            )
            for day, path, title, visitors, exits in cursor.fetchall():
                per_day[day][(path, title)] = {
                    "visitors": visitors,
                    "views": exits,
                    "sessions": exits,
                }
        return per_day

    def time_on_page(self, query: StatsQuery) -> dict[date, list[int]]:
        """Per local day, the time on page samples (``stats.query.measures.time_on_page``)."""
        inner, params = events_sql(
            query, "session_id", "kind", "timestamp", "id", "path", "duration_ms"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                compose(
                    """WITH e AS MATERIALIZED (
                        SELECT *, ("timestamp" AT TIME ZONE %s)::date AS day FROM ({inner}) x),
                    engaged AS (
                        SELECT day, session_id, path, least(sum(duration_ms), %s)::bigint AS ms
                        FROM e WHERE kind = 'engagement' AND duration_ms IS NOT NULL
                        GROUP BY day, session_id, path)
                    SELECT day, ms FROM engaged
                    UNION ALL
                    SELECT day, least(floor(extract(epoch FROM next_at - "timestamp") * 1000), %s)::bigint
                    FROM (SELECT kind, "timestamp", day, session_id, path,
                                 lead("timestamp") OVER (PARTITION BY session_id, day ORDER BY "timestamp", id) AS next_at
                          FROM e WHERE kind <> 'engagement') g
                    WHERE kind = 'pageview' AND next_at IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM engaged n
                        WHERE n.day = g.day AND n.session_id = g.session_id AND n.path = g.path)""",
                    inner=inner,
                ),
                (query.tz, *params, MAX_PAGE_TIME_MS, MAX_PAGE_TIME_MS),
            )
            samples: dict[date, list[int]] = defaultdict(list)
            for day, ms in cursor.fetchall():
                samples[day].append(ms)
        return samples

    def page_time_days(self, query: StatsQuery) -> dict[date, tuple[int, int]]:
        return {day: (sum(gaps), len(gaps)) for day, gaps in self.time_on_page(query).items()}


SOURCE = EventsSQL()
