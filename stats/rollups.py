"""Rolling raw events up into ``DailySiteStats`` and the tables beside it, a batch of
consecutive site-days at a time.

- One scan of a batch's raw events feeds every output, set-based statements over
  temporary tables (PostgreSQL), computed independently of the raw query path in
  ``stats.query`` so the two can check each other (the oracle test). The embedded SQLite
  default rolls each day up through that raw query path instead.
- Idempotent: a batch of days is deleted and inserted again in one transaction.
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
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
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

# ---------------------------------------------------------------------------------------
# PostgreSQL: many site-days per statement set, one scan of the raw events.
#
# A batch is a run of consecutive local days of one site. Its events are read from
# ``tracking_event`` once (``STAGE_SQL``) into a temporary table, with each event's local
# day, its place in its session-day (``n``: by time, then id) and, in the same pass, each
# session-day's value of every session-scoped group (``rollup_session_values``). Every
# output is then computed from those temporary tables: session rows, attribute rows and
# rolled-up events, totals, every breakdown (session breakdowns as one ``GROUPING SETS``
# statement). docs/decisions.md, "Rollups: one scan per batch of site-days".
# ---------------------------------------------------------------------------------------

# Temporary tables live as long as the connection and are emptied, not dropped: a dropped
# table's lock would be held to the end of the transaction, and one transaction may roll up
# many batches (tests, ``site_rollups_invalidate``). Text columns: the values are compared
# and hashed exactly as the event columns' (``json_build_array`` writes both alike).
STAGE_TABLES_SQL = """
CREATE TEMPORARY TABLE IF NOT EXISTS rollup_events (
    day date, session_id bigint, n bigint, id uuid, "timestamp" timestamptz, kind text,
    name text, visitor_id bigint, path text, title text, props jsonb, interactive boolean,
    duration_ms bigint, scroll_depth smallint, screen_width integer, screen_height integer,
    revenue_reporting numeric(18, 4), revenue_reporting_currency text, hostname text
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS rollup_session_values (
    day date, session_id bigint, {scoped}
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS rollup_sessions (
    day date, session_id bigint, visitor_id bigint, first_at timestamptz, last_at timestamptz,
    pageviews integer, interactions integer, first_event_id uuid, first_path text,
    exit_at timestamptz, exit_event_id uuid, exit_path text, exit_title text, key uuid,
    attributes_id bigint, {session}
) ON COMMIT DELETE ROWS;
TRUNCATE rollup_events, rollup_session_values, rollup_sessions
"""
# ``n`` numbers a session-day's events by (time, id). A group's value comes from the event
# with the smallest (rank, n): rank * 2^32 + n is unique within the session-day, so the
# group's winner is the one event where it equals the session-day's minimum, and every
# column of a group comes from that same event. Both windows share one sort.
STAGE_SQL = """
WITH events AS MATERIALIZED (
    SELECT r.*, {winners}
    FROM (
        SELECT {columns}, (e."timestamp" AT TIME ZONE %(tz)s)::date AS day,
               row_number() OVER (PARTITION BY (e."timestamp" AT TIME ZONE %(tz)s)::date,
                                  e.session_id ORDER BY e."timestamp", e.id) AS n
        FROM tracking_event e
        WHERE e.site_id = %(site)s AND e."timestamp" >= %(start)s AND e."timestamp" < %(end)s
    ) r
    WINDOW session_day AS (PARTITION BY r.day, r.session_id)
), session_values AS (
    INSERT INTO rollup_session_values (day, session_id, {scoped_names})
    SELECT day, session_id, {scoped_values} FROM events GROUP BY day, session_id
)
INSERT INTO rollup_events (day, session_id, n, id, "timestamp", kind, name, visitor_id, path,
                           title, props, interactive, duration_ms, scroll_depth, screen_width,
                           screen_height, revenue_reporting, revenue_reporting_currency,
                           hostname)
SELECT day, session_id, n, id, "timestamp", kind, name, visitor_id, path, title, props,
       interactive, duration_ms, scroll_depth, screen_width, screen_height, revenue_reporting,
       revenue_reporting_currency, hostname
FROM events
"""
# One row per session-day and combination of its attributes (``SessionDay``): the scoped
# ones are the session-day's, so the combination is (visitor, hostname). The first event
# and the last page view are found by their ``n``.
SESSIONS_SQL = """
INSERT INTO rollup_sessions (day, session_id, visitor_id, first_at, last_at, pageviews,
                             interactions, first_event_id, first_path, exit_at, exit_event_id,
                             exit_path, exit_title, key, {session_names})
SELECT g.day, g.session_id, g.visitor_id, g.first_at, g.last_at, g.pageviews, g.interactions,
       f.id, f.path, g.exit_at, x.id, coalesce(x.path, ''), coalesce(x.title, ''),
       md5(%(site)s::text || json_build_array({key_values})::text)::uuid, {session_values}
FROM (
    SELECT day, session_id, visitor_id, hostname, min("timestamp") AS first_at,
           max("timestamp") AS last_at, count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
           min(n) AS first_n, max(n) FILTER (WHERE kind = 'pageview') AS exit_n,
           max("timestamp") FILTER (WHERE kind = 'pageview') AS exit_at
    FROM rollup_events GROUP BY day, session_id, visitor_id, hostname
) g
JOIN rollup_session_values s ON s.day = g.day AND s.session_id = g.session_id
JOIN rollup_events f ON f.day = g.day AND f.session_id = g.session_id AND f.n = g.first_n
LEFT JOIN rollup_events x ON x.day = g.day AND x.session_id = g.session_id AND x.n = g.exit_n
"""
SESSION_DAY_SQL = """
INSERT INTO stats_sessionday (site_id, day, tz, session_id, visitor_id, first_at, last_at,
                              pageviews, interactions, first_event_id, first_path, exit_at,
                              exit_event_id, exit_path, exit_title, {columns})
SELECT %(site)s, day, %(tz)s, session_id, visitor_id, first_at, last_at, pageviews,
       interactions, first_event_id, first_path, exit_at, exit_event_id, exit_path,
       exit_title, {columns}
FROM rollup_sessions
"""
# The rolled-up copy (``RolledEvent``): attribute rows first (one per distinct key), then
# each event refers to its session row's.
SESSION_ATTRIBUTES_SQL = """
INSERT INTO stats_sessionattributes (key, site_id, {columns})
SELECT DISTINCT ON (key) key, %(site)s, {columns} FROM rollup_sessions
ON CONFLICT (key) DO NOTHING
"""
SESSION_ATTRIBUTE_IDS_SQL = """
UPDATE rollup_sessions r SET attributes_id = a.id
FROM stats_sessionattributes a WHERE a.key = r.key
"""
ROLLED_EVENTS_SQL = """
INSERT INTO stats_rolledevent (site_id, "timestamp", id, kind, name, visitor_id, session_id, path,
                               title, props, interactive, duration_ms, scroll_depth, screen_width,
                               screen_height, revenue_reporting, revenue_reporting_currency,
                               attributes_id)
SELECT %(site)s, e."timestamp", e.id, e.kind, e.name, e.visitor_id, e.session_id, e.path,
       e.title, e.props, e.interactive, e.duration_ms, e.scroll_depth, e.screen_width,
       e.screen_height, e.revenue_reporting, e.revenue_reporting_currency, r.attributes_id
FROM rollup_events e
JOIN rollup_sessions r ON r.day = e.day AND r.session_id = e.session_id
                          AND r.visitor_id = e.visitor_id AND r.hostname = e.hostname
ORDER BY e."timestamp", e.id
"""
# Totals (``DailySiteStats``). Sessions are counted over the whole session-day (its rows
# summed). Time on page (``stats.query.time_on_page``): a page visit with engagement events
# is their engaged time; a page view of a visit without any, the gap to the next event.
TOTALS_SQL = """
WITH events AS (
    SELECT day, count(DISTINCT visitor_id) AS visitors,
           count(*) FILTER (WHERE kind = 'pageview') AS views
    FROM rollup_events GROUP BY day
), sessions AS (
    SELECT day, count(*) AS sessions,
           count(*) FILTER (WHERE pageviews <= 1 AND interactions = 0) AS bounces,
           coalesce(sum(duration_ms), 0)::bigint AS duration_ms
    FROM (SELECT day, session_id, sum(pageviews) AS pageviews,
                 sum(interactions) AS interactions,
                 floor(extract(epoch FROM max(last_at) - min(first_at)) * 1000) AS duration_ms
          FROM rollup_sessions GROUP BY day, session_id) s
    GROUP BY day
), engaged AS (
    SELECT day, session_id, path, least(sum(duration_ms), 1800000) AS ms
    FROM rollup_events WHERE kind = 'engagement' AND duration_ms IS NOT NULL
    GROUP BY day, session_id, path
), page_time AS (
    SELECT day, coalesce(sum(ms), 0)::bigint AS ms, count(*) AS count
    FROM (
        SELECT day, ms FROM engaged
        UNION ALL
        SELECT day, least(floor(extract(epoch FROM next_at - "timestamp") * 1000), 1800000)
        FROM (SELECT day, kind, "timestamp", session_id, path,
                     lead("timestamp") OVER (PARTITION BY day, session_id ORDER BY n) AS next_at
              FROM rollup_events WHERE kind <> 'engagement') x
        WHERE kind = 'pageview' AND next_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM engaged g
            WHERE g.day = x.day AND g.session_id = x.session_id AND g.path = x.path)
    ) t
    GROUP BY day
)
INSERT INTO stats_dailysitestats (site_id, day, tz, visitors, views, sessions, bounces, duration_ms,
                                  page_time_ms, page_time_count, rolled_at)
SELECT %(site)s, e.day, %(tz)s, e.visitors, e.views, s.sessions, s.bounces, s.duration_ms,
       coalesce(p.ms, 0), coalesce(p.count, 0), now()
FROM events e JOIN sessions s ON s.day = e.day LEFT JOIN page_time p ON p.day = e.day
"""
# Breakdowns of session attributes that count the same rows, from the session rows in one
# statement (``GROUPING(...)`` tells which breakdown a result row belongs to).
SESSION_BREAKDOWNS_SQL = """
INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, views, sessions)
SELECT %(site)s, day, %(tz)s, CASE GROUPING({columns}) {names} END,
       CASE GROUPING({columns}) {values} END,
       count(DISTINCT visitor_id), sum(pageviews), count(DISTINCT session_id)
