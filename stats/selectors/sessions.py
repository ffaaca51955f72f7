"""Sessions of a period (``/sessions``) and one session's detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet

from stats.selectors.paging import CLICKS, NewestGroups, like_pattern
from stats.selectors.periods import Period, all_time_bounds, events_in
from tracking.models import Event

MAX_SESSION_EVENTS = 500


def _session_rows(site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""):
    events = events_in(site_id, period)
    if visitor_id is not None:
        events = events.filter(visitor_id=visitor_id)
    sessions = events.values("session_id").annotate(
        visitor=Min("visitor_id"),
        started=Min("timestamp"),
        ended=Max("timestamp"),
        pageviews=Count("id", filter=Q(kind="pageview")),
        interactions=Count("id", filter=Q(kind="custom", interactive=True)),
        clicks=Count("id", filter=CLICKS),
        max_scroll=Max("scroll_depth"),
        entry=Max("entry_path"),
        referrer_value=Max("referrer"),
        utm=Max("utm_source"),
        browser_name=Max("browser"),
        os_name=Max("os"),
        country=Max("country_code"),
        city_name=Max("city"),
    )
    if url:
        sessions = sessions.filter(entry__icontains=url)
    return sessions.order_by("-started")


def session_rows(site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""):
    return _session_rows(site_id, period, visitor_id=visitor_id, url=url)


@dataclass(frozen=True)
class SessionDetail:
    """One session: its grouped row (as ``session_rows`` gives it), its events in order (at
    most ``MAX_SESSION_EVENTS``) and what they say about the visit."""

    row: dict
    events: list[Event]
    visit: dict


def session_detail(site_id: int, session_id: int) -> SessionDetail | None:
    bounds = all_time_bounds(site_id, session_id=session_id)
    if bounds is None:
        return None
    period = Period(bounds[0], bounds[1] + timedelta(microseconds=1))
    events = events_in(site_id, period).filter(session_id=session_id)
    row = session_rows(site_id, period).filter(session_id=session_id).first()
    if row is None:  # only rolled-up copies left (raw events past retention)
        return None
    ordered = list(events.order_by("timestamp", "id")[:MAX_SESSION_EVENTS])
    return SessionDetail(row, ordered, visit_attributes([e.props for e in ordered]))


# Matomo's visit attributes, stored in event props by ``tracking.protocols.matomo``.
VISIT_ATTRIBUTES = {
    "visit_count": ("visit_number", int),
    "days_since_last_visit": ("days_since_last_visit", int),
    "days_since_first_visit": ("days_since_first_visit", int),
    "local_time": ("local_time", str),
    "plugins": ("plugins", lambda value: value.split(",")),
}


def visit_attributes(props: list[dict]) -> dict:
    """What a visit's events say about it (visit number, days since the last and first
    visits, the visitor's local time, browser plugins): each from the first event that
    has it, i.e. as of the visit's start."""
    visit: dict = {}
    for item in props:
        for key, (name, convert) in VISIT_ATTRIBUTES.items():
            value = item.get(key) if isinstance(item, dict) else None
            if name not in visit and isinstance(value, str) and value:
                try:
                    visit[name] = convert(value)
                except ValueError:
                    continue
    return visit


def session_list(
    site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""
) -> NewestGroups | QuerySet:
    """The period's sessions, most recently started first (``/sessions``)."""
    if connection.vendor != "postgresql":  # the embedded default: small, grouped by the ORM
        return _session_rows(site_id, period, visitor_id=visitor_id, url=url)

    def narrow(rows):
        return rows.filter(visitor_id=visitor_id) if visitor_id is not None else rows

    sessions = NewestGroups(site_id, period, key="session_id", narrow=narrow)
    sessions.url_pattern = like_pattern(url)
    return sessions
