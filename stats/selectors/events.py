"""Events of a period: the count per event type and the newest-first list (``/events``)."""

from __future__ import annotations

from django.db.models import Count

from stats.selectors.paging import NewestFirst, events_by_span
from stats.selectors.periods import Period, events_in
from stats.selectors.public import event_type_name


def event_type_counts(site_id: int, period: Period) -> list[dict]:
    rows = (
        events_in(site_id, period)
        .exclude(kind="heartbeat")
        .values("kind", "name")
        .annotate(count=Count("id"))
        .order_by("-count", "name")
    )
    counts: dict[str, int] = {}
    for row in rows:
        key = event_type_name(row["kind"], row["name"])
        counts[key] = counts.get(key, 0) + row["count"]
    return [
        {"name": name, "count": count}
        for name, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def event_rows(
    site_id: int,
    period: Period,
    *,
    type: str = "",
    visitor_id: int | None = None,
    session_id: int | None = None,
) -> NewestFirst:
    """The period's events (heartbeats aside), newest first, with the API's filters."""
    parts = []
    for events in events_by_span(site_id, period):
        events = events.exclude(kind="heartbeat")
        if type:
            events = (
                events.filter(kind="pageview")
                if type == "page_view"
                else events.filter(name=type).exclude(kind="pageview")
            )
        if visitor_id is not None:
            events = events.filter(visitor_id=visitor_id)
        if session_id is not None:
            events = events.filter(session_id=session_id)
        parts.append(events.order_by("-timestamp", "-id"))
    return NewestFirst(parts)
