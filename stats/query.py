"""One query layer for statistics: a ``StatsQuery`` answered from rollups or raw events.

Definitions (the same on both paths, so they always agree):
- a **day** is a calendar day in the query's time zone (the site's by default);
- **visitors** of a range are the sum over its days of the distinct visitors of each day
  (visitor ids rotate with the daily salt, so a visitor cannot be followed across days;
  this is also how Pirsch counts);
- **sessions** of a day are its distinct sessions; **views** its page views;
- a session **bounced** when it has at most one page view and no interactive custom event;
  **bounces** of a day count its bounced sessions;
- a session's **duration** is the time between its first and last event (heartbeats and
  keep-alives included).

Whole past days without filters come from ``DailySiteStats`` (see ``stats.rollups``);
everything else is computed from the raw events with the same definitions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import ExtractHour, TruncDay
from django.utils import timezone

from tracking.models import Event

# Filter parameter → event column (Pirsch's names).
FILTER_FIELDS = {
    "path": "path",
    "entry_path": "entry_path",
    "language": "language",
    "country": "country_code",
    "region": "region",
    "city": "city",
    "referrer": "referrer",
    "referrer_name": "source",
    "channel": "channel",
    "os": "os",
    "os_version": "os_version",
    "browser": "browser",
    "browser_version": "browser_version",
    "platform": "device_type",
    "screen_class": "screen_class",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "title": "title",
    "hostname": "hostname",
}
BOUNCE = Q(pageviews__lte=1, interactions=0)


def milliseconds(delta: timedelta) -> int:
    """Whole milliseconds of a duration, exactly (no float rounding)."""
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class QueryError(ValueError):
    """A parameter is wrong: ``field`` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class StatsQuery:
    site_id: int
    first_day: date
    last_day: date
    tz: str = "UTC"
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.zone)

    def days(self) -> list[date]:
        return [
            self.first_day + timedelta(days=n)
            for n in range((self.last_day - self.first_day).days + 1)
        ]

    def previous(self) -> StatsQuery:
        """The period of equal length just before this one (for growth)."""
        length = (self.last_day - self.first_day).days + 1
        return StatsQuery(
            self.site_id,
            self.first_day - timedelta(days=length),
            self.first_day - timedelta(days=1),
            self.tz,
            self.filters,
        )

    # --- raw events ------------------------------------------------------------
    def events(self) -> QuerySet[Event]:
        events = Event.objects.filter(
            site_id=self.site_id, timestamp__gte=self.start, timestamp__lt=self.end
        )
        return apply_filters(events, self.filters)

    def _local_day(self):
        return TruncDay("timestamp", tzinfo=self.zone)


def _condition(column: str, raw: str) -> tuple[Q, bool]:
    """One filter value → (condition, negated). ``!`` not, ``~`` contains, ``^`` not contains."""
    if raw.startswith("!"):
        return Q(**{column: raw[1:]}), True
    if raw.startswith("~"):
        return Q(**{f"{column}__icontains": raw[1:]}), False
    if raw.startswith("^"):
        return Q(**{f"{column}__icontains": raw[1:]}), True
    return Q(**{column: raw}), False


def apply_filters(events: QuerySet[Event], filters: dict[str, list[str]]) -> QuerySet[Event]:
    """Repeated values of one filter are ORed; different filters are ANDed."""
    for name, values in filters.items():
        if name == "pattern":
            for pattern in values:
                events = events.filter(path__regex=pattern)
            continue
        if name == "event":
            column = "name"
            events = events.filter(kind="custom")
        elif name == "event_meta_key":
            events = events.filter(kind="custom", props__has_any_keys=values)
            continue
        elif name.startswith("meta_"):
            column = f"props__{name[5:]}"
        elif name.startswith("tag_"):
            column = f"props__tags__{name[4:]}"
        else:
            column = FILTER_FIELDS[name]
        positive, negative = Q(), Q()
        for value in values:
            condition, negated = _condition(column, value)
            if negated:
                negative &= ~condition
            else:
                positive |= condition
        events = events.filter(positive).filter(negative)
    return events


