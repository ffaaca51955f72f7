"""The sites list: today's visitors of every site and each site's 30-day trend."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from stats.query import StatsQuery, visitor_series
from stats.query.sources.imported import prime_complete_imports
from tracking.models import Event


def visitors_today_by_site(sites) -> dict[int, int]:
    """Today's unique visitors of each site (in its own time zone), in one query.

    The same definition as ``stats.query.totals`` for a one-day ``StatsQuery`` (distinct
    visitor ids of the local day), without a query per site.
    """
    now = timezone.now()
    condition = Q()
    for site in sites:
        today = now.astimezone(ZoneInfo(site.timezone)).date()
        query = StatsQuery(site.pk, today, today, site.timezone)
        condition |= Q(site_id=site.pk, timestamp__gte=query.start, timestamp__lt=query.end)
    if not condition:
        return {}
    rows = (
        Event.objects.filter(condition)
        .values("site_id")
        .annotate(visitors=Count("visitor_id", distinct=True))
        .order_by()
    )
    return {row["site_id"]: row["visitors"] for row in rows}


def site_trends(sites, days: int = 30) -> dict[int, dict]:
    """Each site's visitors per day over the last ``days`` days (today last) and today's count.

    Past days go through ``stats.query.visitor_series`` (rollups, so two small queries per
    site); today for every site comes from one query (``visitors_today_by_site``).
    """
    sites = list(sites)
    today_counts = visitors_today_by_site(sites)
    prime_complete_imports(site.pk for site in sites)
    now = timezone.now()
    trends = {}
    for site in sites:
        today = now.astimezone(ZoneInfo(site.timezone)).date()
        past = visitor_series(
            StatsQuery(
                site.pk, today - timedelta(days=days - 1), today - timedelta(days=1), site.timezone
            )
        )
        series = [point["visitors"] for point in past] + [today_counts.get(site.pk, 0)]
        trends[site.pk] = {"today": series[-1], "series": series}
    return trends
