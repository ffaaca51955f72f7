"""Visitors of a period (``/visitors``) and one visitor's detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max, Min, QuerySet

from stats.query import SCOPED_PREFIX, StatsQuery, scoped_events
from stats.selectors.paging import NewestGroups
from stats.selectors.periods import Period, all_time_bounds, events_in
from stats.selectors.sessions import session_rows
from stats.selectors.visitor_filters import VISITOR_FILTER_COLUMNS, filter_visitors
from tracking.models import Event


def visitor_rows(
    site_id: int,
    period: Period,
    *,
    browser: str = "",
    os: str = "",
    country: str = "",
    search: str = "",
    bots: bool = True,
):
    """The visitors of a period grouped by the ORM (the embedded default's ``/visitors``,
    the oracle of ``NewestGroups`` and ``visitor_detail``). The filters match the sessions'
    values (session scope) when the period is whole days; the values shown are the
    largest the visitor's events carry."""
    filters = {"browser": browser, "os": os, "country": country, "search": search, "bots": bots}
    events = events_in(site_id, period)
    if period.first_day is not None and period.last_day is not None:
        query = StatsQuery(site_id, period.first_day, period.last_day, period.tz)
        scoped = scoped_events(query, VISITOR_FILTER_COLUMNS)
        matching = filter_visitors(scoped, **filters, prefix=SCOPED_PREFIX)
        events = events.filter(id__in=matching.values("id"))
    else:
        events = filter_visitors(events, **filters)
    return (
        events.values("visitor_id")
        .annotate(
            first_seen=Min("timestamp"),
            last_seen=Max("timestamp"),
            visits=Count("session_id", distinct=True),
            browser_name=Max("browser"),
            browser_ver=Max("browser_version"),
            os_name=Max("os"),
            device=Max("device_type"),
            width=Max("screen_width"),
            height=Max("screen_height"),
            lang=Max("language"),
            country=Max("country_code"),
            city_name=Max("city"),
        )
        .order_by("-last_seen", "visitor_id")
    )


@dataclass(frozen=True)
class VisitorDetail:
    """One visitor: its grouped row (as ``visitor_rows`` gives it), its 50 newest sessions
    (rows of ``session_rows``) and its 50 newest events (heartbeats aside)."""

    row: dict
    sessions: list[dict]
    events: list[Event]


def visitor_detail(site_id: int, visitor_id: int) -> VisitorDetail | None:
    bounds = all_time_bounds(site_id, visitor_id=visitor_id)
    if bounds is None:
        return None
    period = Period(bounds[0], bounds[1] + timedelta(microseconds=1))
    events = events_in(site_id, period).filter(visitor_id=visitor_id)
    row = visitor_rows(site_id, period).filter(visitor_id=visitor_id).first()
    if row is None:  # only rolled-up copies left (raw events past retention)
        return None
    sessions = list(session_rows(site_id, period, visitor_id=visitor_id)[:50])
    newest = list(events.exclude(kind="heartbeat").order_by("-timestamp")[:50])
    return VisitorDetail(row, sessions, newest)


def visitor_list(
    site_id: int,
    period: Period,
    *,
    browser: str = "",
    os: str = "",
    country: str = "",
    search: str = "",
) -> NewestGroups | QuerySet:
    """The period's visitors, most recently seen first (``/visitors``). Events of automated
    clients (stored where a site keeps bots on purpose) are left out: the seed lists no
    visitor with ``bot_score > 40``."""
    if connection.vendor != "postgresql":  # the embedded default: small, grouped by the ORM
        return visitor_rows(
            site_id, period, browser=browser, os=os, country=country, search=search, bots=False
        )

    def narrow(rows, prefix=""):
        return filter_visitors(
            rows, browser=browser, os=os, country=country, search=search, bots=False, prefix=prefix
        )

    def scoped_narrow(events):
        return narrow(events, SCOPED_PREFIX)

    return NewestGroups(
        site_id, period, key="visitor_id", narrow=narrow, scoped_narrow=scoped_narrow
    )
