"""Writes to a site's statistics: resetting them, invalidating rollups."""

from __future__ import annotations

from django.db import connection, transaction

from stats.models import (
    DailyDimensionStats,
    DailySiteStats,
    RollupState,
    SessionAttributes,
    SessionDay,
)
from tracking.models import DroppedEventCount, Event


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
def site_rollups_invalidate(site) -> None:
    """Forget a site's rollups so the next run recomputes every day.

    Needed when the site's time zone changes: days are rolled up in the site's zone, and
    covered days without a row in the new zone would otherwise read as zero.
    """
    _rollups_delete(site)


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
