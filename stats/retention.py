"""Data retention: a site's raw events older than ``Site.retention_days`` are deleted,
with their rolled-up copies (``stats.models.RolledEvent``). It lives in stats because an
event may go only once the rollups have read it.

The daily aggregates and session rows (``stats`` rollups) are kept. Because a rollup recomputes a day
from its raw events, an event is deleted only once the rollups have read it: it was
received before the site's ``RollupState.received_until`` and its local day had ended by
then. A site that was never rolled up loses nothing. Deletion runs in batches of
``BATCH_SIZE`` ids so that no statement locks millions of rows or runs for minutes; the
scheduled task can be interrupted and re-run at any point (idempotent).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from sites.models import Site
from stats.models import RollupState
from stats.services import rolled_events_delete_before
from tracking.models import Event

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


def deletable_before(site: Site, now: datetime) -> datetime | None:
    """Events of ``site`` with a timestamp before this are past retention and rolled up."""
    if not site.retention_days:
        return None
    received_until = (
        RollupState.objects.filter(site_id=site.pk).values_list("received_until", flat=True).first()
    )
    if received_until is None:
        return None
    zone = ZoneInfo(site.timezone)
    rolled_day_start = datetime.combine(
        received_until.astimezone(zone).date(), time.min, tzinfo=zone
    )
    return min(now - timedelta(days=site.retention_days), rolled_day_start)


def site_purge_expired_events(
    site: Site, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Delete one site's expired raw events in batches; returns how many were deleted."""
    now = now or timezone.now()
    limit = deletable_before(site, now)
    if limit is None:
        return 0
    received_until = RollupState.objects.get(site_id=site.pk).received_until
    expired = Event.objects.filter(
        site_id=site.pk, timestamp__lt=limit, received_at__lte=received_until
    )
    # The rolled-up copies of raw events (``RolledEvent``) expire with them.
    rolled_events_delete_before(site.pk, limit)
    deleted = 0
    while True:
        ids = list(expired.order_by("timestamp").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            count, _ = Event.objects.filter(pk__in=ids).delete()
        deleted += count


def purge_expired_events(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Apply every site's retention; returns ``{site_id: deleted}`` for sites that lost rows."""
    now = now or timezone.now()
    result = {}
    for site in Site.objects.filter(retention_days__gt=0).order_by("pk"):
        deleted = site_purge_expired_events(site, now, batch_size)
        if deleted:
            logger.info("retention: deleted %d raw events of site %d", deleted, site.pk)
            result[site.pk] = deleted
    return result
