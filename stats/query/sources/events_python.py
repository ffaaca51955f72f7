"""The events source through the ORM and Python: the embedded default (SQLite, small
sites) and the oracle's check on any database. Same definitions as ``events_sql``."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import ExtractHour, TruncDate

from stats.dimensions import DIMENSIONS
from stats.query.coverage import event_sets
from stats.query.request import StatsQuery
from stats.query.results import GroupMetrics, milliseconds
from stats.query.scope import SCOPED_PREFIX, SESSION_SCOPED, scoped_events
from stats.query.sources.revenue import revenue_by_value

MAX_PAGE_TIME_MS = 30 * 60_000  # one page visit's time on page is at most 30 minutes


class EventsPython:
    name = "events"
    revenue = staticmethod(revenue_by_value)  # Measure.REVENUE (``sources/revenue.py``)

    def days(self, query: StatsQuery) -> dict[date, dict]:
        return daily_from_events_orm(query)

    def visitors(self, query: StatsQuery) -> int:
        per_day = query.events().annotate(day=query._local_day()).values("day")
        return sum(row["n"] for row in per_day.annotate(n=Count("visitor_id", distinct=True)))

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
        """Per local day and value: visitors, views and sessions (``exit``: exits)."""
        if dimension == "exit":
            return exit_days(query)
        columns, kind = DIMENSIONS[dimension]
        if any(column in SESSION_SCOPED for column in columns):
            return _scoped_dimension_days(query, columns, kind)
        per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
        for events in event_sets(query):  # disjoint days: their per-day rows never collide
            if kind:
                events = events.filter(kind=kind)
            if "hour" in columns:
                events = events.annotate(hour=ExtractHour("timestamp", tzinfo=query.zone))
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

    def groups(
        self, query: StatsQuery, columns: tuple[str, ...], kinds: tuple[str, ...] | None
    ) -> dict[date, dict[tuple, GroupMetrics]]:
        return groups_python(query, columns, kinds)

    def time_on_page(self, query: StatsQuery) -> dict[date, list[int]]:
        return time_on_page_python(query)

    def page_time_days(self, query: StatsQuery) -> dict[date, tuple[int, int]]:
        return {day: (sum(gaps), len(gaps)) for day, gaps in self.time_on_page(query).items()}


SOURCE = EventsPython()


def daily_from_events_orm(query: StatsQuery) -> dict[date, dict]:
    """``daily_from_events`` through the ORM and Python (any database; the oracle's check)."""
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


def _scoped_dimension_days(
    query: StatsQuery, columns: tuple[str, ...], kind: str | None
) -> dict[date, dict[tuple, dict]]:
    """``dimension_days_from_events`` of session-scoped columns through the ORM and Python
    (the embedded SQLite: raw events only, small sites)."""
    kept = None
    if query.filters or kind:
        events = query.events().filter(kind=kind) if kind else query.events()
        kept = set(events.values_list("id", flat=True))
    rows = (
        scoped_events(dataclasses.replace(query, filters={}), columns)
        .annotate(day=TruncDate("timestamp", tzinfo=query.zone))
        .values_list(
            "id", "day", "visitor_id", "session_id", "kind", *(SCOPED_PREFIX + c for c in columns)
        )
    )
    grouped: dict[tuple, dict] = {}
    for event_id, day, visitor_id, session_id, event_kind, *key in rows.iterator(chunk_size=5000):
        if kept is not None and event_id not in kept:
            continue
        row = grouped.setdefault((day, *key), {"visitors": set(), "sessions": set(), "views": 0})
        row["visitors"].add(visitor_id)
        row["sessions"].add(session_id)
        row["views"] += event_kind == "pageview"
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for (day, *key), row in grouped.items():
        per_day[day][tuple(key)] = {
            "visitors": len(row["visitors"]),
            "views": row["views"],
            "sessions": len(row["sessions"]),
        }
    return per_day


def groups_python(
    query: StatsQuery, columns: tuple[str, ...], kinds: tuple[str, ...] | None
) -> dict[date, dict[tuple, GroupMetrics]]:
    """``Measure.GROUPS`` through the ORM and Python (the embedded SQLite; any database):
    session-scoped columns as the session's values, ``hour`` the local hour."""
    scoped = tuple(c for c in columns if c in SESSION_SCOPED)
    kept = None
    if query.filters or kinds:
        events = query.events().filter(kind__in=kinds) if kinds else query.events()
        kept = set(events.values_list("id", flat=True))
    plain = tuple(c for c in columns if c not in SESSION_SCOPED and c != "hour")
    rows = (
        scoped_events(dataclasses.replace(query, filters={}), scoped)
        .order_by()
        .values_list(
            "id", "visitor_id", "session_id", "kind", "interactive", "timestamp",
            *plain, *(SCOPED_PREFIX + c for c in scoped),
        )
    )  # fmt: skip
    visitors: dict[tuple, set] = defaultdict(set)
    sessions: dict[tuple, dict] = {}
    for event_id, visitor_id, session_id, kind, interactive, at, *found in rows.iterator(
        chunk_size=5000
    ):
        if kept is not None and event_id not in kept:
            continue
        local = at.astimezone(query.zone)
        by_column = {**dict(zip((*plain, *scoped), found, strict=True)), "hour": local.hour}
        group = (local.date(), tuple(by_column[c] for c in columns))
        visitors[group].add(visitor_id)
        session = sessions.setdefault(
            (*group, session_id), {"views": 0, "events": 0, "interactions": 0, "at": [at, at]}
        )
        session["views"] += kind == "pageview"
        session["events"] += kind in ("pageview", "custom")
        session["interactions"] += kind == "custom" and bool(interactive)
        session["at"] = [min(session["at"][0], at), max(session["at"][1], at)]
    per_day: dict[date, dict[tuple, GroupMetrics]] = defaultdict(dict)
    for (day, key, _session), s in sessions.items():
        bounced = s["views"] <= 1 and s["interactions"] == 0
        one = GroupMetrics(
            0, 1, s["views"], s["events"], int(bounced), milliseconds(s["at"][1] - s["at"][0])
        )
        per_day[day][key] = per_day[day].get(key, GroupMetrics()) + one
    for (day, key), ids in visitors.items():
        per_day[day][key] = per_day[day][key] + GroupMetrics(visitors=len(ids))
    return per_day


def exit_days(query: StatsQuery) -> dict[date, dict[tuple, dict]]:
    """Per local day, exits per (page, title): each session's last page view of the day."""
    events = query.events().filter(kind="pageview")
    last: dict[tuple, tuple] = {}
    for session_id, visitor_id, path, title, at in events.order_by("timestamp", "id").values_list(
        "session_id", "visitor_id", "path", "title", "timestamp"
    ):
        last[(at.astimezone(query.zone).date(), session_id)] = (visitor_id, path, title)
    grouped: dict[tuple, dict] = {}
    for (day, _session), (visitor_id, path, title) in last.items():
        row = grouped.setdefault((day, path), {"titles": [], "visitors": set(), "exits": 0})
        row["titles"].append(title)
        row["visitors"].add(visitor_id)
        row["exits"] += 1
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for (day, path), r in grouped.items():
        exits = r["exits"]
        per_day[day][(path, max(r["titles"]))] = {
            "visitors": len(r["visitors"]),
            "views": exits,
            "sessions": exits,
        }
    return per_day


def time_on_page_python(query: StatsQuery) -> dict[date, list[int]]:
    """``time_on_page`` through the ORM and Python (the embedded SQLite; any database)."""
    per_day: dict[date, list[int]] = defaultdict(list)
    rows = (
        query.events()
        .values_list("session_id", "timestamp", "kind", "path", "duration_ms")
        .order_by("session_id", "timestamp", "id")
    )
    for day, _path, ms in page_time_samples(rows.iterator(chunk_size=5000), query.zone):
        per_day[day].append(ms)
    return per_day


def page_time_samples(rows: Iterable[tuple], zone: ZoneInfo) -> Iterator[tuple[date, str, int]]:
    """(local day, path, ms) time on page samples of ``rows``: (session_id, timestamp, kind,
    path, duration_ms) ordered by session, time and id (``time_on_page``'s rule)."""
    engaged: dict[tuple, int] = {}
    gaps: list[tuple[tuple, int]] = []
    previous: tuple | None = None  # the session's last event other than engagement
    current = None  # the session of the last row

    def flush() -> Iterator[tuple[date, str, int]]:
        for (_session, day, path), ms in engaged.items():
            yield day, path, min(ms, MAX_PAGE_TIME_MS)
        for key, ms in gaps:
            if key not in engaged:
                yield key[1], key[2], ms
        engaged.clear()
        gaps.clear()

    for session_id, at, kind, path, duration_ms in rows:
        if session_id != current:
            yield from flush()
            current, previous = session_id, None
        day = at.astimezone(zone).date()
        if kind == "engagement":
            if duration_ms is not None:
                key = (session_id, day, path)
                engaged[key] = engaged.get(key, 0) + duration_ms
            continue
        if previous and previous[:2] == (session_id, day) and previous[3] == "pageview":
            gap = min(milliseconds(at - previous[2]), MAX_PAGE_TIME_MS)
            gaps.append(((session_id, day, previous[4]), gap))
        previous = (session_id, day, at, kind, path)
    yield from flush()


def session_summaries_from_events(query: StatsQuery) -> list[dict]:
    """``session_summaries`` of the whole range, from raw events in Python (any database)."""
    sessions: dict[int, dict] = {}
    rows = (
        query.events()
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
                "entry_path": "",
                "first_path": path,
                "first_day": at.astimezone(query.zone).date(),
                "exit_path": "",
                "exit_title": "",
                "page_views": 0,
                "interactions": 0,
            }
        session["end"] = at
        session["visitor_id"] = min(session["visitor_id"], visitor_id)
        if not session["entry_path"] and at.astimezone(query.zone).date() == session["first_day"]:
            # The first day's first entry page given (as on session rows), else its first page.
            session["entry_path"] = entry_path
        if kind == "pageview":
            session["page_views"] += 1
            session["exit_path"], session["exit_title"] = path, title
        elif kind == "custom" and interactive:
            session["interactions"] += 1
    for session in sessions.values():
        first_path = session.pop("first_path")
        del session["first_day"]
        session["entry_path"] = session["entry_path"] or first_path
        session["duration_ms"] = milliseconds(session["end"] - session["start"])
        session["is_bounce"] = session["page_views"] <= 1 and session["interactions"] == 0
    return sorted(sessions.values(), key=lambda s: (s["start"], s["session_id"]), reverse=True)
