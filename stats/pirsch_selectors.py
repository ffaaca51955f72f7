"""Reads behind the Pirsch statistics endpoints that ``stats.query`` has no breakdown for.

Everything goes through the query layer's parts: ``event_sets`` (``RolledEvent`` rows for
the days the rollups cover, raw events for the rest, filters applied) and the per-day
dimension rows of ``_dimension_days`` (rollups where they exist). The definitions are
``stats.query``'s: visitors of a range are summed over its days; a session *bounced* on a
day when it had at most one page view and no interactive custom event that day.

Bounces per hour, minute, page or hostname: a bounced session-day belongs to the hour and
minute of its first event and to the page (and hostname) of its only page view. Only the
bounced session-days are read back (grouped by the database).

Results are plain dicts; ``stats.api.pirsch`` gives them Pirsch's names and shape.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import ExtractMinute
from django.utils import timezone

from sites.models import SiteMembership
from stats import query as q
from stats.dimensions import PIRSCH_OPTIONS
from tracking.models import Event

MAX_OPTIONS = 1000  # distinct values offered for one filter
MAX_SESSION_STEPS = 1000  # page views and events listed for one session
STEP_COLUMNS = (
    "timestamp", "kind", "name", "path", "title", "props", "duration_ms", "language",
    "country_code", "city", "referrer", "source", "os", "os_version", "browser",
    "browser_version", "device_type", "screen_class", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "utm_term",
)  # fmt: skip


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0


def bounced_session_days(
    query: q.StatsQuery, pages: list[str] | None = None
) -> Iterator[tuple[date, datetime, str, str]]:
    """(local day, first event, page, hostname) of every bounced session-day of the query
    (on one of ``pages`` only, when given); page and hostname are those of its page view
    ("" without one)."""
    for events in q.event_sets(query):
        rows = (
            events.annotate(day=query._local_day())
            .values("day", "session_id")
            .annotate(
                pageviews=Count("id", filter=Q(kind="pageview")),
                interactions=Count("id", filter=Q(kind="custom", interactive=True)),
                first=Min("timestamp"),
                page=Max("path", filter=Q(kind="pageview")),
                host=Max("hostname", filter=Q(kind="pageview")),
            )
            .filter(pageviews__lte=1, interactions=0, **({"page__in": pages} if pages else {}))
            .values_list("day", "first", "page", "host")
            .order_by()
        )
        for day, first, page, host in rows.iterator(chunk_size=5000):
            yield day.date() if isinstance(day, datetime) else day, first, page or "", host or ""


def weekday_hours(query: q.StatsQuery) -> list[dict]:
    """Visitors, views, sessions and bounces per (weekday, hour): Monday is 0; all 168."""
    cells = {
        (weekday, hour): {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0}
        for weekday in range(7)
        for hour in range(24)
    }
    for day, values in q._dimension_days(query, "hour").items():
        for (hour,), metrics in values.items():
            cell = cells[(day.weekday(), hour)]
            for name in ("visitors", "views", "sessions"):
                cell[name] += metrics[name]
    zone = query.zone
    for day, first, _page, _host in bounced_session_days(query):
        cells[(day.weekday(), first.astimezone(zone).hour)]["bounces"] += 1
    return [{"weekday": w, "hour": h, **metrics} for (w, h), metrics in cells.items()]


def hour_bounces(query: q.StatsQuery) -> dict[int, int]:
    """Bounced session-days per local hour of their first event."""
    found = dict.fromkeys(range(24), 0)
    for _day, first, _page, _host in bounced_session_days(query):
        found[first.astimezone(query.zone).hour] += 1
    return found


def minutes(query: q.StatsQuery) -> list[dict]:
    """Visitors, views, sessions and bounces per minute of the hour (0–59, local time)."""
    cells = {m: {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0} for m in range(60)}
    for events in q.event_sets(query):
        rows = (
            events.annotate(
                day=query._local_day(), minute=ExtractMinute("timestamp", tzinfo=query.zone)
            )
            .values("day", "minute")
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                views=Count("id", filter=Q(kind="pageview")),
                sessions=Count("session_id", distinct=True),
            )
            .order_by()
        )
        for row in rows:
            cell = cells[row["minute"]]
            for name in ("visitors", "views", "sessions"):
                cell[name] += row[name]
    for _day, first, _page, _host in bounced_session_days(query):
        cells[first.astimezone(query.zone).minute]["bounces"] += 1
    return [{"minute": m, **metrics} for m, metrics in cells.items()]


def _page_view_groups(query: q.StatsQuery, column: str, values: list[str] | None = None):
    """Per value of ``column`` of page views: visitors, views, sessions (summed over days)."""
    totals: dict[str, dict] = defaultdict(lambda: {"visitors": 0, "views": 0, "sessions": 0})
    for events in q.event_sets(query):
        events = events.filter(kind="pageview")
        if values is not None:
            events = events.filter(**{f"{column}__in": values})
        rows = (
            events.annotate(day=query._local_day())
            .values("day", column)
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                views=Count("id"),
                sessions=Count("session_id", distinct=True),
            )
            .order_by()
        )
        for row in rows:
            for name in ("visitors", "views", "sessions"):
                totals[row[column]][name] += row[name]
    return totals


def hostnames(query: q.StatsQuery) -> list[dict]:
    """Visitors, views, sessions and bounces per hostname of the page views."""
    totals = _page_view_groups(query, "hostname")
    bounces: dict[str, int] = defaultdict(int)
    for _day, _first, page, host in bounced_session_days(query):
        if page:
            bounces[host] += 1
    all_visitors = sum(r["visitors"] for r in totals.values())
    all_views = sum(r["views"] for r in totals.values())
    rows = [
        {
            "hostname": host,
            **metrics,
            "bounces": bounces[host],
            "relative_visitors": rate(metrics["visitors"], all_visitors),
            "relative_views": rate(metrics["views"], all_views),
            "bounce_rate": rate(bounces[host], metrics["sessions"]),
        }
        for host, metrics in totals.items()
    ]
    return sorted(rows, key=lambda r: (-r["visitors"], -r["views"], r["hostname"]))


def page_details(query: q.StatsQuery, paths: list[str], *, time_on_page: bool) -> dict[str, dict]:
    """For ``paths`` (one page of results): hostname, title, bounces and, when asked, the
    average seconds from a page view to the session's next event that day."""
    details = {path: {"hostname": "", "title": "", "bounces": 0, "seconds": 0} for path in paths}
    if not paths:
        return details
    for events in q.event_sets(query):
        for path, host, title in (
            events.filter(kind="pageview", path__in=paths)
            .values("path")
            .annotate(host=Max("hostname"), title=Max("title"))
            .values_list("path", "host", "title")
            .order_by()
        ):
            details[path]["hostname"] = max(details[path]["hostname"], host or "")
            details[path]["title"] = max(details[path]["title"], title or "")
    for _day, _first, page, _host in bounced_session_days(query, paths):
        if page in details:
            details[page]["bounces"] += 1
    if time_on_page:
        for path, (total_ms, count) in _time_on_page(query, set(paths)).items():
            details[path]["seconds"] = round(total_ms / count / 1000) if count else 0
    return details


