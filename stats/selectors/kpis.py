"""The site dashboard's headline figures (``stats.views``): KPIs against the previous
period, visitors per source, the live overview and the active-visitor badge."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min
from django.utils import timezone

from sites.models import Site
from stats.query import (
    active_visitors,
    breakdown,
    concurrently,
    daily_metrics,
    period_visitors,
    recent_breakdown,
)
from stats.query.results import rate
from stats.selectors.totals import summed, views_per_session
from tracking.models import Event


def first_event_day(site_id: int, tz: str) -> date | None:
    """The local day of a site's earliest event ("all time" starts there)."""
    first = Event.objects.filter(site_id=site_id).aggregate(first=Min("timestamp"))["first"]
    return first.astimezone(ZoneInfo(tz)).date() if first else None


def _change(current: float, previous: float) -> float | None:
    """Relative change; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) / previous, 4)


def dashboard_kpis(
    query, current_days: dict | None = None, previous_days: dict | None = None
) -> dict:
    """The dashboard's six headline figures for ``query`` and its previous period.

    Reads ``stats.query.daily_metrics`` once per period (rollups for past days, raw events
    for the rest) and derives every figure from it, so the KPI row costs two reads; a
    caller that already holds those per-day metrics passes them in.
    """

    def summarise(days) -> dict:
        totals = summed(days)
        sessions = totals.sessions
        return {
            "visitors": totals.visitors,
            "visits": sessions,
            "views": totals.views,
            "views_per_visit": views_per_session(totals),
            "bounce_rate": rate(totals.bounces, sessions),
            "visit_duration": round(totals.duration_ms / 1000 / sessions) if sessions else 0,
        }

    if current_days is None and previous_days is None:
        current_days, previous_days = concurrently(
            lambda: daily_metrics(query), lambda: daily_metrics(query.previous())
        )
    if current_days is None:
        current_days = daily_metrics(query)
    if previous_days is None:
        previous_days = daily_metrics(query.previous())
    current = summarise(current_days.values())
    previous = summarise(previous_days.values())
    return {
        key: {
            "value": current[key],
            "previous": previous[key],
            "change": _change(current[key], previous[key]),
        }
        for key in current
    }


def source_breakdown(query) -> list[dict]:
    """Visitors per referrer *name* (Google, Hacker News…), from the referrer breakdown;
    ``relative_visitors`` is a share of the period's visitors, as in every breakdown."""
    per_source: dict[str, dict] = {}
    for row in breakdown(query, "referrer"):
        source = row["source"] or ""
        entry = per_source.setdefault(
            source, {"source": source, "visitors": 0, "views": 0, "sessions": 0}
        )
        for key in ("visitors", "views", "sessions"):
            entry[key] += row[key]
    total = period_visitors(query, "referrer") or 1
    rows = [
        {**r, "relative_visitors": round(r["visitors"] / total, 4)} for r in per_source.values()
    ]
    return sorted(rows, key=lambda r: (-r["visitors"], r["source"]))


def live_overview(site_id: int, seconds: int, limit: int = 10) -> dict:
    """Visitors active in the last ``seconds`` and where they are, what they read, whence."""
    active = active_visitors(site_id, seconds)
    since = timezone.now() - timedelta(seconds=seconds)
    site = Site.objects.filter(pk=site_id).only("timezone").first()
    tz = site.timezone if site else "UTC"
    # Countries and sources are the sessions' (session scope, issue #13), not each recent
    # event's own: a heartbeat stored before its session had a place counts under it.
    return {
        "visitors": active["visitors"],
        "pages": active["stats"][:limit],
        "sources": recent_breakdown(site_id, tz, since, "source", limit),
        "countries": recent_breakdown(site_id, tz, since, "country_code", limit),
    }


def active_visitor_count(site_id: int, seconds: int) -> int:
    """Just the number, for the badge polled every few seconds."""
    since = timezone.now() - timedelta(seconds=seconds)
    return Event.objects.filter(site_id=site_id, timestamp__gte=since).aggregate(
        v=Count("visitor_id", distinct=True)
    )["v"]