def validate_filters(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filter parameters of a request; a bad regular expression is a ``QueryError``."""
    filters: dict[str, list[str]] = {}
    for name, values in params.items():
        values = [v for v in values if v != ""]
        if not values:
            continue
        if (
            name in FILTER_FIELDS
            or name in ("pattern", "event", "event_meta_key")
            or (re.fullmatch(r"(meta|tag)_[A-Za-z0-9_.-]{1,64}", name))
        ):
            if name == "pattern":
                for pattern in values:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        raise QueryError(
                            "pattern", f"pattern is not a valid regular expression: {exc}"
                        ) from exc
            filters[name] = values
    return filters


# --- daily metrics (raw path) --------------------------------------------------------


def daily_from_events(query: StatsQuery) -> dict[date, dict]:
    """Visitors, views, sessions, bounces and duration per local day, from raw events."""
    events = query.events()
    day = query._local_day()
    per_day = {
        row["day"].date(): {
            "visitors": row["visitors"],
            "views": row["views"],
            "sessions": row["sessions"],
            "bounces": 0,
            "duration_ms": 0,
        }
        for row in events.annotate(day=day)
        .values("day")
        .annotate(
            visitors=Count("visitor_id", distinct=True),
            views=Count("id", filter=Q(kind="pageview")),
            sessions=Count("session_id", distinct=True),
        )
    }
    sessions = (
        events.annotate(day=day)
        .values("day", "session_id")
        .annotate(
            pageviews=Count("id", filter=Q(kind="pageview")),
            interactions=Count("id", filter=Q(kind="custom", interactive=True)),
            first=Min("timestamp"),
            last=Max("timestamp"),
        )
    )
    for row in sessions:
        metrics = per_day[row["day"].date()]
        if row["pageviews"] <= 1 and row["interactions"] == 0:
            metrics["bounces"] += 1
        metrics["duration_ms"] += milliseconds(row["last"] - row["first"])
    return per_day


def daily_metrics(query: StatsQuery) -> dict[date, dict]:
    """Per-day metrics: rollups for whole past days without filters, raw events otherwise."""
    from stats.rollups import rolled_up_days

    today = timezone.now().astimezone(query.zone).date()
    rolled = (
        {}
        if query.filters
        else rolled_up_days(
            query.site_id, query.first_day, min(query.last_day, today - timedelta(days=1)), query.tz
        )
    )
    missing = [d for d in query.days() if d not in rolled]
    if not missing:
        return rolled
    raw = daily_from_events(
        StatsQuery(query.site_id, min(missing), max(missing), query.tz, query.filters)
    )
    return {**{d: raw[d] for d in missing if d in raw}, **rolled}


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
    metrics = daily_metrics(query)
    buckets: dict[date, dict] = {}
    for day in query.days():
        bucket = buckets.setdefault(
            _bucket(day, scale), {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0}
        )
        for key in bucket:
            bucket[key] += metrics.get(day, {}).get(key, 0)
    series = []
    for start, values in sorted(buckets.items()):
        series.append(
            {
                **scale_fields(start, scale),
                **values,
                "bounce_rate": round(values["bounces"] / values["sessions"], 4)
                if values["sessions"]
                else 0,
            }
        )
    return series


def totals(query: StatsQuery) -> dict:
    """Pirsch's ``TotalVisitorStats``."""
    metrics = daily_metrics(query).values()
    visitors = sum(m["visitors"] for m in metrics)
    views = sum(m["views"] for m in metrics)
    sessions = sum(m["sessions"] for m in metrics)
    bounces = sum(m["bounces"] for m in metrics)
    return {
        "visitors": visitors,
        "views": views,
        "sessions": sessions,
        "bounces": bounces,
        "bounce_rate": round(bounces / sessions, 4) if sessions else 0,
        "cr": 0,
        "custom_metric_avg": 0,
        "custom_metric_total": 0,
    }


def _growth(current: float, previous: float) -> float:
    if not previous:
        return 0
    return round((current - previous) / previous, 4)


def growth(query: StatsQuery) -> dict:
    """Pirsch's ``Growth``: the change against the previous period of equal length."""
    now, before = daily_metrics(query).values(), daily_metrics(query.previous()).values()

    def total(values, key):
        return sum(m[key] for m in values)

    def average_seconds(values):
        sessions = total(values, "sessions")
        return total(values, "duration_ms") / 1000 / sessions if sessions else 0

    def rate(values):
        sessions = total(values, "sessions")
        return total(values, "bounces") / sessions if sessions else 0

    return {
        "visitors_growth": _growth(total(now, "visitors"), total(before, "visitors")),
        "views_growth": _growth(total(now, "views"), total(before, "views")),
        "sessions_growth": _growth(total(now, "sessions"), total(before, "sessions")),
        "bounces_growth": _growth(rate(now), rate(before)),
        "time_spent_growth": _growth(average_seconds(now), average_seconds(before)),
        "cr_growth": 0,
        "custom_metric_avg_growth": 0,
        "custom_metric_total_growth": 0,
    }


# Breakdowns that are rolled up per day: name → (columns, kind of events counted).
DIMENSIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "page": (("path",), "pageview"),
    "entry": (("entry_path",), "pageview"),
    "referrer": (("referrer", "source"), None),
    "channel": (("channel",), None),
    "utm_source": (("utm_source",), None),
    "utm_medium": (("utm_medium",), None),
    "utm_campaign": (("utm_campaign",), None),
    "utm_content": (("utm_content",), None),
    "utm_term": (("utm_term",), None),
    "country": (("country_code",), None),
    "region": (("country_code", "region"), None),
    "city": (("country_code", "region", "city"), None),
    "browser": (("browser",), None),
    "browser_version": (("browser", "browser_version"), None),
    "os": (("os",), None),
    "os_version": (("os", "os_version"), None),
    "platform": (("device_type",), None),
    "screen": (("screen_class",), None),
    "language": (("language",), None),
    "event": (("name",), "custom"),
    "hour": (("hour",), None),
}
# Dimension columns computed from the event time (SQL for the rollups, ORM for raw queries).
COMPUTED_COLUMNS = {"hour": """extract(hour FROM "timestamp" AT TIME ZONE %(tz)s)::int"""}
VALUE_SEPARATOR = "\x1f"


