"""Revenue statistics: ``revenue`` and ``average_revenue`` wherever a conversion is counted.

Definitions (docs/revenue.md):
- a **conversion with revenue** is an event that carried revenue converted into the site's
  reporting currency at ingest (``revenue_reporting_currency`` equal to the site's current
  ``reporting_currency``; a currency change re-converts stored events, see
  ``tracking.revenue``);
- **revenue** is the sum of those events' ``revenue_reporting``, **average_revenue** that
  sum divided by their number (None without any);
- a breakdown puts each such event under its own value of the dimension (its session's
  value for session attributes, as every event row carries them), so the rows' revenue
  always adds up to the total under the same filters;
- **revenue_unconverted** counts the range's events whose revenue no rate converted (kept
  with their original amount and currency, never dropped).

Revenue is a measure of the query planner (``Measure.REVENUE``): only the events source
answers it, from the rolled-up copies of covered days and raw events for the rest, filters
applied (``stats.query.sources.revenue``), so PostgreSQL and the embedded SQLite default
give the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from sites.selectors import site_reporting_currency
from stats import query as q
from stats.query.measures import source_of
from stats.query.plan import Measure, plan
from stats.query.sources.revenue import converted
from tracking.models import Event

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Revenue:
    """Revenue of some conversions, in ``currency``."""

    currency: str
    total: Decimal = Decimal(0)
    conversions: int = 0

    @property
    def average(self) -> Decimal | None:
        return self.total / self.conversions if self.conversions else None

    def add(self, total: Decimal, conversions: int) -> Revenue:
        return Revenue(self.currency, self.total + total, self.conversions + conversions)

    def fields(self) -> dict:
        """``revenue`` and ``average_revenue`` as JSON numbers rounded to cents (0 and None
        without revenue): the extra fields of the Pirsch and identity-js rows."""
        average = self.average
        return {
            "revenue": float(self.total.quantize(CENT)),
            "average_revenue": float(average.quantize(CENT)) if average is not None else None,
        }


def _by_value(
    query: q.StatsQuery,
    columns: tuple[str, ...],
    where: Q | None = None,
    currency: str | None = None,
) -> dict[tuple, Revenue]:
    """Revenue per value of ``columns`` as the planner answers ``Measure.REVENUE``: the
    events source for every day (``stats.query.sources.revenue``); a claimant without
    revenue (imported days) adds none. ``currency``: the site's reporting currency when the
    caller holds the site already (saves a query)."""
    currency = currency or site_reporting_currency(query.site_id)
    rows: dict[tuple, Revenue] = defaultdict(lambda: Revenue(currency))
    for part in plan(query, Measure.REVENUE):
        answer = getattr(source_of(part), "revenue", None)
        if answer is None:
            continue
        for key, (total, conversions) in answer(part.query, columns, currency, where).items():
            rows[key] = rows[key].add(total, conversions)
    return dict(rows)


def revenue_by_columns(
    query: q.StatsQuery, columns: tuple[str, ...], *, where: Q | None = None, currency: str
) -> dict[tuple, Revenue]:
    """Revenue per value of event ``columns`` together (``hour`` and ``day``: the event's
    local hour and day), under the query's filters and ``where`` (e.g. goals)."""
    return _by_value(query, columns, where, currency)


def revenue_total(
    query: q.StatsQuery, *, where: Q | None = None, currency: str | None = None
) -> Revenue:
    """The range's revenue under the query's filters (and ``where``, e.g. a goal)."""
    currency = currency or site_reporting_currency(query.site_id)
    return _by_value(query, (), where, currency).get(()) or Revenue(currency)


def revenue_by(query: q.StatsQuery, dimension: str) -> dict[tuple, Revenue]:
    """Revenue per value of a breakdown dimension (``stats.query.DIMENSIONS``), keyed like
    the breakdown rows: the tuple of the dimension's column values."""
    columns, _kind = q.DIMENSIONS[dimension]
    return _by_value(query, tuple(columns))


def with_revenue(rows: list[dict], query: q.StatsQuery, dimension: str) -> list[dict]:
    """Breakdown ``rows`` (``stats.query.breakdown``'s) with ``revenue`` and
    ``average_revenue`` added to each, in place; returned for chaining."""
    columns, _kind = q.DIMENSIONS[dimension]
    by_value = revenue_by(query, dimension)
    empty = Revenue(site_reporting_currency(query.site_id))
    for row in rows:
        row.update(by_value.get(tuple(row.get(c) for c in columns), empty).fields())
    return rows


def unconverted_count(query: q.StatsQuery) -> int:
    """Events of the range (no filters) whose revenue has no amount in the site's currency:
    no rate converted it. Read from raw events, the only ones keeping the original amount."""
    currency = site_reporting_currency(query.site_id)
    return (
        Event.objects.filter(
            site_id=query.site_id,
            timestamp__gte=query.start,
            timestamp__lt=query.end,
            revenue_amount__isnull=False,
        )
        .exclude(converted(currency))
        .count()
    )


def goal_target(goal: dict) -> Q:
    """The events that reach a goal (``stats.query.goals``' rule): its custom event, or a page
    view whose path matches its regular expression."""
    if goal["event_name"]:
        return Q(kind="custom", name=goal["event_name"])
    return Q(kind="pageview", path__regex=goal["path_pattern"])


def goals_with_revenue(rows: list[dict], query: q.StatsQuery) -> list[dict]:
    """Pirsch's goal rows (``stats.query.goals``) with each goal's ``revenue`` and
    ``average_revenue``: the revenue its reaching events carried (page views carry none)."""
    for row in rows:
        row.update(revenue_total(query, where=goal_target(row["page_goal"])).fields())
    return rows


def revenue_by_column(query: q.StatsQuery, column: str) -> dict[str, Revenue]:
    """Revenue per value of one event column (a dashboard panel's label column)."""
    return {key[0] or "": money for key, money in _by_value(query, (column,)).items()}


# Panels whose rows have no revenue of their own: an exit page is where a visit ended.
NO_REVENUE_PANELS = frozenset({"exit"})


def panel_revenue(panel_name: str, column: str, rows: list[dict], query: q.StatsQuery) -> None:
    """Set ``revenue`` and ``average_revenue`` (Decimals, None without) on a dashboard
    panel's rows (``stats.dashboard.panel_rows``), in place: by the panel's column, or for
    goals by each goal's events."""
    if panel_name in NO_REVENUE_PANELS:
        return
    if panel_name == "goals":
        for row in rows:
            key = row["filter_key"]
            goal = {
                "event_name": row["filter_value"] if key == "event" else "",
                "path_pattern": row["filter_value"] if key == "pattern" else "",
            }
            money = revenue_total(query, where=goal_target(goal))
            row["revenue"], row["average_revenue"] = money.total, money.average
        return
    by_value = revenue_by_column(query, column)
    for row in rows:
        money = by_value.get(row["filter_value"] or "")
        row["revenue"] = money.total if money else Decimal(0)
        row["average_revenue"] = money.average if money else None


def revenue_kpi(query: q.StatsQuery, currency: str | None = None) -> dict | None:
    """The dashboard's Revenue figure and its previous period's, or None when neither
    period has any revenue (the KPI and the Revenue columns then stay hidden)."""
    currency = currency or site_reporting_currency(query.site_id)
    now = revenue_total(query, currency=currency)
    before = revenue_total(query.previous(), currency=currency)
    if not (now.conversions or before.conversions):
        return None
    return {
        "value": now.total,
        "previous": before.total,
        "currency": now.currency,
        "conversions": now.conversions,
        "average": now.average,
        "unconverted": unconverted_count(query),
    }
