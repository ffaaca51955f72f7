"""The statistics themselves: each measure asks the planner (``plan``) which source answers
which days, asks each source for its part and ``combine``s the answers.

Definitions (the same from every source, so they always agree):
- a **day** is a calendar day in the query's time zone (the site's by default);
- **visitors** of a range are the sum over its days of the distinct visitors of each day
  (visitor ids rotate with the daily salt, so a visitor cannot be followed across days;
  this is also how Pirsch counts);
- **sessions** of a day are its distinct sessions; **views** its page views;
- a session **bounced** when it has at most one page view and no interactive custom event;
  **bounces** of a day count its bounced sessions;
- a session's **duration** is the time between its first and last event (heartbeats and
  keep-alives included);
- **time on page**: a page visit (session, path, local day) with engagement events counts
  their engaged time; a page view of a visit without any, the gap to the session's next
  event that day; at most 30 minutes each.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, connections

from stats.dimensions import DIMENSIONS
from stats.query.engine import engine
from stats.query.plan import Measure, Part, Source, combine, native_parts, plan
from stats.query.request import StatsQuery
from stats.query.results import BreakdownRow, DayMetrics, GroupMetrics, Totals, rate
from stats.query.sources import daily, events_python, events_sql, session_rows

ZERO_METRICS = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}


def events_source() -> events_sql.EventsSQL | events_python.EventsPython:
    """The events source of the engine: one statement per measure, or the ORM and Python."""
    return events_sql.SOURCE if engine().set_based else events_python.SOURCE


def source_of(part: Part) -> Any:
    """The implementation answering ``part`` (a claimant answers for itself)."""
    if part.source is Source.DAILY:
        return daily.SOURCE
    if part.source is Source.SESSION_ROWS:
        return session_rows.SOURCE
    if part.source is Source.EVENTS:
        return events_source()
    return part.source


# --- per day -------------------------------------------------------------------------


def daily_from_events(query: StatsQuery) -> dict[date, dict]:
    """Visitors, views, sessions, bounces and duration per local day, from the events."""
    return events_source().days(query)


def daily_metrics(query: StatsQuery) -> dict[date, dict]:
    """Per-day metrics: the daily tables (no filters) or session rows (session filters) for
    covered days, the events for the rest (today, other time zones, event filters)."""
    return combine(source_of(part).days(part.query) for part in plan(query, Measure.DAYS))


def day_metrics(query: StatsQuery) -> dict[date, DayMetrics]:
    """``daily_metrics`` typed."""
    return {day: DayMetrics.of(m) for day, m in daily_metrics(query).items()}


def period_visitors(query: StatsQuery, dimension: str | None = None) -> int:
    """The period's visitors under the query's filters (as ``totals``): the denominator of
    shares. Like ``daily_metrics``, but counting visitors only.

    With ``dimension``: the visitors of the sources that answer that breakdown, day by day,
    so its shares never exceed 100 %: days whose imported data cannot answer it (e.g.
    languages; ``imported.skipped``) count their native visitors only, as its rows do."""
    parts = plan(query, Measure.VISITORS)
    # Only imported days can differ between the two plans: without any, no second plan.
    if dimension is not None and _claimed_days(parts):
        answering = plan(query, Measure.BREAKDOWN, dimension)
        if _claimed_days(answering) != _claimed_days(parts):
            parts = [
                native
                for part in answering
                for native in (
                    native_parts(part.query, Measure.VISITORS)
                    if isinstance(part.source, Source)
                    else [part]
                )
            ]
    return sum(source_of(part).visitors(part.query) for part in parts)


def _claimed_days(parts: list[Part]) -> list[tuple[date, date]]:
    """The day ranges of ``parts`` answered by a claimant (imported data)."""
    return [
        (part.query.first_day, part.query.last_day)
        for part in parts
        if not isinstance(part.source, Source)
    ]


def visitors_total(query: StatsQuery) -> int:
    """The period's visitors without filters (the denominator of conversion rates)."""
    return sum(
        m["visitors"] for m in daily_metrics(dataclasses.replace(query, filters={})).values()
    )


def _bucket(day: date, scale: str) -> date:
    if scale == "week":
        return day - timedelta(days=day.weekday())
    if scale == "month":
        return day.replace(day=1)
    if scale == "year":
        return day.replace(month=1, day=1)
    return day


def scale_fields(start: date, scale: str) -> dict:
    """Pirsch's ``day``/``week``/``month``/``year`` fields: only the chosen scale's is set."""
    stamp = datetime.combine(start, time.min).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {name: stamp if name == scale else None for name in ("day", "week", "month", "year")}


