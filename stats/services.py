"""Writes to a site's statistics: resetting them, invalidating rollups."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models.functions import TruncDay

from sites.models import Site
from stats.models import (
    DailyDimensionStats,
    DailySiteStats,
    RollupState,
    SessionAttributes,
    SessionDay,
)
from stats.query.coverage import site_covered_days
from stats.rollups import day_bounds, rollup_site_day
from tracking.models import DroppedEventCount, Event
from tracking.revenue import revenue_reconvert


@transaction.atomic
def site_stats_reset(site) -> int:
    """Delete every event, rollup and drop counter of ``site``; returns the events deleted.

    The site, its settings, members and clients stay. Events still waiting in the
    buffer are written afterwards and count as new traffic.
    """
    deleted, _ = Event.objects.filter(site_id=site.pk).delete()
    _rollups_delete(site)
    DroppedEventCount.objects.filter(site_id=site.pk).delete()
    return deleted


@transaction.atomic
def site_stats_delete_range(site, first, last, *, events_only: bool = False) -> int:
    """Delete ``site``'s events of the local days ``first``..``last`` (only custom events
    with ``events_only``) and make the rollups of those days agree; returns the events
    deleted. Without events left a day's rollup rows simply go; with ``events_only`` the
    covered days are rolled up again from what is left. Nothing else of the site changes."""

    start, end = day_bounds(first, site.timezone)[0], day_bounds(last, site.timezone)[1]
    events = Event.objects.filter(site_id=site.pk, timestamp__gte=start, timestamp__lt=end)
    if events_only:
        events = events.filter(kind="custom")
        # Only the days that lose events are rolled up again (one statement set per day).
        zone = ZoneInfo(site.timezone)
        touched = {
            day.astimezone(zone).date()
            for day in events.annotate(day=TruncDay("timestamp", tzinfo=zone))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        }
    deleted, _ = events.delete()
    if events_only:
        covered = set(site_covered_days(site.pk, first, last, site.timezone))
        for day in sorted(touched & covered):  # the day's copies and aggregates are replaced
            rollup_site_day(site.pk, day, site.timezone)
        return deleted
    days = {"site_id": site.pk, "day__gte": first, "day__lte": last}
    DailySiteStats.objects.filter(**days).delete()
    DailyDimensionStats.objects.filter(**days).delete()
    SessionDay.objects.filter(**days).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM stats_rolledevent WHERE site_id = %s AND timestamp >= %s "
                "AND timestamp < %s",
                [site.pk, start, end],
            )
    return deleted


@transaction.atomic
def site_rollups_invalidate(site) -> None:
    """Forget a site's rollups so the next run recomputes every day.

    Needed when the site's time zone changes: days are rolled up in the site's zone, and
    covered days without a row in the new zone would otherwise read as zero.
    """
    _rollups_delete(site)


def site_revenue_reconvert(site_id: int) -> dict[str, int]:
    """Convert a site's stored revenue into its current reporting currency, then copy the
    new amounts onto the rolled-up events (by id: no day is rolled up again). Idempotent."""

    currency = Site.objects.filter(pk=site_id).values_list("reporting_currency", flat=True).first()
    if currency is None:
        return {"converted": 0, "unconverted": 0}
    result = revenue_reconvert(site_id=site_id, currency=currency)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE stats_rolledevent r SET revenue_reporting = e.revenue_reporting, "
                "revenue_reporting_currency = e.revenue_reporting_currency "
                "FROM tracking_event e WHERE r.site_id = %s AND e.site_id = %s "
                "AND e.id = r.id AND e.revenue_amount IS NOT NULL",
                [site_id, site_id],
            )
    return result


def _rollups_delete(site) -> None:
    """Every table the rollups fill, for one site, and how far they had read."""
    DailySiteStats.objects.filter(site_id=site.pk).delete()
    DailyDimensionStats.objects.filter(site_id=site.pk).delete()
    SessionDay.objects.filter(site_id=site.pk).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM stats_rolledevent WHERE site_id = %s", [site.pk])
    SessionAttributes.objects.filter(site_id=site.pk).delete()
    RollupState.objects.filter(site_id=site.pk).delete()


def rolled_events_delete_before(site_id: int, before) -> int:
    """Delete a site's rolled-up events older than ``before`` (data retention: they are
    copies of raw events and go with them; the aggregates stay). One day per statement,
    so no statement holds millions of row locks."""
    if connection.vendor != "postgresql":
        return 0
    deleted = 0
    with connection.cursor() as cursor:
        while True:
            # The oldest row left (one index step), so gaps without traffic cost nothing.
            cursor.execute(
                "SELECT min(timestamp) FROM stats_rolledevent WHERE site_id = %s", [site_id]
            )
            oldest = cursor.fetchone()[0]
            if oldest is None or oldest >= before:
                return deleted
            cursor.execute(
                "DELETE FROM stats_rolledevent WHERE site_id = %s AND timestamp < %s",
                [site_id, min(before, oldest + timedelta(days=1))],
            )
            deleted += cursor.rowcount
