"""Reads for reports and alerts, only through the statistics query layer.

Reports read a finished period like the dashboard does (``stats.query`` daily metrics and
breakdowns: rollups for covered days, so a quarter costs a few small queries). Alerts run
every minute and read only short, recent windows through ``stats.selectors.events_in`` on
the ``(site, timestamp)`` index, as the dashboard's live view and current-visitors badge
do (``stats.selectors.active_visitor_count``), but with an explicit clock so checks can be
replayed; an alert in its cooldown reads nothing at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from accounts.models import User
from sites.models import Site
from sites.permissions import site_role
from stats import insights
from stats import query as q
from stats.models import Goal
from stats.selectors import Period, country_name, dashboard_kpis, events_in, source_breakdown

LIVE_WINDOW = timedelta(minutes=5)
TOP = 5
# Errors that a new-error alert reports (console warnings are not errors).
ALERT_ERROR_TYPES = insights.FRUSTRATION_ERRORS


# --- reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportData:
    kpis: dict
    series: list[tuple[date, int]]
    pages: list[dict]
    sources: list[dict]
    countries: list[dict]
    devices: list[dict]
    goals: list[dict]
    revenue: list[dict]


def _goal_rows(current: q.StatsQuery, previous: q.StatsQuery) -> list[dict]:
    if not Goal.objects.filter(site_id=current.site_id).exists():
        return []
    before = {row["page_goal"]["id"]: row for row in q.goals(previous)}
    rows = []
    for row in q.goals(current):
        old = before.get(row["page_goal"]["id"], {"visitors": 0})
        rows.append(
            {
                "name": row["page_goal"]["name"],
                "conversions": row["visitors"],
                "cr": row["cr"],
                "previous": old["visitors"],
                "change": _change(row["visitors"], old["visitors"]),
            }
        )
    return rows


def _revenue_by_currency(query: q.StatsQuery) -> dict[str, Decimal]:
    rows = (
        query.events()
        .filter(revenue_amount__isnull=False)
        .values("revenue_currency")
        .annotate(total=Sum("revenue_amount"))
        .order_by("revenue_currency")
    )
    return {row["revenue_currency"]: row["total"] for row in rows}


def _revenue_rows(current: q.StatsQuery, previous: q.StatsQuery) -> list[dict]:
    now, before = _revenue_by_currency(current), _revenue_by_currency(previous)
    return [
        {
            "currency": currency,
            "value": now.get(currency, Decimal(0)),
            "previous": before.get(currency, Decimal(0)),
            "change": _change(float(now.get(currency, 0)), float(before.get(currency, 0))),
        }
        for currency in sorted(now)
    ]


def _change(current: float, previous: float) -> float | None:
    if not previous:
        return None
    return round((current - previous) / previous, 4)


def report_data(site: Site, first: date, last: date, previous: tuple[date, date]) -> ReportData:
    """Everything a report shows for ``first``–``last``, compared with ``previous``."""
    query = q.StatsQuery(site.pk, first, last, site.timezone)
    before = q.StatsQuery(site.pk, previous[0], previous[1], site.timezone)
    current_days, previous_days = q.daily_metrics(query), q.daily_metrics(before)
    kpis = dashboard_kpis(query, current_days, previous_days)
    series = [(day, current_days.get(day, {}).get("visitors", 0)) for day in query.days()]
    pages = [
        {"label": row["path"] or "/", "visitors": row["visitors"], "views": row["views"]}
        for row in q.breakdown(query, "page")[:TOP]
    ]
    # "Direct" (no referrer) is not a source worth a line in a report.
    sources = [
        {"label": row["source"], "visitors": row["visitors"]}
        for row in source_breakdown(query)
        if row["source"]
    ][:TOP]
    countries = [
        {"label": country_name(row["country_code"]) or "Unknown", "visitors": row["visitors"]}
        for row in q.breakdown(query, "country")[:TOP]
    ]
    devices = [
        {"label": (row["device_type"] or "unknown").capitalize(), "visitors": row["visitors"]}
        for row in q.breakdown(query, "platform")[:TOP]
    ]
    return ReportData(
        kpis=kpis,
        series=series,
        pages=pages,
        sources=sources,
        countries=countries,
        devices=devices,
        goals=_goal_rows(query, before),
        revenue=_revenue_rows(query, before),
    )


def is_member(site: Site, email: str) -> bool:
    """Whether the address belongs to someone with a role on the site (the dashboard link
    is only useful, and only shown, to them)."""

    user = User.objects.filter(email__iexact=email).first()
    return user is not None and site_role(user, site) is not None


# --- alerts ----------------------------------------------------------------------------


def _window(site_id: int, start: datetime, end: datetime):
    return events_in(site_id, Period(start, end))


def current_visitors(site_id: int, now: datetime) -> int:
    """Visitors of the last five minutes (the live badge's number)."""
    return _window(site_id, now - LIVE_WINDOW, now).aggregate(v=Count("visitor_id", distinct=True))[
        "v"
    ]


def live_top(site_id: int, now: datetime) -> dict:
    """Top sources and pages of the last five minutes, for a spike alert."""
    recent = _window(site_id, now - LIVE_WINDOW, now)

    def top(column: str, events) -> list[dict]:
        return [
            {"label": row[column], "visitors": row["visitors"]}
            for row in events.values(column)
            .annotate(visitors=Count("visitor_id", distinct=True))
            .order_by("-visitors", column)[:TOP]
        ]

    sources = [{**row, "label": row["label"] or "Direct"} for row in top("source", recent)]
    return {"sources": sources, "pages": top("path", recent.filter(kind="pageview"))}


def visitors_between(site_id: int, start: datetime, end: datetime, *, at_least: int) -> int:
    """Distinct visitors in the window, counted only up to ``at_least`` (a drop alert only
    needs to know whether the threshold was reached, so the count may stop there)."""
    distinct = (
        _window(site_id, start, end)
        .exclude(kind="heartbeat")
        .values("visitor_id")
        .distinct()
        .order_by()
    )
    return distinct[: max(at_least, 1)].count()


def has_events(site_id: int, start: datetime, end: datetime) -> bool:
    return _window(site_id, start, end).exists()


def goal_total(
    site_id: int, goal: Goal | None, metric: str, start: datetime, end: datetime
) -> Decimal:
    """A goal's conversions (distinct visitors reaching it) or revenue in the window; every
    goal of the site when ``goal`` is None."""
    goals = [goal] if goal is not None else list(Goal.objects.filter(site_id=site_id))
    target = Q()
    for item in goals:
        if item.event_name:
            target |= Q(kind="custom", name=item.event_name)
        else:
            target |= Q(kind="pageview", path__regex=item.path_pattern)
    events = _window(site_id, start, end)
    if metric == "revenue":
        events = events.filter(revenue_amount__isnull=False)
        if goals:
            events = events.filter(target)
        return events.aggregate(total=Sum("revenue_amount"))["total"] or Decimal(0)
    if not goals:
        return Decimal(0)
    return Decimal(events.filter(target).aggregate(v=Count("visitor_id", distinct=True))["v"])


def error_digest(error_type: str, message: str) -> str:
    return hashlib.sha256(f"{error_type}\x1f{message}".encode()).hexdigest()


def errors_between(site_id: int, start: datetime, end: datetime, limit: int = 200) -> list[dict]:
    """JavaScript error groups of the window (``stats.insights.errors``), with digests."""
    rows = insights.errors(site_id, Period(start, end), limit=limit).rows
    return [
        {**asdict(row), "digest": error_digest(row.type, row.message)}
        for row in rows
        if row.type in ALERT_ERROR_TYPES
    ]
