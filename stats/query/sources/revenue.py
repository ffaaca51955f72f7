"""The revenue measure (``Measure.REVENUE``) of the events sources: only events carry
revenue, so the planner gives every day of a revenue question to the events source, which
reads its planned event parts (rolled-up events of covered days, raw events for the rest)
through the ORM on both engines: revenue events are few, and a partial index on each table
(migration ``stats.0012``) finds them (docs/revenue.md)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from stats.query.coverage import event_sets
from stats.query.request import StatsQuery
from tracking.models import Event


def converted(currency: str) -> Q:
    """Events carrying revenue converted into ``currency`` at ingest."""
    return Q(revenue_reporting__isnull=False, revenue_reporting_currency=currency)


def converted_on(events, currency: str) -> Q:
    """``converted``; on raw events worded so the partial index ``event_revenue``
    (``revenue_amount IS NOT NULL``) answers it."""
    condition = converted(currency)
    return Q(revenue_amount__isnull=False) & condition if events.model is Event else condition


def revenue_by_value(
    query: StatsQuery, columns: tuple[str, ...], currency: str, where: Q | None = None
) -> dict[tuple, tuple[Decimal, int]]:
    """Per value of ``columns`` (``()``: one total under the key ``()``), the sum of the
    events' ``revenue_reporting`` in ``currency`` and their number, under the query's
    filters and ``where``. ``hour`` is the local hour of the event, ``day`` its local day."""
    rows: dict[tuple, tuple[Decimal, int]] = defaultdict(lambda: (Decimal(0), 0))
    for events in event_sets(query):
        events = events.filter(converted_on(events, currency))
        if where is not None:
            events = events.filter(where)
        if "hour" in columns:
            events = events.annotate(hour=ExtractHour("timestamp", tzinfo=query.zone))
        if "day" in columns:
            events = events.annotate(day=TruncDate("timestamp", tzinfo=query.zone))
        grouped = events.values(*columns) if columns else events
        if columns:
            answers = grouped.annotate(total=Sum("revenue_reporting"), conversions=Count("id"))
        else:
            answers = [grouped.aggregate(total=Sum("revenue_reporting"), conversions=Count("id"))]
        for row in answers:
            if not row["conversions"]:
                continue
            key = tuple(row[c] for c in columns)
            total, conversions = rows[key]
            rows[key] = (total + row["total"], conversions + row["conversions"])
    return dict(rows)