def visitor_series(query: StatsQuery, scale: str = "day") -> list[dict]:
    """Pirsch's ``VisitorStats`` list: only the field of the chosen scale is set."""
    metrics = day_metrics(query)
    buckets: dict[date, DayMetrics] = {}
    for day in query.days():
        bucket = _bucket(day, scale)
        buckets[bucket] = buckets.get(bucket, DayMetrics()) + metrics.get(day, DayMetrics())
    return [
        {
            **scale_fields(start, scale),
            "visitors": m.visitors,
            "views": m.views,
            "sessions": m.sessions,
            "bounces": m.bounces,
            "bounce_rate": rate(m.bounces, m.sessions),
        }
        for start, m in sorted(buckets.items())
    ]


def period_totals(query: StatsQuery) -> Totals:
    return Totals.of(DayMetrics.total(day_metrics(query).values()))


def totals(query: StatsQuery) -> dict:
    """Pirsch's ``TotalVisitorStats``."""
    return period_totals(query).as_dict()


def growth_rate(current: float, previous: float) -> float:
    """The relative change from ``previous`` to ``current`` (0 without a previous value)."""
    if not previous:
        return 0
    return round((current - previous) / previous, 4)


def concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """The results of independent, read-only ``calls``, run at the same time on connections
    of their own (PostgreSQL gives each a backend, so two periods take one's time on two
    cores). Inside a transaction they run one after another on this connection, the only
    one that sees its uncommitted rows."""
    if len(calls) < 2 or not engine().parallel or connection.in_atomic_block:
        return [call() for call in calls]

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=len(calls) - 1) as pool:
        others = [pool.submit(run, call) for call in calls[1:]]
        first = calls[0]()
        return [first, *(future.result() for future in others)]


def growth(query: StatsQuery) -> dict:
    """Pirsch's ``Growth``: the change against the previous period of equal length."""
    now, before = (
        DayMetrics.total(days.values())
        for days in concurrently(
            functools.partial(day_metrics, query),
            functools.partial(day_metrics, query.previous()),
        )
    )

    def average_seconds(m: DayMetrics) -> float:
        return m.duration_ms / 1000 / m.sessions if m.sessions else 0

    def bounce_rate(m: DayMetrics) -> float:
        return m.bounces / m.sessions if m.sessions else 0

    return {
        "visitors_growth": growth_rate(now.visitors, before.visitors),
        "views_growth": growth_rate(now.views, before.views),
        "sessions_growth": growth_rate(now.sessions, before.sessions),
        "bounces_growth": growth_rate(bounce_rate(now), bounce_rate(before)),
        "time_spent_growth": growth_rate(average_seconds(now), average_seconds(before)),
        "cr_growth": 0,
        "custom_metric_avg_growth": 0,
        "custom_metric_total_growth": 0,
    }


# --- breakdowns ----------------------------------------------------------------------