FROM rollup_sessions {where}
GROUP BY day, GROUPING SETS ({sets})
"""
# Exit pages: each session-day's last page view.
EXIT_SQL = """
INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, views, sessions)
SELECT %(site)s, day, %(tz)s, 'exit', json_build_array(exit_path, max(exit_title))::text,
       count(DISTINCT visitor_id), count(*), count(*)
FROM (SELECT DISTINCT ON (day, session_id) day, session_id, visitor_id, exit_path, exit_title
      FROM rollup_sessions WHERE exit_at IS NOT NULL
      ORDER BY day, session_id, exit_at DESC, exit_event_id DESC) x
GROUP BY day, exit_path
"""
# Breakdowns of event attributes (pages, events, hours), from the events.
EVENT_BREAKDOWN_SQL = """
SELECT %(site)s, day, %(tz)s, '{name}', json_build_array({columns})::text,
       count(DISTINCT visitor_id), count(*) FILTER (WHERE kind = 'pageview'),
       count(DISTINCT session_id)
FROM rollup_events {where}
GROUP BY day, {columns}
"""
DELETE_DAYS_SQL = (
    "DELETE FROM {table} WHERE site_id = %(site)s AND tz = %(tz)s "
    "AND day >= %(first)s AND day <= %(last)s"
)
DELETE_ROLLED_EVENTS_SQL = """
DELETE FROM stats_rolledevent
WHERE site_id = %(site)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s
"""


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


# A batch: consecutive days of one site, at most this many days and (about) events.
BATCH_DAYS = 31
BATCH_EVENTS = 200_000
# The columns ``STAGE_SQL`` reads of each event (besides the session-scoped ones).
EVENT_COLUMNS = (
    "id", "timestamp", "kind", "name", "visitor_id", "session_id", "path", "title", "props",
    "interactive", "duration_ms", "scroll_depth", "screen_width", "screen_height",
    "revenue_reporting", "revenue_reporting_currency", "hostname",
)  # fmt: skip
SCOPED_COLUMNS = tuple(column for group in SESSION_SCOPE for column in group.columns)


def _quoted(columns) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _stage_sql() -> str:
    winners = ", ".join(
        f"({group.rank_sql()}::bigint * 4294967296 + n) = "
        f"min({group.rank_sql()}::bigint * 4294967296 + n) OVER session_day AS win_{number}"
        for number, group in enumerate(SESSION_SCOPE)
    )
    values = ", ".join(
        f'max("{column}") FILTER (WHERE win_{number})'
        for number, group in enumerate(SESSION_SCOPE)
        for column in group.columns
    )
    return STAGE_SQL.format(
        columns=", ".join(f'e."{c}"' for c in (*EVENT_COLUMNS, *SCOPED_COLUMNS)),
        winners=winners,
        scoped_names=_quoted(SCOPED_COLUMNS),
        scoped_values=values,
    )


def _sessions_sql() -> str:
    values = {column: f's."{column}"' for column in SCOPED_COLUMNS} | {"hostname": "g.hostname"}
    return SESSIONS_SQL.format(
        session_names=_quoted(SESSION_COLUMNS),
        session_values=", ".join(values[c] for c in SESSION_COLUMNS),
        key_values=", ".join(values[c] for c in SESSION_COLUMNS),
    )


def _session_breakdowns_sql() -> list[str]:
    """One statement per kind of rows counted (all session rows, those with page views)."""
    statements = []
    for kind, where in ((None, ""), ("pageview", "WHERE pageviews > 0")):
        sets = [
            (name, columns)
            for name, (columns, counts) in DIMENSIONS.items()
            if name in SESSION_DIMENSIONS and counts == kind
        ]
        if not sets:
            continue
        assert len({columns for _, columns in sets}) == len(sets), "ambiguous grouping sets"
        every = list(dict.fromkeys(column for _, columns in sets for column in columns))
        masks = {
            name: sum(1 << (len(every) - 1 - i) for i, c in enumerate(every) if c not in columns)
            for name, columns in sets
        }
        statements.append(
            SESSION_BREAKDOWNS_SQL.format(
                columns=_quoted(every),
                names=" ".join(f"WHEN {masks[name]} THEN '{name}'" for name, _ in sets),
                values=" ".join(
                    f"WHEN {masks[name]} THEN json_build_array({_quoted(columns)})::text"
                    for name, columns in sets
                ),
                where=where,
                sets=", ".join(f"({_quoted(columns)})" for _, columns in sets),
            )
        )
    return statements


def _event_breakdowns_sql() -> str:
    """Breakdowns of event attributes (not session rows), in one statement."""
    parts = []
    for name, (columns, kind) in DIMENSIONS.items():
        if name in SESSION_DIMENSIONS:
            continue
        parts.append(
            EVENT_BREAKDOWN_SQL.format(
                name=name,
                columns=", ".join(COMPUTED_COLUMNS.get(c, f'"{c}"') for c in columns),
                where=f"WHERE kind = '{kind}'" if kind else "",
            )
        )
    return (
        "INSERT INTO stats_dailydimensionstats (site_id, day, tz, dimension, value, visitors, "
        "views, sessions)\n" + "\nUNION ALL\n".join(parts)
    )


def batches(days: dict[date, int]) -> list[list[date]]:
    """Runs of consecutive days (with their event counts) cut at ``BATCH_DAYS`` days and
    about ``BATCH_EVENTS`` events: what one statement set rolls up."""
    runs: list[list[date]] = []
    size = 0
    for day in sorted(days):
        run = runs[-1] if runs else None
        if (
            run is None
            or day != run[-1] + timedelta(days=1)
            or len(run) >= BATCH_DAYS
            or size + days[day] > BATCH_EVENTS
        ):
            runs.append([day])
            size = days[day]
        else:
            run.append(day)
            size += days[day]
    return runs


@transaction.atomic
def rollup_site_days(site_id: int, days: list[date], tz: str) -> None:
    """(Re)compute one site's totals, breakdowns, session rows and rolled-up events for a
    run of consecutive local days (days without events lose their rows)."""
    if not days:
        return
    if (days[-1] - days[0]).days != len(days) - 1:
        raise ValueError(f"not a run of consecutive days: {days}")
    if connection.vendor != "postgresql":
        for day in days:
            _rollup_site_day_embedded(site_id, day, tz)
        return
    start, end = day_bounds(days[0], tz)[0], day_bounds(days[-1], tz)[1]
    params = {"site": site_id, "tz": tz, "first": days[0], "last": days[-1], "start": start,
              "end": end}  # fmt: skip
    columns = _quoted(SESSION_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # the batch's sorts and hashes in memory
        for table in ("stats_dailysitestats", "stats_dailydimensionstats", "stats_sessionday"):
            cursor.execute(DELETE_DAYS_SQL.format(table=table), params)
        cursor.execute(DELETE_ROLLED_EVENTS_SQL, params)
        cursor.execute(
            STAGE_TABLES_SQL.format(
                scoped=", ".join(f'"{c}" text' for c in SCOPED_COLUMNS),
                session=", ".join(f'"{c}" text' for c in SESSION_COLUMNS),
            )
        )
        cursor.execute(_stage_sql(), params)
        cursor.execute(_sessions_sql(), params)
        cursor.execute(SESSION_DAY_SQL.format(columns=columns), params)
        cursor.execute(SESSION_ATTRIBUTES_SQL.format(columns=columns), params)
        cursor.execute(SESSION_ATTRIBUTE_IDS_SQL)
        cursor.execute(ROLLED_EVENTS_SQL, params)
        cursor.execute(TOTALS_SQL, params)
        for sql in _session_breakdowns_sql():
            cursor.execute(sql, params)
        cursor.execute(EXIT_SQL, params)
        cursor.execute(_event_breakdowns_sql(), params)


def rollup_site_day(site_id: int, day: date, tz: str) -> None:
    """(Re)compute one site's totals and breakdowns for one local day."""
    rollup_site_days(site_id, [day], tz)


