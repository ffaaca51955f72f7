"""Plausible Stats API requests (v1 parameters, v2 JSON) → Footfall's query layer and back.

The steps, top to bottom: the period (``resolve_period``: Plausible's period names in the
site's calendar, capped by ``stats.ranges``), the filters (``filters.to_footfall``), the
metrics (``check_metrics``: Plausible's own refusals, then what Footfall cannot answer
exactly), then one read of ``stats.query`` per question (``aggregate``, ``series``,
``breakdown_rows``). Numbers follow Footfall's definitions (docs/statistics.md): visitors of
a range are the sum of each day's visitors, as everywhere in Footfall.
"""

from __future__ import annotations

import dataclasses
from calendar import monthrange
from datetime import date, timedelta

from django.utils import timezone

from stats import query as q
from stats import ranges
from stats.api.plausible.filters import PROPS_PREFIX, FilterError, to_footfall

METRICS = (
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
    "events",
    "conversion_rate",
    "time_on_page",
)
SESSION_METRICS = ("visits", "bounce_rate", "visit_duration", "views_per_visit")
EVENT_ONLY = ("event:name", "event:goal")
V1_PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "custom")
V2_PERIODS = ("day", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all")
# Breakdown property → (query-layer dimension, its value column, the v1 result key).
BREAKDOWNS = {
    "event:page": ("page", "path", "page"),
    "visit:entry_page": ("entry", "entry_path", "entry_page"),
    "visit:exit_page": ("exit", "path", "exit_page"),
    "visit:source": ("referrer", "source", "source"),
    "visit:referrer": ("referrer", "referrer", "referrer"),
    "visit:channel": ("channel", "channel", "channel"),
    "visit:utm_source": ("utm_source", "utm_source", "utm_source"),
    "visit:utm_medium": ("utm_medium", "utm_medium", "utm_medium"),
    "visit:utm_campaign": ("utm_campaign", "utm_campaign", "utm_campaign"),
    "visit:utm_content": ("utm_content", "utm_content", "utm_content"),
    "visit:utm_term": ("utm_term", "utm_term", "utm_term"),
    "visit:device": ("platform", "device_type", "device"),
    "visit:browser": ("browser", "browser", "browser"),
    "visit:browser_version": ("browser_version", "browser_version", "browser_version"),
    "visit:os": ("os", "os", "os"),
    "visit:os_version": ("os_version", "os_version", "os_version"),
    "visit:country": ("country", "country_code", "country"),
    "visit:region": ("region", "region", "region"),
    "visit:city": ("city", "city", "city"),
    "visit:screen": ("screen", "screen_class", "screen"),
    "event:name": ("event", "name", "name"),
}
# What the per-value rows of ``stats.query.breakdown`` hold, per Plausible metric.
BREAKDOWN_METRICS = {"visitors": "visitors", "visits": "sessions", "pageviews": "views"}
BREAKDOWN_DOCS = "https://plausible.io/docs/stats-api#properties"
REALTIME_SECONDS = 300  # Plausible's "current visitors": the last five minutes


class PlausibleError(ValueError):
    """Plausible's error answer: ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


# --- periods ----------------------------------------------------------------------------


def _today(tz: str) -> date:
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(tz)).date()


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def resolve_period(period: str, anchor: date, *, first_event: date | None = None) -> tuple:
    """(first, last) local days of a named period ending on ``anchor`` (Plausible's names)."""
    if period == "day":
        return anchor, anchor
    if period.endswith("d") and period[:-1].isdigit():
        return anchor - timedelta(days=int(period[:-1]) - 1), anchor
    if period == "month":
        return anchor.replace(day=1), _month_end(anchor)
    if period in ("6mo", "12mo"):
        return _months_back(anchor, int(period[:-2]) - 1), _month_end(anchor)
    if period == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    if period == "all":
        return (first_event or anchor), anchor
    raise PlausibleError(f"Invalid period {period}")


def v1_days(params, tz: str) -> tuple[date, date, str]:
    """(first, last, period) from v1's ``period`` and ``date`` (Plausible's messages)."""
    period = params.get("period") or "30d"
    if period not in V1_PERIODS:
        raise PlausibleError(
            f"Error parsing `period` parameter: invalid period `{period}`. Please find accepted "
            "values in our docs: https://plausible.io/docs/stats-api#time-periods"
        )
    raw_date = params.get("date")
    if period == "custom":
        if not raw_date:
            raise PlausibleError(
                "The `date` parameter is required when using a custom period. See "
                "https://plausible.io/docs/stats-api#time-periods"
            )
        parts = raw_date.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            first, last = (date.fromisoformat(p.strip()) for p in parts)
        except ValueError as exc:
            raise PlausibleError(
                "Invalid format for `date` parameter. When using a custom period, please include "
                "two ISO-8601 formatted dates joined by a comma. See "
                "https://plausible.io/docs/stats-api#time-periods"
            ) from exc
    else:
        if raw_date:
            try:
                anchor = date.fromisoformat(raw_date)
            except ValueError as exc:
                raise PlausibleError(
                    f"Error parsing `date` parameter: invalid date `{raw_date}`. Please specify "
                    "a valid date in ISO-8601 format."
                ) from exc
        else:
            anchor = _today(tz)
        first, last = resolve_period(period, anchor)
    _check(first, last)
    return first, last, period


def v2_days(date_range, tz: str, relative: str | None, site_id: int) -> tuple[date, date, str]:
    """(first, last, name) from v2's ``date_range`` (a name, or two ISO dates/timestamps)."""
    if isinstance(date_range, str):
        if date_range not in V2_PERIODS:
            raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}")
        try:
            anchor = date.fromisoformat(relative) if relative else _today(tz)
        except (TypeError, ValueError) as exc:
            raise PlausibleError(f"#/date: Invalid date {_json(relative)}") from exc
        first_event = None
        if date_range == "all":
            from stats.selectors import first_event_day

            first_event = first_event_day(site_id, tz)
        first, last = resolve_period(date_range, anchor, first_event=first_event)
        first = min(first, last)
    elif (
        isinstance(date_range, list)
        and len(date_range) == 2
        and all(isinstance(v, str) for v in date_range)
    ):
        try:
            first, last = (ranges.parse_day(v, "date_range", timestamps=True) for v in date_range)
        except ranges.RangeError as exc:
            raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}") from exc
        date_range = "custom"
    else:
        raise PlausibleError(f"#/date_range: Invalid date_range {_json(date_range)}")
    _check(first, last)
    return first, last, date_range