def dimension_days_from_events(query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
    """Per local day and value: visitors, views and sessions, from raw events."""
    columns, kind = DIMENSIONS[dimension]
    events = query.events()
    if kind:
        events = events.filter(kind=kind)
    if "hour" in columns:
        events = events.annotate(hour=ExtractHour("timestamp", tzinfo=query.zone))
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for row in (
        events.annotate(day=query._local_day())
        .values(*columns, "day")
        .annotate(
            visitors=Count("visitor_id", distinct=True),
            views=Count("id", filter=Q(kind="pageview")),
            sessions=Count("session_id", distinct=True),
        )
    ):
        per_day[row["day"].date()][tuple(row[c] for c in columns)] = {
            "visitors": row["visitors"],
            "views": row["views"],
            "sessions": row["sessions"],
        }
    return per_day


def breakdown(query: StatsQuery, dimension: str) -> list[dict]:
    """Visitors, views and sessions per value of a dimension, most visitors first.

    Whole past days without filters come from the dimension rollups, the rest from raw
    events; visitors are summed over days, as everywhere.
    """
    from stats.rollups import rolled_up_dimension_days

    columns, _kind = DIMENSIONS[dimension]
    today = timezone.now().astimezone(query.zone).date()
    rolled = (
        {}
        if query.filters
        else rolled_up_dimension_days(
            query.site_id,
            dimension,
            query.first_day,
            min(query.last_day, today - timedelta(days=1)),
            query.tz,
        )
    )
    missing = [d for d in query.days() if d not in rolled]
    per_day = dict(rolled)
    if missing:
        raw = dimension_days_from_events(
            StatsQuery(query.site_id, min(missing), max(missing), query.tz, query.filters),
            dimension,
        )
        per_day.update({d: raw[d] for d in missing if d in raw})
    rows: dict[tuple, dict] = defaultdict(lambda: {"visitors": 0, "views": 0, "sessions": 0})
    for values in per_day.values():
        for key, metrics in values.items():
            for name in ("visitors", "views", "sessions"):
                rows[key][name] += metrics[name]
    total_visitors = sum(m["visitors"] for m in rows.values()) or 1
    total_views = sum(m["views"] for m in rows.values()) or 1
    result = [
        {
            **dict(zip(columns, key, strict=True)),
            **m,
            "relative_visitors": round(m["visitors"] / total_visitors, 4),
            "relative_views": round(m["views"] / total_views, 4),
        }
        for key, m in rows.items()
    ]
    result.sort(key=lambda r: (-r["visitors"], -r["views"], tuple(str(r[c]) for c in columns)))
    return result


def hours(query: StatsQuery) -> list[dict]:
    """Visitors, views and sessions per hour of the day (0–23, local time)."""
    per_hour = {h: {"hour": h, "visitors": 0, "views": 0, "sessions": 0} for h in range(24)}
    for row in breakdown(query, "hour"):
        per_hour[row["hour"]].update(
            visitors=row["visitors"], views=row["views"], sessions=row["sessions"]
        )
    return list(per_hour.values())


def active_visitors(site_id: int, seconds: int) -> dict:
    """Pirsch's ``ActiveVisitorsData``: visitors and their pages in the last ``seconds``."""
    since = timezone.now() - timedelta(seconds=seconds)
    events = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    pages = (
        events.filter(kind="pageview")
        .values("path")
        .annotate(visitors=Count("visitor_id", distinct=True))
        .order_by("-visitors", "path")[:100]
    )
    return {
        "stats": [{"path": p["path"], "title": "", "visitors": p["visitors"]} for p in pages],
        "visitors": events.aggregate(v=Count("visitor_id", distinct=True))["v"],
    }


# --- session-level breakdowns (raw path) ---------------------------------------------


def session_summaries(
    query: StatsQuery, *, limit: int | None = None, offset: int = 0
) -> list[dict]:
    """One row per session with events in the range (newest first): entry, exit, page views,
    duration, bounce. ``limit``/``offset`` page in the database on PostgreSQL."""
    if connection.vendor == "postgresql":
        return _session_summaries_sql(query, limit, offset)
    sessions: dict[int, dict] = {}
    rows = (
        query.events()
        .exclude(kind="engagement")
        .values_list(
            "session_id",
            "visitor_id",
            "timestamp",
            "kind",
            "path",
            "title",
            "interactive",
            "entry_path",
        )
        .order_by("session_id", "timestamp", "id")
    )
    for session_id, visitor_id, at, kind, path, title, interactive, entry_path in rows.iterator(
        chunk_size=5000
    ):
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = {
                "session_id": session_id,
                "visitor_id": visitor_id,
                "start": at,
                "end": at,
                "entry_path": entry_path or path,
                "exit_path": "",
                "exit_title": "",
                "page_views": 0,
                "interactions": 0,
            }
        session["end"] = at
        if kind == "pageview":
            session["page_views"] += 1
            session["exit_path"], session["exit_title"] = path, title
        elif kind == "custom" and interactive:
            session["interactions"] += 1
    for session in sessions.values():
        session["duration_ms"] = milliseconds(session["end"] - session["start"])
        session["is_bounce"] = session["page_views"] <= 1 and session["interactions"] == 0
    ordered = sorted(sessions.values(), key=lambda s: (s["start"], s["session_id"]), reverse=True)
    return ordered[offset : offset + limit] if limit is not None else ordered[offset:]


def _session_summaries_sql(query: StatsQuery, limit: int | None, offset: int) -> list[dict]:
    inner, params = _sql(
        query.events()
        .exclude(kind="engagement")
        .values(
            "session_id",
            "visitor_id",
            "timestamp",
            "id",
            "kind",
            "path",
            "title",
            "interactive",
            "entry_path",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT session_id, min(visitor_id), min("timestamp") AS start, max("timestamp"),
                       (array_agg(coalesce(nullif(entry_path, ''), path) ORDER BY "timestamp", id))[1],
                       (array_agg(path ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1],
                       (array_agg(title ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1],
                       count(*) FILTER (WHERE kind = 'pageview'),
                       count(*) FILTER (WHERE kind = 'custom' AND interactive)
                FROM ({inner}) e GROUP BY session_id
                ORDER BY start DESC, session_id DESC LIMIT %s OFFSET %s""",  # noqa: S608 - Django-built inner query
            (*params, limit if limit is not None else 10**9, offset),
        )
        rows = cursor.fetchall()
    return [
        {
            "session_id": sid,
            "visitor_id": vid,
            "start": start,
            "end": end,
            "entry_path": entry or "",
            "exit_path": exit_path or "",
            "exit_title": exit_title or "",
            "page_views": views,
            "interactions": inter,
            "duration_ms": milliseconds(end - start),
            "is_bounce": views <= 1 and inter == 0,
        }
        for sid, vid, start, end, entry, exit_path, exit_title, views, inter in rows
    ]


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, params


def exit_pages(query: StatsQuery) -> list[dict]:
    """Pirsch's ``ExitStats``: sessions ending on each page."""
    if connection.vendor == "postgresql":
        inner, params = _sql(
            query.events()
            .filter(kind="pageview")
            .values("session_id", "visitor_id", "path", "title", "timestamp", "id")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT path, max(title), count(DISTINCT visitor_id), count(*) FROM (
                        SELECT DISTINCT ON (session_id) session_id, visitor_id, path, title
                        FROM ({inner}) e ORDER BY session_id, "timestamp" DESC, id DESC
                    ) x GROUP BY path""",  # noqa: S608 - Django-built inner query
                params,
            )
            rows = cursor.fetchall()
        total = sum(r[3] for r in rows) or 1
        result = [
            {
                "path": path,
                "title": title,
                "visitors": visitors,
                "sessions": exits,
                "exits": exits,
                "exit_rate": round(exits / total, 4),
            }
            for path, title, visitors, exits in rows
        ]
        return sorted(result, key=lambda r: (-r["exits"], r["path"]))
    sessions = session_summaries(query)
    per_path: dict[str, dict] = {}
    for session in sessions:
        if not session["exit_path"]:
            continue
        row = per_path.setdefault(
            session["exit_path"],
            {
                "path": session["exit_path"],
                "title": session["exit_title"],
                "visitors": set(),
                "exits": 0,
            },
        )
        row["visitors"].add(session["visitor_id"])
        row["exits"] += 1
    total = sum(r["exits"] for r in per_path.values()) or 1
    result = [
        {
            "path": r["path"],
            "title": r["title"],
            "visitors": len(r["visitors"]),
            "sessions": r["exits"],
            "exits": r["exits"],
            "exit_rate": round(r["exits"] / total, 4),
        }
        for r in per_path.values()
    ]
    return sorted(result, key=lambda r: (-r["exits"], r["path"]))


def time_on_page(query: StatsQuery) -> dict[date, list[int]]:
    """Per local day, the milliseconds from each page view to the session's next event."""
    if connection.vendor == "postgresql":
        inner, params = _sql(
            query.events()
            .exclude(kind="engagement")
            .values("session_id", "kind", "timestamp", "id")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT ("timestamp" AT TIME ZONE %s)::date,
                           least(floor(extract(epoch FROM next_at - "timestamp") * 1000), 1800000)::bigint
                    FROM (SELECT kind, "timestamp",
                                 lead("timestamp") OVER (PARTITION BY session_id ORDER BY "timestamp", id) AS next_at
                          FROM ({inner}) e) x
                    WHERE kind = 'pageview' AND next_at IS NOT NULL""",  # noqa: S608 - Django-built inner query
                (query.tz, *params),
            )
            samples: dict[date, list[int]] = defaultdict(list)
            for day, ms in cursor.fetchall():
                samples[day].append(ms)
        return samples
    per_day: dict[date, list[int]] = defaultdict(list)
    rows = (
        query.events()
        .exclude(kind="engagement")
        .values_list("session_id", "timestamp", "kind")
        .order_by("session_id", "timestamp", "id")
    )
    previous: tuple | None = None
    for session_id, at, kind in rows.iterator(chunk_size=5000):
        if previous and previous[0] == session_id and previous[2] == "pageview":
            per_day[previous[1].astimezone(query.zone).date()].append(
                min(milliseconds(at - previous[1]), 30 * 60_000)
            )
        previous = (session_id, at, kind)
    return per_day


def duration_series(query: StatsQuery, scale: str, *, per_page: bool) -> list[dict]:
    """Pirsch's ``TimeSpentStats``: average session (or page) time per scale bucket."""
    buckets: dict[date, list[int]] = {}
    if per_page:
        samples = time_on_page(query)
        for day in query.days():
            buckets.setdefault(_bucket(day, scale), []).extend(samples.get(day, []))
        averages = {b: (sum(v) / len(v) / 1000 if v else 0) for b, v in buckets.items()}
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


def _visitors_total(query: StatsQuery) -> int:
    return sum(
        m["visitors"]
        for m in daily_metrics(
            StatsQuery(query.site_id, query.first_day, query.last_day, query.tz)
        ).values()
    )


def event_meta(query: StatsQuery, event_name: str, key: str) -> list[dict]:
    """Pirsch's ``EventStats`` per value of one meta key of one event."""
    events = query.events().filter(kind="custom", name=event_name, props__has_key=key)
    per_value: dict[str, dict] = {}
    for props, visitor_id, duration in events.values_list("props", "visitor_id", "duration_ms"):
        value = str(props.get(key, ""))
        row = per_value.setdefault(value, {"visitors": set(), "views": 0, "durations": []})
        row["visitors"].add(visitor_id)
        row["views"] += 1
        if duration is not None:
            row["durations"].append(duration)
    all_visitors = _visitors_total(query) or 1
    result = [
        {
            "name": event_name,
            "meta_value": value,
            "visitors": len(r["visitors"]),
            "views": r["views"],
            "cr": round(len(r["visitors"]) / all_visitors, 4),
            "average_duration_seconds": round(sum(r["durations"]) / len(r["durations"]) / 1000)
            if r["durations"]
            else 0,
        }
        for value, r in per_value.items()
    ]
    return sorted(result, key=lambda r: (-r["visitors"], r["meta_value"]))


def event_list(query: StatsQuery) -> list[dict]:
    """Pirsch's ``EventListStats``: every event name with each distinct meta data."""
    grouped: dict[tuple, dict] = {}
    for name, props, visitor_id in (
        query.events().filter(kind="custom").values_list("name", "props", "visitor_id")
    ):
        meta = {
            k: str(v)
            for k, v in sorted(props.items())
            if k != "tags" and not isinstance(v, dict | list)
        }
        row = grouped.setdefault(
            (name, tuple(meta.items())), {"name": name, "meta": meta, "visitors": set(), "count": 0}
        )
        row["visitors"].add(visitor_id)
        row["count"] += 1
    result = [
        {"name": r["name"], "meta": r["meta"], "visitors": len(r["visitors"]), "count": r["count"]}
        for r in grouped.values()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["name"]))


def event_pages(query: StatsQuery, event_name: str) -> list[dict]:
    """Pages on which an event was triggered."""
    rows = (
        query.events()
        .filter(kind="custom", name=event_name)
        .values("path")
        .annotate(visitors=Count("visitor_id", distinct=True), views=Count("id"))
        .order_by("-visitors", "path")
    )
    all_visitors = _visitors_total(query) or 1
    return [
        {
            "path": r["path"],
            "visitors": r["visitors"],
            "views": r["views"],
            "cr": round(r["visitors"] / all_visitors, 4),
        }
        for r in rows
    ]


def tags(query: StatsQuery, key: str | None = None) -> list[dict]:
    """Hit tags (Pirsch ``tags``): per key, or per value of ``key``."""
    counts: dict[str, dict] = {}
    for props, visitor_id, kind in (
        query.events().filter(props__has_key="tags").values_list("props", "visitor_id", "kind")
    ):
        for tag_key, value in (props.get("tags") or {}).items():
            if key is not None and tag_key != key:
                continue
            label = tag_key if key is None else str(value)
            row = counts.setdefault(label, {"visitors": set(), "views": 0})
            row["visitors"].add(visitor_id)
            row["views"] += 1 if kind == "pageview" else 0
    total_visitors = sum(len(r["visitors"]) for r in counts.values()) or 1
    total_views = sum(r["views"] for r in counts.values()) or 1
    field_name = "key" if key is None else "value"
    result = [
        {
            field_name: label,
            "visitors": len(r["visitors"]),
            "views": r["views"],
            "relative_visitors": round(len(r["visitors"]) / total_visitors, 4),
            "relative_views": round(r["views"] / total_views, 4),
        }
        for label, r in counts.items()
    ]
    return sorted(result, key=lambda r: (-r["visitors"], r[field_name]))


def goals(query: StatsQuery) -> list[dict]:
    """Pirsch's ``ConversionGoal`` list: visitors who reached each goal and the rate."""
    from stats.models import Goal

    all_visitors = _visitors_total(query) or 1
    result = []
    for goal in Goal.objects.filter(site_id=query.site_id).order_by("name"):
        if goal.event_name:
            matched = query.events().filter(kind="custom", name=goal.event_name)
        else:
            matched = query.events().filter(kind="pageview", path__regex=goal.path_pattern)
        counts = (
            matched.annotate(day=query._local_day())
            .values("day")
            .annotate(visitors=Count("visitor_id", distinct=True), views=Count("id"))
        )
        visitors = sum(c["visitors"] for c in counts)
        views = sum(c["views"] for c in counts)
        result.append(
            {
                "page_goal": {
                    "id": goal.pk,
                    "name": goal.name,
                    "path_pattern": goal.path_pattern,
                    "event_name": goal.event_name,
                },
                "visitors": visitors,
                "views": views,
                "cr": round(visitors / all_visitors, 4),
            }
        )
    return result
