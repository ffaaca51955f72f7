"""Rolling raw events up into ``DailySiteStats``, one site-day at a time.

- One set-based statement per site-day (PostgreSQL), computed independently of the raw
  query path in ``stats.query`` so the two can check each other (the oracle test).
- Idempotent: a day is deleted and inserted again in one transaction.
- Incremental: ``rollup_pending`` recomputes only the days that received events since
  the last run (late and back-dated data included: Matomo ``cdt``, Pirsch batch ``time``),
  found through ``received_at``. Today is never rolled up: it is answered from raw events.
- Runs never overlap: a PostgreSQL advisory lock guards ``rollup_pending``.
- Session-scoped: session rows, their breakdowns and rolled-up events carry each session's
  value of every visit attribute on the day (``stats.query.SESSION_SCOPE``), not each
  event's own, so a heartbeat without a language counts under its session's language.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import TruncDay
from django.utils import timezone

from sites.models import Site
from stats.dimensions import COMPUTED_COLUMNS, DIMENSIONS, SESSION_COLUMNS, SESSION_DIMENSIONS
from stats.models import DailyDimensionStats, DailySiteStats, RollupState, SessionDay
from stats.query.coverage import rolled_until
from stats.query.measures import (
    daily_from_events,
    dimension_days_from_events,
    exit_days_from_events,
    page_time_days_from_events,
)
from stats.query.request import StatsQuery
from stats.query.scope import SESSION_SCOPE
from tracking.models import Event

logger = logging.getLogger(__name__)
ADVISORY_LOCK_ID = 0x666F6F74  # "foot"

DAY_SQL = """
WITH ev AS (
    SELECT id, visitor_id, session_id, kind, interactive, "timestamp", path, duration_ms
    FROM tracking_event
    WHERE site_id = %(site)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s
), s AS (
    SELECT session_id,
           count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
           floor(extract(epoch FROM max("timestamp") - min("timestamp")) * 1000) AS duration_ms
    FROM ev GROUP BY session_id
), engaged AS (
    -- Time on page (``stats.query.time_on_page``): a page visit with engagement events is
    -- their engaged time; a page view of a visit without any, the gap to the next event.
    SELECT session_id, path, least(sum(duration_ms), 1800000) AS ms
    FROM ev WHERE kind = 'engagement' AND duration_ms IS NOT NULL GROUP BY session_id, path
), page_time AS (
    SELECT ms FROM engaged
    UNION ALL
    SELECT least(floor(extract(epoch FROM next_at - "timestamp") * 1000), 1800000) AS ms
    FROM (SELECT kind, "timestamp", session_id, path,
                 lead("timestamp") OVER (PARTITION BY session_id ORDER BY "timestamp", id) AS next_at
          FROM ev WHERE kind <> 'engagement') x
    WHERE kind = 'pageview' AND next_at IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM engaged n WHERE n.session_id = x.session_id AND n.path = x.path)
)
INSERT INTO stats_dailysitestats (site_id, day, tz, visitors, views, sessions, bounces, duration_ms,
                                  page_time_ms, page_time_count, rolled_at)
SELECT %(site)s, %(day)s, %(tz)s,
       (SELECT count(DISTINCT visitor_id) FROM ev),
       (SELECT count(*) FROM ev WHERE kind = 'pageview'),
       (SELECT count(*) FROM s),
       (SELECT count(*) FROM s WHERE pageviews <= 1 AND interactions = 0),
       (SELECT coalesce(sum(duration_ms), 0)::bigint FROM s),
       (SELECT coalesce(sum(ms), 0)::bigint FROM page_time),
       (SELECT count(*) FROM page_time),
       now()
