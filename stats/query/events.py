"""Event-level reads: custom events and their metadata, tags, goals, pages of an event, and
the live view's recent visitors. Every read goes through the planned event parts
(``event_sets``: rolled-up events for covered days, raw events for the rest)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone
from psycopg import sql

from stats.models import Goal
from stats.query.coverage import event_sets
from stats.query.measures import visitors_total
from stats.query.request import StatsQuery
from stats.query.scope import SCOPED_PREFIX, scoped_events
from stats.query.sources import imported as imported_source
from stats.query.sql import compose, events_sql, sql_of
from tracking.models import Event


def recent_breakdown(site_id: int, tz: str, since: datetime, column: str, limit: int) -> list[dict]:
    """Visitors with an event since ``since`` per their session's value of the
    session-scoped ``column`` (``SESSION_SCOPE``), most first: the session's value is taken
    over its events of the local day, also those before ``since``, as statistics read it."""
    zone = ZoneInfo(tz)
    query = StatsQuery(
        site_id, since.astimezone(zone).date(), timezone.now().astimezone(zone).date(), tz
    )
    recent = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    # Whole sessions enter the window functions (a filter on sessions keeps every event of
    # theirs); only then are the recent events picked.
    events = (
        scoped_events(query, (column,))
        .filter(session_id__in=recent.values("session_id"))
        .annotate(is_recent=Case(When(timestamp__gte=since, then=Value(1)), default=Value(0)))
    )
    inner, params = sql_of(events.values("visitor_id", "is_recent", SCOPED_PREFIX + column))
    statement = compose(
        "SELECT w.{column}, count(DISTINCT w.visitor_id) AS visitors "
        "FROM ({inner}) w WHERE w.is_recent = 1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s",
        column=sql.Identifier(SCOPED_PREFIX + column),
        inner=inner,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, (*params, limit))
        return [{column: value, "visitors": visitors} for value, visitors in cursor.fetchall()]


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


def _event_rows(query: StatsQuery, columns: tuple[str, ...], **where):
    """``columns`` of the query's events matching ``where``, from both parts, as tuples."""
    for events in event_sets(query):
        yield from events.filter(**where).values_list(*columns).iterator(chunk_size=5000)


def event_meta(query: StatsQuery, event_name: str, key: str) -> list[dict]:
    """Pirsch's ``EventStats`` per value of one meta key of one event."""
    per_value: dict[str, dict] = {}
    for props, visitor_id, duration in _event_rows(
        query,
        ("props", "visitor_id", "duration_ms"),
        kind="custom",
        name=event_name,
        props__has_key=key,
    ):
        value = str(props.get(key, ""))
        row = per_value.setdefault(value, {"visitors": set(), "views": 0, "durations": []})
        row["visitors"].add(visitor_id)
        row["views"] += 1
        if duration is not None:
            row["durations"].append(duration)
    # Imported days (Plausible's files keep the url of link and download goals and the path
    # of 404 goals per goal): their visitors and events add to the value's.
    imported = imported_source.property_values(query, key, event_name)
    for value in imported:
        per_value.setdefault(value, {"visitors": set(), "views": 0, "durations": []})
    all_visitors = visitors_total(query) or 1

    def visitors(value: str, row: dict) -> int:
        return len(row["visitors"]) + imported.get(value, {}).get("visitors", 0)

    result = [
        {
            "name": event_name,
            "meta_value": value,
            "visitors": visitors(value, r),
            "views": r["views"] + imported.get(value, {}).get("events", 0),
            "cr": round(visitors(value, r) / all_visitors, 4),
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
    for name, props, visitor_id in _event_rows(
        query, ("name", "props", "visitor_id"), kind="custom"
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
    return sorted(result, key=lambda r: (-r["count"], r["name"], sorted(r["meta"].items())))


def event_pages(query: StatsQuery, event_name: str) -> list[dict]:
    """Pages on which an event was triggered."""
    inner, params = events_sql(
        query, "path", "visitor_id", refine=lambda qs: qs.filter(kind="custom", name=event_name)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            compose(
                """SELECT path, count(DISTINCT visitor_id) AS visitors, count(*) AS views
                FROM ({inner}) e GROUP BY path ORDER BY visitors DESC, path""",
                inner=inner,
            ),
            params,
        )
        rows = [{"path": p, "visitors": v, "views": n} for p, v, n in cursor.fetchall()]
    all_visitors = visitors_total(query) or 1
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
    for props, visitor_id, kind in _event_rows(
        query, ("props", "visitor_id", "kind"), props__has_key="tags"
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
    all_visitors = visitors_total(query) or 1
    result = []
    for goal in Goal.objects.filter(site_id=query.site_id).order_by("name"):
        if goal.event_name:
            target = Q(kind="custom", name=goal.event_name)
        else:
            target = Q(kind="pageview", path__regex=goal.path_pattern)
        visitors = views = 0
        for events in event_sets(query):  # disjoint days: per-day counts add up
            for counts in (
                events.filter(target)
                .annotate(day=query._local_day())
                .values("day")
                .annotate(visitors=Count("visitor_id", distinct=True), views=Count("id"))
            ):
                visitors += counts["visitors"]
                views += counts["views"]
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
