"""Counts of hits dropped on purpose, per site, day and reason.

On the hot path a drop costs one Redis round trip (HINCRBY); a periodic task moves
the counters into ``DroppedEventCount``. Without Redis the row is updated directly.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analytics_project.redis_client import redis_client
from sites.models import Site
from tracking.hits import DropReason
from tracking.models import DroppedEventCount

logger = logging.getLogger(__name__)

KEY_PREFIX = "footfall:drops:"
FLUSHING_PREFIX = "footfall:drops-flushing:"
KEY_TTL_SECONDS = 7 * 86400


def count_drop(site_id: int, reason: str) -> None:
    count_drops([(site_id, reason)])


def count_drops(dropped: Sequence[tuple[int, str]]) -> None:
    """Count each (site id, reason): with Redis in one round trip for all of them."""
    if not dropped:
        return
    day = timezone.now().date()
    if settings.REDIS_URL:
        try:
            pipe = redis_client().pipeline(transaction=False)
            key = f"{KEY_PREFIX}{day.isoformat()}"
            for site_id, reason in dropped:
                pipe.hincrby(key, f"{site_id}:{reason}", 1)
            pipe.expire(key, KEY_TTL_SECONDS)
            pipe.execute()
        except Exception:  # a lost drop counter must never fail the request
            return
        return
    for site_id, reason in dropped:
        _add(site_id, day, str(reason), 1)


def count_unverified_hostname(site_id: int, _reason: str = "") -> None:
    """``sites.site_lookup``'s report of a hit for a hostname its site did not verify."""
    count_drop(site_id, DropReason.UNVERIFIED_HOSTNAME)


def _add(site_id: int, day, reason: str, amount: int) -> None:
    with transaction.atomic():
        updated = DroppedEventCount.objects.filter(site_id=site_id, day=day, reason=reason).update(
            count=F("count") + amount
        )
        if not updated:
            DroppedEventCount.objects.create(site_id=site_id, day=day, reason=reason, count=amount)


def flush_drop_counts() -> int:
    """Move Redis counters into the database; returns how many counters were moved."""
    if not settings.REDIS_URL:
        return 0
    client = redis_client()
    for key in client.scan_iter(match=f"{KEY_PREFIX}*"):
        day_text = key.decode()[len(KEY_PREFIX) :]
        # RENAME is atomic: increments after it land in a fresh hash, none is lost.
        try:
            client.rename(key, f"{FLUSHING_PREFIX}{day_text}:{uuid.uuid4().hex}")
        except redis.ResponseError:  # the key vanished between SCAN and RENAME
            logger.debug("drop counter %s vanished before flushing", key)
    moved = 0
    existing = set(Site.objects.values_list("id", flat=True))
    for key in client.scan_iter(match=f"{FLUSHING_PREFIX}*"):
        day = date.fromisoformat(key.decode()[len(FLUSHING_PREFIX) :].split(":", 1)[0])
        counters: dict[bytes, bytes] = client.hgetall(key)  # type: ignore[assignment]
        for field, value in counters.items():
            site_text, _, reason = field.decode().partition(":")
            if int(site_text) in existing:
                _add(int(site_text), day, reason, int(value))
                moved += 1
        client.delete(key)
    return moved