WHERE EXISTS (SELECT 1 FROM ev)
"""

# Each session's values of the session-scoped attributes on the day (``SESSION_SCOPE``), in a
# temporary table the statements below join: computed once per site-day. The table lives as
# long as the connection and is emptied, not dropped: a dropped table's lock would be held
# to the end of the transaction, and one transaction may roll up many days.
SESSION_VALUES_TABLE_SQL = """
CREATE TEMPORARY TABLE IF NOT EXISTS rollup_session_values (session_id bigint, {columns})
ON COMMIT DELETE ROWS
"""
SESSION_VALUES_SQL = """
INSERT INTO rollup_session_values (session_id, {names})
SELECT session_id, {values}
FROM tracking_event
WHERE site_id = %(site)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s
GROUP BY session_id
"""
# The day's events with the session's values in place of their own.
SCOPED_EVENTS_SQL = """
SELECT e.id, e.site_id, e."timestamp", e.kind, e.name, e.visitor_id, e.session_id, e.path,
       e.title, e.props, e.interactive, e.duration_ms, e.scroll_depth, e.screen_width,
       e.screen_height, e.revenue_reporting, e.revenue_reporting_currency, e.hostname, {values}
FROM tracking_event e JOIN rollup_session_values s ON s.session_id = e.session_id
WHERE e.site_id = %(site)s AND e."timestamp" >= %(start)s AND e."timestamp" < %(end)s
"""

# One row per session and combination of its attributes on the day (see ``SessionDay``).
SESSION_DAY_SQL = """
INSERT INTO stats_sessionday (site_id, day, tz, session_id, visitor_id, first_at, last_at,
                              pageviews, interactions, first_event_id, first_path, exit_at,
                              exit_event_id, exit_path, exit_title, {columns})
SELECT %(site)s, %(day)s, %(tz)s, session_id, visitor_id, min("timestamp"), max("timestamp"),
       count(*) FILTER (WHERE kind = 'pageview'),
       count(*) FILTER (WHERE kind = 'custom' AND interactive),
       (array_agg(id ORDER BY "timestamp", id))[1],
       (array_agg(path ORDER BY "timestamp", id))[1],
       max("timestamp") FILTER (WHERE kind = 'pageview'),
       (array_agg(id ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1],
       coalesce((array_agg(path ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1], ''),
       coalesce((array_agg(title ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1], ''),
       {columns}
FROM ({scoped}) e
GROUP BY session_id, visitor_id, {columns}
"""

# Breakdowns of session attributes, from the day's session rows rather than raw events.
SESSION_DIMENSION_SQL = """
INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, views, sessions)
SELECT %(site)s, %(day)s, %(tz)s, %(dimension)s, json_build_array({columns})::text,
       count(DISTINCT visitor_id), sum(pageviews), count(DISTINCT session_id)
FROM stats_sessionday
WHERE site_id = %(site)s AND day = %(day)s AND tz = %(tz)s {kind}
GROUP BY {columns}
"""

# Exit pages of the day, from its session rows: each session's last page view of the day.
EXIT_SQL = """
INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, views, sessions)
SELECT %(site)s, %(day)s, %(tz)s, 'exit', json_build_array(exit_path, max(exit_title))::text,
       count(DISTINCT visitor_id), count(*), count(*)
FROM (SELECT DISTINCT ON (session_id) session_id, visitor_id, exit_path, exit_title
      FROM stats_sessionday
      WHERE site_id = %(site)s AND day = %(day)s AND tz = %(tz)s AND exit_at IS NOT NULL
      ORDER BY session_id, exit_at DESC, exit_event_id DESC) x
GROUP BY exit_path
"""

# The day's events, narrow, for queries with per-event filters (see ``RolledEvent``): the
# session attributes first get their dictionary rows, then each event refers to its row.
ATTRIBUTE_KEY_SQL = "md5(%(site)s::text || json_build_array({columns})::text)::uuid"
SESSION_ATTRIBUTES_SQL = """
INSERT INTO stats_sessionattributes (key, site_id, {columns})
SELECT DISTINCT {key}, %(site)s, {columns}
FROM ({scoped}) e
ON CONFLICT (key) DO NOTHING
"""
ROLLED_EVENTS_SQL = """
INSERT INTO stats_rolledevent (site_id, "timestamp", id, kind, name, visitor_id, session_id, path,
                               title, props, interactive, duration_ms, scroll_depth, screen_width,
                               screen_height, revenue_reporting, revenue_reporting_currency,
                               attributes_id)
SELECT e.site_id, e."timestamp", e.id, e.kind, e.name, e.visitor_id, e.session_id, e.path,
       e.title, e.props, e.interactive, e.duration_ms, e.scroll_depth, e.screen_width,
       e.screen_height, e.revenue_reporting, e.revenue_reporting_currency, a.id
FROM (SELECT *, {key} AS attributes_key FROM ({scoped}) x) e
JOIN stats_sessionattributes a ON a.key = e.attributes_key
ORDER BY e."timestamp", e.id
"""
DELETE_ROLLED_EVENTS_SQL = """
DELETE FROM stats_rolledevent
WHERE site_id = %(site)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s
"""


DIMENSION_SQL = """
INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, views, sessions)
SELECT %(site)s, %(day)s, %(tz)s, %(dimension)s, json_build_array({columns})::text,
       count(DISTINCT visitor_id), count(*) FILTER (WHERE kind = 'pageview'), count(DISTINCT session_id)
