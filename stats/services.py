"""Writes to a site's statistics: resetting them, invalidating rollups."""

from __future__ import annotations

from django.db import transaction

from stats.models import DailyDimensionStats, DailySiteStats, RollupState
from tracking.models import DroppedEventCount, Event


@transaction.atomic
def site_stats_reset(site) -> int:
    """Delete every event, rollup and drop counter of ``site``; returns the events deleted.

    The site, its settings, members and clients stay. Events still waiting in the
    buffer are written afterwards and count as new traffic.
    """
    deleted, _ = Event.objects.filter(site_id=site.pk).delete()
    DailySiteStats.objects.filter(site_id=site.pk).delete()
    DailyDimensionStats.objects.filter(site_id=site.pk).delete()
    RollupState.objects.filter(site_id=site.pk).delete()
    DroppedEventCount.objects.filter(site_id=site.pk).delete()
    return deleted


@transaction.atomic
def site_rollups_invalidate(site) -> None:
    """Forget a site's rollups so the next run recomputes every day.

    Needed when the site's time zone changes: days are rolled up in the site's zone, and
    covered days without a row in the new zone would otherwise read as zero.
    """
    DailySiteStats.objects.filter(site_id=site.pk).delete()
    DailyDimensionStats.objects.filter(site_id=site.pk).delete()
    RollupState.objects.filter(site_id=site.pk).delete()