def _rollup_site_day_embedded(site_id: int, day: date, tz: str) -> None:
    """The embedded default (SQLite): the same definitions through the raw query path."""
    DailySiteStats.objects.filter(site_id=site_id, day=day, tz=tz).delete()
    DailyDimensionStats.objects.filter(site_id=site_id, day=day, tz=tz).delete()
    SessionDay.objects.filter(site_id=site_id, day=day, tz=tz).delete()
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


def _day_sizes(events, zone: ZoneInfo) -> dict[date, int]:
    """The local days ``events`` fall on, with how many of them each has."""
    return {
        row["d"].date(): row["n"]
        for row in events.annotate(d=TruncDay("timestamp", tzinfo=zone))
        .values("d")
        .annotate(n=Count("id"))
        .order_by()
    }


@dataclass
class _Pending:
    """A site's days to roll up in this run, and where its watermark goes afterwards."""

    site: Site
    state: RollupState
    days: dict[date, int]
    received_until: datetime


def _pending(site: Site, now: datetime) -> _Pending:
    """The past days of a site that received events since the last run."""
    zone = ZoneInfo(site.timezone)
    today_start = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
    state, _ = RollupState.objects.get_or_create(site=site)
    events = Event.objects.filter(site_id=site.pk, timestamp__lt=today_start, received_at__lte=now)
    if state.received_until is not None:
        events = events.filter(received_at__gt=state.received_until)
    days = _day_sizes(events, zone)
    # Only events received before ``now`` are considered: later ones are picked up next time.
    # The newest among those received since the last run (the same as the newest of all, as
    # ``received_until`` only grows): the BRIN index on ``received_at`` keeps it proportional.
    received = Event.objects.filter(site_id=site.pk, received_at__lte=now)
    if state.received_until is not None:
        received = received.filter(received_at__gt=state.received_until)
    newest = received.aggregate(m=Max("received_at"))["m"]
    until = max(filter(None, [state.received_until, newest, now - timedelta(seconds=5)]))
    return _Pending(site, state, days, until)


