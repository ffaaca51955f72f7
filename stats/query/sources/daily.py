"""The daily tables (``DailySiteStats``, ``DailyDimensionStats``): whole past days without
filters, as the rollups wrote them (``stats.rollups``); the days they cover come from
``stats.query.coverage``."""

from __future__ import annotations

import json
from datetime import date

from stats.models import DailyDimensionStats, DailySiteStats
from stats.query.coverage import site_covered_days
from stats.query.request import StatsQuery


def rolled_up_page_time(site_id: int, first: date, last: date, tz: str) -> dict[date, tuple]:
    """Rolled-up (sum of ms, number) of page-view-to-next-event gaps per covered day."""
    days = site_covered_days(site_id, first, last, tz)
    if not days:
        return {}
    found = {day: (0, 0) for day in days}
    for day, total_ms, count in DailySiteStats.objects.filter(
        site_id=site_id, tz=tz, day__gte=days[0], day__lte=days[-1]
    ).values_list("day", "page_time_ms", "page_time_count"):
        found[day] = (total_ms, count)
    return found


def rolled_up_days(site_id: int, first: date, last: date, tz: str) -> dict[date, dict]:
    """Rolled-up totals per day; covered days without a row had no events (zeros)."""
    if last < first:
        return {}
    rows = DailySiteStats.objects.filter(site_id=site_id, tz=tz, day__gte=first, day__lte=last)
    found = {
        r.day: {
            "visitors": r.visitors,
            "views": r.views,
            "sessions": r.sessions,
            "bounces": r.bounces,
            "duration_ms": r.duration_ms,
        }
        for r in rows
    }
    zero = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}
    for day in site_covered_days(site_id, first, last, tz):
        found.setdefault(day, dict(zero))
    return found


def rolled_up_dimension_days(
    site_id: int, dimension: str, first: date, last: date, tz: str
) -> dict[date, dict[tuple, dict]]:
    """Rolled-up breakdown per day (only days the rollups cover)."""
    days = site_covered_days(site_id, first, last, tz)
    if not days:
        return {}
    found: dict[date, dict[tuple, dict]] = {day: {} for day in days}
    rows = DailyDimensionStats.objects.filter(
        site_id=site_id, tz=tz, dimension=dimension, day__gte=days[0], day__lte=days[-1]
    )
    for day, value, visitors, views, sessions in rows.values_list(
        "day", "value", "visitors", "views", "sessions"
    ):
        found[day][tuple(json.loads(value))] = {
            "visitors": visitors,
            "views": views,
            "sessions": sessions,
        }
    return found


class DailyTables:
    name = "daily"

    def days(self, query: StatsQuery) -> dict[date, dict]:
        return rolled_up_days(query.site_id, query.first_day, query.last_day, query.tz)

    def visitors(self, query: StatsQuery) -> int:
        return sum(m["visitors"] for m in self.days(query).values())

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
        return rolled_up_dimension_days(
            query.site_id, dimension, query.first_day, query.last_day, query.tz
        )

    def page_time_days(self, query: StatsQuery) -> dict[date, tuple[int, int]]:
        return rolled_up_page_time(query.site_id, query.first_day, query.last_day, query.tz)


SOURCE = DailyTables()