def _time_on_page(query: q.StatsQuery, paths: set[str]) -> dict[str, tuple[int, int]]:
    """Per path of ``paths``: (sum of ms, number) of time on page samples, as
    ``stats.query.time_on_page`` measures them for the whole site (a page visit's engaged
    time, else the gap from a page view to the session's next event that day)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for events in q.event_sets(query):  # disjoint days: no page visit crosses two parts
        rows = events.values_list("session_id", "timestamp", "kind", "path", "duration_ms")
        for _day, path, ms in q.page_time_samples(
            rows.order_by("session_id", "timestamp", "id").iterator(chunk_size=5000), query.zone
        ):
            if path in paths:
                found[path][0] += ms
                found[path][1] += 1
    return {path: (total, count) for path, (total, count) in found.items()}


def event_details(query: q.StatsQuery) -> dict[str, dict]:
    """Per custom event name: how often it happened, its average duration (seconds, of
    the events that had one) and the metadata keys it was sent with."""
    details: dict[str, dict] = defaultdict(
        lambda: {"count": 0, "duration_ms": 0, "durations": 0, "meta_keys": set()}
    )
    for events in q.event_sets(query):
        custom = events.filter(kind="custom")
        for name, count, duration_ms, durations in (
            custom.values("name")
            .annotate(n=Count("id"), total_ms=Sum("duration_ms"), timed=Count("duration_ms"))
            .values_list("name", "n", "total_ms", "timed")
            .order_by()
        ):
            entry = details[name]
            entry["count"] += count
            entry["duration_ms"] += duration_ms or 0
            entry["durations"] += durations
        for name, props in custom.values_list("name", "props").distinct().order_by()[:10_000]:
            if isinstance(props, dict):
                details[name]["meta_keys"].update(k for k in props if k != "tags")
    return {
        name: {
            "count": entry["count"],
            "average_duration_seconds": round(entry["duration_ms"] / entry["durations"] / 1000)
            if entry["durations"]
            else 0,
            "meta_keys": sorted(entry["meta_keys"]),
        }
        for name, entry in details.items()
    }


def active_countries(site_id: int, seconds: int) -> list[dict]:
    """Visitors active in the last ``seconds`` per country, most first."""
    since = timezone.now() - timedelta(seconds=seconds)
    rows = list(
        Event.objects.filter(site_id=site_id, timestamp__gte=since)
        .values("country_code")
        .annotate(visitors=Count("visitor_id", distinct=True))
        .order_by("-visitors", "country_code")[:100]
    )
    total = sum(r["visitors"] for r in rows)
    return [
        {
            "visitors": r["visitors"],
            "relative_visitors": rate(r["visitors"], total),
            "country_code": r["country_code"],
        }
        for r in rows
    ]


def session_steps(query: q.StatsQuery, visitor_id: int, session_id: int) -> list[dict]:
    """The page views and custom events of one session in the range, in order, each with
    the seconds until the session's next event (heartbeats only extend that time)."""
    rows: list[dict] = []
    unfiltered = dataclasses.replace(query, filters={})
    for events in q.event_sets(unfiltered):
        rows.extend(
            events.filter(session_id=session_id, visitor_id=visitor_id)
            .values(*STEP_COLUMNS)
            .order_by("timestamp", "id")[: MAX_SESSION_STEPS * 2]
        )
    rows.sort(key=lambda r: r["timestamp"])
    steps = []
    for index, row in enumerate(rows):
        if row["kind"] not in ("pageview", "custom"):
            continue
        following = rows[index + 1]["timestamp"] if index + 1 < len(rows) else None
        row["seconds_to_next"] = (
            q.milliseconds(following - row["timestamp"]) // 1000 if following else 0
        )
        steps.append(row)
    return steps[:MAX_SESSION_STEPS]