def _advance(pending: _Pending) -> int:
    pending.state.received_until = pending.received_until
    pending.state.save(update_fields=["received_until", "updated_at"])
    return len(pending.days)


def rollup_site(site: Site, now: datetime | None = None) -> int:
    """Roll up every past day of a site that received events since the last run."""
    pending = _pending(site, now or timezone.now())
    for run in batches(pending.days):
        rollup_site_days(site.pk, run, site.timezone)
    return _advance(pending)


def reroll_site(site: Site) -> int:
    """Roll up again every day the rollups of ``site`` cover and still have raw events for;
    returns the days recomputed. Each batch of days is replaced in its own transaction, so
    statistics stay readable throughout and an interrupted run can simply be started again.

    For rollups written by an older definition (before visit attributes were session-scoped,
    see docs/statistics.md): ``manage.py reroll``. Days whose raw events retention deleted
    keep their rows."""
    until = rolled_until(site.pk, site.timezone)
    if until is None:
        return 0  # never rolled up: the next ``rollup_pending`` run does it
    zone = ZoneInfo(site.timezone)
    days = _day_sizes(Event.objects.filter(site_id=site.pk, timestamp__lt=until), zone)
    for run in batches(days):
        rollup_site_days(site.pk, run, site.timezone)
    return len(days)


