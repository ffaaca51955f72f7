"""The daily tables (``DailySiteStats``, ``DailyDimensionStats``): whole past days without
filters, as the rollups wrote them (``stats.rollups``)."""

from __future__ import annotations

from datetime import date

from stats.query.request import StatsQuery
from stats.rollups import rolled_up_days, rolled_up_dimension_days, rolled_up_page_time


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