FROM tracking_event
WHERE site_id = %(site)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s {kind}
GROUP BY {columns}
"""


def session_values(cursor, params: dict) -> str:
    """Fill ``rollup_session_values`` with the day's sessions, each scoped column from the
    session's first event (by time, then id) that has its group; returns the columns for
    ``SCOPED_EVENTS_SQL``."""
    columns = [(group, column) for group in SESSION_SCOPE for column in group.columns]
    names = ", ".join(f'"{column}"' for _, column in columns)
    cursor.execute(
        SESSION_VALUES_TABLE_SQL.format(columns=", ".join(f'"{c}" text' for _, c in columns))
    )
    cursor.execute("TRUNCATE rollup_session_values")
    aggregates = ", ".join(
        f'(array_agg("{column}" ORDER BY {group.rank_sql()}, "timestamp", id))[1]'
        for group, column in columns
    )
    cursor.execute(SESSION_VALUES_SQL.format(names=names, values=aggregates), params)
    return ", ".join(f's."{column}"' for _, column in columns)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


@transaction.atomic
def rollup_site_day(site_id: int, day: date, tz: str) -> None:
    """(Re)compute one site's totals and breakdowns for one local day."""
    DailySiteStats.objects.filter(site_id=site_id, day=day, tz=tz).delete()
    DailyDimensionStats.objects.filter(site_id=site_id, day=day, tz=tz).delete()
    SessionDay.objects.filter(site_id=site_id, day=day, tz=tz).delete()
    start, end = day_bounds(day, tz)
    params = {"site": site_id, "day": day, "tz": tz, "start": start, "end": end}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(DAY_SQL, params)
            scoped = SCOPED_EVENTS_SQL.format(values=session_values(cursor, params))
            columns = ", ".join(f'"{c}"' for c in SESSION_COLUMNS)
            cursor.execute(SESSION_DAY_SQL.format(columns=columns, scoped=scoped), params)
            key = ATTRIBUTE_KEY_SQL.format(columns=columns)
            cursor.execute(DELETE_ROLLED_EVENTS_SQL, params)
            cursor.execute(
                SESSION_ATTRIBUTES_SQL.format(columns=columns, key=key, scoped=scoped), params
            )
            cursor.execute(ROLLED_EVENTS_SQL.format(key=key, scoped=scoped), params)
            cursor.execute(EXIT_SQL, params)
            for name, (columns, kind) in DIMENSIONS.items():
                if name in SESSION_DIMENSIONS:
                    # Session rows are exact for these (see ``SessionDay``) and ~3× fewer.
                    sql = SESSION_DIMENSION_SQL.format(
                        columns=", ".join(f'"{c}"' for c in columns),
                        kind="AND pageviews > 0" if kind == "pageview" else "",
                    )
                else:
                    sql = DIMENSION_SQL.format(
                        columns=", ".join(COMPUTED_COLUMNS.get(c, f'"{c}"') for c in columns),
                        kind="AND kind = %(kind)s" if kind else "",
                    )
                cursor.execute(sql, {**params, "dimension": name, "kind": kind})
        return
    # The embedded default (SQLite): the same definitions through the raw query path.
    query = StatsQuery(site_id, day, day, tz)
    metrics = daily_from_events(query).get(day)
    if metrics:
        page_time_ms, page_time_count = page_time_days_from_events(query).get(day, (0, 0))
        DailySiteStats.objects.create(
            site_id=site_id,
            day=day,
            tz=tz,
            rolled_at=timezone.now(),
            page_time_ms=page_time_ms,
            page_time_count=page_time_count,
            **metrics,
        )
    DailyDimensionStats.objects.bulk_create(
        DailyDimensionStats(
            site_id=site_id, day=day, tz=tz, dimension=name, value=json.dumps(list(key)), **values
        )
        for name in DIMENSIONS
        for key, values in dimension_days_from_events(query, name).get(day, {}).items()
    )
    # Session rows are read on PostgreSQL only; SQLite (small sites) answers from raw events.
    DailyDimensionStats.objects.bulk_create(
        DailyDimensionStats(
            site_id=site_id, day=day, tz=tz, dimension="exit", value=json.dumps(list(key)), **values
        )
        for key, values in exit_days_from_events(query).get(day, {}).items()
    )


