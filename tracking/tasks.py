"""Celery tasks of the tracking app: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from sites.exchange_rates import rates_refresh
from tracking import drops, visitors


@shared_task
def rotate_salts() -> int:
    """Create today's and tomorrow's visitor salts; delete those older than two days."""
    return visitors.rotate_salts(timezone.now().date())


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def flush_drop_counts() -> int:
    """Move the hot path's drop counters from Redis into the database."""
    return drops.flush_drop_counts()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def refresh_exchange_rates() -> dict:
    """Store the ECB's newer reference rates when ``EXCHANGE_RATES_SOURCE`` has them."""
    return rates_refresh()