def _check(first: date, last: date) -> None:
    try:
        ranges.check_range(first, last, "date_range", "date_range")
    except ranges.RangeError as exc:
        raise PlausibleError(f"Invalid date range: {exc.message}.") from exc


def _json(value) -> str:
    import json

    return json.dumps(value)[:200]


# --- the query ---------------------------------------------------------------------------


@dataclasses.dataclass
class Request:
    """One Plausible question about one site."""

    stats: q.StatsQuery
    metrics: list[str]
    filter_properties: list[str]
    dimension: str | None = None  # a breakdown property or a ``time:*`` dimension


def stats_query(site, first: date, last: date, tree) -> tuple[q.StatsQuery, list[str]]:
    """The ``StatsQuery`` and the filtered properties (for the metric checks)."""
    try:
        filters = to_footfall(tree)
        filters = q.validate_filters(filters)
    except FilterError as exc:
        raise PlausibleError(str(exc)) from exc
    except q.QueryError as exc:
        raise PlausibleError(f"Invalid filter: {exc.message}") from exc
    from stats.api.plausible.filters import _conditions

    properties = [c.dimension for c in _conditions(tree)]
    return (
        q.StatsQuery(
            site_id=site.pk, first_day=first, last_day=last, tz=site.timezone, filters=filters
        ),
        properties,
    )


def parse_metrics(raw: str | list) -> list[str]:
    metrics = raw.split(",") if isinstance(raw, str) else list(raw)
    metrics = [m.strip() if isinstance(m, str) else m for m in metrics]
    if len(metrics) != len(set(map(str, metrics))):
        raise PlausibleError("Metrics cannot be queried multiple times.")
    for metric in metrics:
        if metric not in METRICS:
            raise PlausibleError(
                f"The metric `{metric}` is not recognized. Find valid metrics from the "
                "documentation: https://plausible.io/docs/stats-api#metrics"
            )
    return metrics


def check_metrics(request: Request) -> None:
    """Plausible's refusals first (same messages), then what Footfall cannot answer exactly."""
    dimension = request.dimension
    breakdown = dimension is not None and not dimension.startswith("time")
    event_only = [
        p for p in request.filter_properties if p in EVENT_ONLY or p.startswith(PROPS_PREFIX)
    ]
    for metric in request.metrics:
        if metric == "conversion_rate":
            raise PlausibleError(
                f"Metric `{metric}` can only be queried in a goal breakdown or with a goal filter"
            )
        if metric == "time_on_page":
            raise PlausibleError(
                "Metric `time_on_page` is not supported by Footfall's Plausible API (the "
                "dashboard and Pirsch's /api/v1/statistics/duration/page show time on page)."
            )
        if metric == "views_per_visit":
            if "event:page" in request.filter_properties:
                raise PlausibleError(
                    f"Metric `{metric}` cannot be queried with a filter on `event:page`."
                )
            if breakdown:
                raise PlausibleError(f"Metric `{metric}` is not supported in breakdown queries.")
        if metric in SESSION_METRICS:
            if breakdown and (dimension in EVENT_ONLY or dimension.startswith(PROPS_PREFIX)):
                raise PlausibleError(
                    f"Session metric `{metric}` cannot be queried for breakdown by `{dimension}`."
                )
            if event_only:
                raise PlausibleError(
                    f"Session metric `{metric}` cannot be queried when using a filter on "
                    f"`{event_only[0]}`."
                )
        if breakdown and metric not in BREAKDOWN_METRICS:
            raise PlausibleError(
                f"Metric `{metric}` is not supported by Footfall in breakdown queries "
                "(supported: visitors, visits, pageviews)."
            )
        if breakdown and dimension == "event:name" and metric == "pageviews":
            raise PlausibleError(
                "Metric `pageviews` is not supported by Footfall in a breakdown by `event:name`."
            )
        if dimension and dimension.startswith("time") and metric == "events":
            raise PlausibleError("Metric `events` is not supported by Footfall in time series.")
        if dimension == "time:hour" and metric not in BREAKDOWN_METRICS:
            raise PlausibleError(
                f"Metric `{metric}` is not supported by Footfall in an hourly time series "
                "(supported: visitors, visits, pageviews)."
            )