def rollup_site(site: Site, now: datetime | None = None) -> int:
    """Roll up every past day of a site that received events since the last run."""
    now = now or timezone.now()
    zone = ZoneInfo(site.timezone)
    today_start = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    state, _ = RollupState.objects.get_or_create(site=site)
    events = Event.objects.filter(site_id=site.pk, timestamp__lt=today_start, received_at__lte=now)
    if state.received_until is not None:
        events = events.filter(received_at__gt=state.received_until)
    days = sorted(
        {
            d.date()
            for d in events.annotate(d=TruncDay("timestamp", tzinfo=zone))
            .values_list("d", flat=True)
            .distinct()
        }
    )
    for day in days:
        rollup_site_day(site.pk, day, site.timezone)
    # Only events received before ``now`` were considered: later ones are picked up next time.
    newest = Event.objects.filter(site_id=site.pk, received_at__lte=now).aggregate(
        m=Max("received_at")
    )["m"]
    state.received_until = max(
        filter(None, [state.received_until, newest, now - timedelta(seconds=5)])
    )
    state.save(update_fields=["received_until", "updated_at"])
    return len(days)


def reroll_site(site: Site) -> int:
    """Roll up again every day the rollups of ``site`` cover and still have raw events for;
    returns the days recomputed. Each day is replaced in its own transaction, so statistics
    stay readable throughout and an interrupted run can simply be started again.

    For rollups written by an older definition (before visit attributes were session-scoped,
    see docs/statistics.md): ``manage.py reroll``. Days whose raw events retention deleted
    keep their rows."""
    until = rolled_until(site.pk, site.timezone)
    if until is None:
        return 0  # never rolled up: the next ``rollup_pending`` run does it
    zone = ZoneInfo(site.timezone)
    days = sorted(
        {
            d.date()
            for d in Event.objects.filter(site_id=site.pk, timestamp__lt=until)
            .annotate(d=TruncDay("timestamp", tzinfo=zone))
            .values_list("d", flat=True)
            .distinct()
        }
    )
    for day in days:
        rollup_site_day(site.pk, day, site.timezone)
    return len(days)


def rollup_pending(now: datetime | None = None) -> int:
    """Roll up every site; returns the number of site-days recomputed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
            if not cursor.fetchone()[0]:
                logger.info("rollups already running elsewhere: skipped")
                return 0
    try:
        return sum(rollup_site(site, now) for site in Site.objects.order_by("pk"))
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
