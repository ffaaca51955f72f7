"""A period at a glance: its totals, its most viewed pages and who is on the site now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from stats.query import DayMetrics, StatsQuery, day_metrics
from stats.selectors.periods import Period, events_in
from tracking.models import Event


@dataclass(frozen=True)
class StatsSummary:
    """A date range's totals (``stats.query`` days summed) and its other events' count."""

    totals: DayMetrics
    events: int


def stats_summary(site_id: int, period: Period) -> StatsSummary:
    """Totals of a date range, read through the statistics query layer (rollups + today)."""
    days = day_metrics(StatsQuery(site_id, period.first_day, period.last_day, period.tz))
    events = events_in(site_id, period).exclude(kind__in=["pageview", "heartbeat"]).count()
    return StatsSummary(DayMetrics.total(days.values()), events)


@dataclass(frozen=True)
class PageCount:
    path: str
    views: int
    unique_visitors: int


@dataclass(frozen=True)
class TopPages:
    """The most viewed pages and the period's page views and sessions with a page view."""

    pages: list[PageCount]
    views: int
    sessions: int

    @property
    def pages_per_session(self) -> float:
        return round(self.views / self.sessions, 2) if self.sessions else 0


def top_pages(site_id: int, period: Period, limit: int = 10) -> TopPages:
    pageviews = events_in(site_id, period).filter(kind="pageview")
    pages = (
        pageviews.values("path")
        .annotate(views=Count("id"), unique_visitors=Count("visitor_id", distinct=True))
        .order_by("-views", "path")[:limit]
    )
    totals = pageviews.aggregate(views=Count("id"), sessions=Count("session_id", distinct=True))
    return TopPages([PageCount(**page) for page in pages], totals["views"], totals["sessions"])


def live_visitors(site_id: int, threshold_minutes: int) -> list[Event]:
    """Each visitor active in the last minutes, as its newest event (heartbeats aside)."""
    since = timezone.now() - timedelta(minutes=threshold_minutes)
    recent = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    latest = recent.values("visitor_id").annotate(last=Max("timestamp")).order_by("-last")[:500]
    last_by_visitor = {row["visitor_id"]: row["last"] for row in latest}
    visitors = []
    seen = set()
    for event in (
        recent.filter(visitor_id__in=list(last_by_visitor))
        .exclude(kind="heartbeat")
        .order_by("-timestamp")
    ):
        if event.visitor_id in seen:
            continue
        seen.add(event.visitor_id)
        visitors.append(event)
    return visitors