def _values(totals: dict, metric: str):
    """One Plausible metric from summed daily metrics (Plausible's rounding)."""
    sessions = totals["sessions"]
    if metric == "visitors":
        return totals["visitors"]
    if metric == "visits":
        return sessions
    if metric == "pageviews":
        return totals["views"]
    if metric == "views_per_visit":
        return round(totals["views"] / sessions, 2) if sessions else 0
    if metric == "bounce_rate":
        return round(totals["bounces"] * 100 / sessions) if sessions else 0
    if metric == "visit_duration":
        return round(totals["duration_ms"] / 1000 / sessions) if sessions else 0
    if metric == "events":
        return totals["events"]
    raise PlausibleError(f"Metric `{metric}` is not supported by Footfall.")


def _sum(days: list[dict]) -> dict:
    keys = ("visitors", "views", "sessions", "bounces", "duration_ms")
    return {key: sum(d.get(key, 0) for d in days) for key in keys}


def aggregate(query: q.StatsQuery, metrics: list[str]) -> dict:
    """Each metric's value over the whole period."""
    totals = _sum(list(q.daily_metrics(query).values()))
    if "events" in metrics:
        custom = sum(row["count"] for row in q.event_list(query))
        totals["events"] = custom + totals["views"]  # under an event filter, views are 0
    return {metric: _values(totals, metric) for metric in metrics}


def percent_change(metric: str, current, previous):
    """Plausible's ``change``: points for bounce rate, else a whole percentage."""
    if metric == "bounce_rate":
        return current - previous
    if not previous:
        return 100 if current else 0
    return round((current - previous) * 100 / previous)


def previous(query: q.StatsQuery) -> q.StatsQuery:
    return query.previous()


def buckets(query: q.StatsQuery, interval: str) -> list[date | int]:
    """The time labels of a series: days, month starts, or the hours 0–23 of one day."""
    if interval == "hour":
        return list(range(24))
    if interval == "month":
        return sorted({day.replace(day=1) for day in query.days()})
    return query.days()


def series(query: q.StatsQuery, metrics: list[str], interval: str) -> list[tuple]:
    """(label, {metric: value}) per bucket, every bucket present (zeros included)."""
    if interval == "hour":
        per_hour = {row["hour"]: row for row in q.hours(query)}
        out = []
        for hour in range(24):
            row = per_hour.get(hour, {"visitors": 0, "views": 0, "sessions": 0})
            values = {m: row[BREAKDOWN_METRICS[m]] for m in metrics}
            out.append((hour, values))
        return out
    daily = q.daily_metrics(query)
    grouped: dict[date, list[dict]] = {}
    for day in query.days():
        key = day.replace(day=1) if interval == "month" else day
        grouped.setdefault(key, []).append(daily.get(day, {}))
    return [
        (label, {m: _values(_sum(days), m) for m in metrics})
        for label, days in sorted(grouped.items())
    ]


def breakdown_rows(query: q.StatsQuery, prop: str, metrics: list[str]) -> list[tuple]:
    """(value, {metric: value}) per value of a property, most visitors first."""
    if prop not in BREAKDOWNS:
        raise PlausibleError(
            f"Breakdown by '{prop}' is not supported by Footfall. Please provide a valid "
            f"property for the breakdown endpoint: {BREAKDOWN_DOCS}"
        )
    dimension, column, _key = BREAKDOWNS[prop]
    if dimension == "exit":
        rows = [
            {"path": r["path"], "visitors": r["visitors"], "sessions": r["sessions"], "views": 0}
            for r in q.exit_pages(query)
        ]
        if "pageviews" in metrics:
            raise PlausibleError(
                "Metric `pageviews` is not supported by Footfall in a breakdown by "
                "`visit:exit_page`."
            )
    else:
        rows = q.breakdown(query, dimension)
    merged: dict[str, dict] = {}
    for row in rows:
        # ``referrer`` rows are per (referrer, source): Plausible's source merges them.
        value = row.get(column) or ""
        target = merged.setdefault(value, {"visitors": 0, "sessions": 0, "views": 0})
        for name in target:
            target[name] += row.get(name, 0)
    ordered = sorted(merged.items(), key=lambda kv: (-kv[1]["visitors"], -kv[1]["views"], kv[0]))
    return [(value, {m: m_row[BREAKDOWN_METRICS[m]] for m in metrics}) for value, m_row in ordered]


def realtime_visitors(site_id: int) -> int:
    return q.active_visitors(site_id, REALTIME_SECONDS)["visitors"]