def site_members(site_id: int) -> int:

    return SiteMembership.objects.filter(site_id=site_id).count()


def overview(query: q.StatsQuery) -> dict:
    """Visitors and views of the range, their growth against the period before, the series."""
    current, previous = q.concurrently(
        lambda: q.daily_metrics(query), lambda: q.daily_metrics(query.previous())
    )

    def total(days: dict, key: str) -> int:
        return sum(m[key] for m in days.values())

    return {
        "visitors": total(current, "visitors"),
        "views": total(current, "views"),
        "previous_visitors": total(previous, "visitors"),
        "previous_views": total(previous, "views"),
        "series": q.visitor_series(query),
    }


# option → (breakdown, its column) for the options a breakdown answers (the catalogue's).
OPTION_DIMENSIONS = PIRSCH_OPTIONS
OPTIONS = (*OPTION_DIMENSIONS, "hostname", "metadata", "tag", "tag/value")


def filter_options(query: q.StatsQuery, option: str, tag: str = "") -> list[str]:
    """The distinct values one filter could take in the range (most visitors first for
    breakdowns, alphabetical for keys); empty values are not offered."""
    if option in OPTION_DIMENSIONS:
        dimension, column = OPTION_DIMENSIONS[option]
        values = [row[column] for row in q.breakdown(query, dimension)]
    elif option == "hostname":
        values = [row["hostname"] for row in hostnames(query)]
    elif option == "tag":
        values = [row["key"] for row in q.tags(query)]
    elif option == "tag/value":
        values = [row["value"] for row in q.tags(query, tag)]
    else:  # metadata: the keys events were sent with
        values = sorted({key for d in event_details(query).values() for key in d["meta_keys"]})
    return list(dict.fromkeys(v for v in values if v))[:MAX_OPTIONS]