def _run_batches(jobs: list[tuple[int, list[date], str]], workers: int) -> None:
    """Roll the batches up, on ``workers`` connections at once when that can help: on
    PostgreSQL, outside a transaction (each batch commits its own; inside one, other
    connections would not see its data), with more than one batch. Batches never share a
    row; the attribute rows two batches of one site may both insert are inserted in key
    order by each, so one waits for the other instead of deadlocking."""
    workers = min(workers, len(jobs))
    if workers < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        for job in jobs:
            rollup_site_days(*job)
        return
    queue = list(reversed(jobs))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with lock:
                    if errors or not queue:
                        return
                    job = queue.pop()
                rollup_site_days(*job)
        except BaseException as error:  # handed to the caller below
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, name=f"rollups-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def rollup_pending(now: datetime | None = None, workers: int | None = None) -> int:
    """Roll up every site; returns the number of site-days recomputed. Batches run on
    ``settings.ROLLUP_WORKERS`` connections at once (default 2: the rollups are the
    database's work, one core per connection); a watermark moves only once every batch
    of the run is written."""
    now = now or timezone.now()
    if workers is None:
        workers = getattr(settings, "ROLLUP_WORKERS", 2)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
            if not cursor.fetchone()[0]:
                logger.info("rollups already running elsewhere: skipped")
                return 0
            # Page ranges of the BRIN index on ``received_at`` are summarized by VACUUM only;
            # until then each one matches every search, so the search for what arrived
            # read every page written since the last VACUUM (a freshly loaded 10 M events:
            # the whole table, 64 s). Summarizing them here reads just the pages added
            # since the last run: the run stays proportional to what arrived.
            cursor.execute("SELECT brin_summarize_new_values('event_received_brin')")
    try:
        pending = [_pending(site, now) for site in Site.objects.order_by("pk")]
        jobs = [(p.site.pk, run, p.site.timezone) for p in pending for run in batches(p.days)]
        _run_batches(jobs, workers)
        return sum(_advance(p) for p in pending)
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