def dimension_days_from_events(query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
    """Per local day and value: visitors, views and sessions, from the events."""
    return events_source().dimension_days(query, dimension)


def exit_days_from_events(query: StatsQuery) -> dict[date, dict[tuple, dict]]:
    """Per local day, exits per (page, title): each session's last page view of the day.

    Like sessions, exits are counted per day (a session spanning midnight exits on both
    days); ``views`` and ``sessions`` are the exits, ``visitors`` the day's distinct ones."""
    return events_source().dimension_days(query, "exit")


def dimension_days(query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
    """Per day and value, from the planned sources. ``dimension`` may also be ``"exit"``."""
    return combine(
        source_of(part).dimension_days(part.query, dimension)
        for part in plan(query, Measure.BREAKDOWN, dimension)
    )


def groups(
    query: StatsQuery, columns: tuple[str, ...], kinds: tuple[str, ...] | None = None
) -> dict[date, dict[tuple, GroupMetrics]]:
    """Per local day and value of several ``columns`` at once (event columns, session-scoped
    ones as the session's values, ``hour``), over the events of ``kinds`` (None: all):
    visitors, sessions, views, events, bounces and duration (``GroupMetrics``). The
    planner gives every day to the events source (no rollup is keyed by every combination;
    covered days read their rolled-up events)."""
    return combine(
        source_of(part).groups(part.query, columns, kinds) for part in plan(query, Measure.GROUPS)
    )


def breakdown_rows(query: StatsQuery, dimension: str) -> list[BreakdownRow]:
    """Visitors, views and sessions per value of a dimension, most visitors first.

    Visitors are summed over days, as everywhere. ``relative_visitors`` is a share of the
    period's visitors (under the same filters, of the sources answering the breakdown:
    ``period_visitors``), so a visitor is never split between rows.
    """
    columns, _kind = DIMENSIONS[dimension]
    rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for values in dimension_days(query, dimension).values():
        for key, metrics in values.items():
            row = rows[key]
            row[0] += metrics["visitors"]
            row[1] += metrics["views"]
            row[2] += metrics["sessions"]
    total_visitors = period_visitors(query, dimension) or 1
    total_views = sum(views for _, views, _ in rows.values()) or 1
    result = [
        BreakdownRow(
            columns,
            key,
            visitors,
            views,
            sessions,
            round(visitors / total_visitors, 4),
            round(views / total_views, 4),
        )
        for key, (visitors, views, sessions) in rows.items()
    ]
    result.sort(key=lambda r: (-r.visitors, -r.views, tuple(str(v) for v in r.key)))
    return result


def breakdown(query: StatsQuery, dimension: str) -> list[dict]:
    """``breakdown_rows`` as dicts (the key columns by name)."""
    return [row.as_dict() for row in breakdown_rows(query, dimension)]


def hours(query: StatsQuery) -> list[dict]:
    """Visitors, views and sessions per hour of the day (0–23, local time)."""
    per_hour = {h: {"hour": h, "visitors": 0, "views": 0, "sessions": 0} for h in range(24)}
    for row in breakdown(query, "hour"):
        per_hour[row["hour"]].update(
            visitors=row["visitors"], views=row["views"], sessions=row["sessions"]
        )
    return list(per_hour.values())


def exit_pages(query: StatsQuery) -> list[dict]:
    """Pirsch's ``ExitStats``: sessions ending on each page (per day, summed over days)."""
    per_path: dict[str, dict] = {}
    for values in dimension_days(query, "exit").values():
        for (path, title), metrics in values.items():
            row = per_path.setdefault(
                path, {"path": path, "title": title, "visitors": 0, "exits": 0}
            )
            row["title"] = max(row["title"], title)
            row["visitors"] += metrics["visitors"]
            row["exits"] += metrics["sessions"]
    total = sum(r["exits"] for r in per_path.values()) or 1
    result = [
        {
            "path": r["path"],
            "title": r["title"],
            "visitors": r["visitors"],
            "sessions": r["exits"],
            "exits": r["exits"],
            "exit_rate": round(r["exits"] / total, 4),
        }
        for r in per_path.values()
    ]
    return sorted(result, key=lambda r: (-r["exits"], r["path"]))


# --- time on page --------------------------------------------------------------------


def time_on_page(query: StatsQuery) -> dict[date, list[int]]:
    """Per local day, the time on page samples in milliseconds (at most 30 minutes each):
    a page visit (session, path, local day) with engagement events counts once, the sum of
    their engaged time (``duration_ms``: Plausible's ``e``, the snippet's ``active_ms``);
    a page view of a visit without any counts the gap to the session's next event that
    day (engagement signals excluded)."""
    return events_source().time_on_page(query)


def page_time_days_from_events(query: StatsQuery) -> dict[date, tuple[int, int]]:
    """Per local day, the sum and number of ``time_on_page`` samples."""
    return {day: (sum(gaps), len(gaps)) for day, gaps in time_on_page(query).items()}


def page_time_days(query: StatsQuery) -> dict[date, tuple[int, int]]:
    return combine(
        source_of(part).page_time_days(part.query) for part in plan(query, Measure.PAGE_TIME)
    )


def duration_series(query: StatsQuery, scale: str, *, per_page: bool) -> list[dict]:
    """Pirsch's ``TimeSpentStats``: average session (or page) time per scale bucket."""
    buckets: dict[date, list[int]] = {}
    if per_page:
        page_time = page_time_days(query)
        for day in query.days():
            total = buckets.setdefault(_bucket(day, scale), [0, 0])
            day_ms, day_count = page_time.get(day, (0, 0))
            total[0] += day_ms
            total[1] += day_count
        averages = {b: (t[0] / t[1] / 1000 if t[1] else 0) for b, t in buckets.items()}
    else:
        metrics = daily_metrics(query)
        sums: dict[date, list[int]] = {}
        for day in query.days():
            m = metrics.get(day, {})
            total = sums.setdefault(_bucket(day, scale), [0, 0])
            total[0] += m.get("duration_ms", 0)
            total[1] += m.get("sessions", 0)
        averages = {b: (t[0] / t[1] / 1000 if t[1] else 0) for b, t in sums.items()}
    series = []
    for start, average in sorted(averages.items()):
        series.append(
            {
                **scale_fields(start, scale),
                "average_time_spent_seconds": round(average),
            }
        )
    return series


# The names they had before the package (tests and older callers).
_visitors_total = visitors_total
_dimension_days = dimension_days
_page_time_days = page_time_days
_growth = growth_rate
