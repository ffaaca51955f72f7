"""Revenue in the site's reporting currency: flags on the hot path, re-conversion after.

At ingest ``tracking.pipeline.revenue`` converts each amount with ``sites.exchange_rates``.
An amount no rate converts keeps its original amount and currency, with an empty
``revenue_reporting_currency`` (the flag; statistics count such events as
``revenue_unconverted``), and is logged once per process and currency here.

``revenue_reconvert`` re-converts a site's stored revenue into its current reporting
currency from each event's original amount, currency and day; ``site_update`` schedules it
when an owner changes the currency, and ``manage.py revenue reconvert`` runs it by hand
(docs/revenue.md).
"""

from __future__ import annotations

import logging
from datetime import UTC
from decimal import Decimal

from django.db import transaction

from sites.exchange_rates import convert
from tracking.models import Event

logger = logging.getLogger(__name__)

_logged: set[str] = set()
BATCH = 2_000


def unconverted(site_id: int, currency: str) -> None:
    """An amount kept without a reporting amount: say so once per process and currency."""
    if currency in _logged:
        return
    _logged.add(currency)
    logger.warning(
        "revenue in %r has no exchange rate (site %s): stored unconverted", currency, site_id
    )


def revenue_reconvert(*, site_id: int, currency: str, model=Event) -> dict[str, int]:
    """Convert every revenue event of ``site_id`` into ``currency`` again (idempotent: an
    event already in ``currency`` at the same amount is rewritten with the same values).

    Events are read by primary key in batches and updated in one transaction per batch,
    so ingestion is never blocked for long; the statistics' rolled-up copies are invalidated
    by the caller (``stats.services.site_rollups_invalidate``). ``model``: the migration
    that converted the revenue stored before conversion existed passes its historical one."""
    converted = unconverted_count = 0
    last_id = None
    while True:
        events = model.objects.filter(site_id=site_id, revenue_amount__isnull=False)
        if last_id is not None:
            events = events.filter(id__gt=last_id)
        batch = list(
            events.order_by("id").only("id", "timestamp", "revenue_amount", "revenue_currency")[
                :BATCH
            ]
        )
        if not batch:
            break
        last_id = batch[-1].id
        for event in batch:
            value = convert(
                Decimal(event.revenue_amount),
                event.revenue_currency,
                currency,
                event.timestamp.astimezone(UTC).date(),
            )
            event.revenue_reporting = value
            event.revenue_reporting_currency = currency if value is not None else ""
            if value is None:
                unconverted_count += 1
            else:
                converted += 1
        with transaction.atomic():
            model.objects.bulk_update(
                batch, ["revenue_reporting", "revenue_reporting_currency"], batch_size=500
            )
    return {"converted": converted, "unconverted": unconverted_count}
