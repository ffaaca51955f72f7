"""Celery tasks of the statistics app."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from stats import rollups


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def rollup_pending() -> int:
    """Recompute the daily aggregates of every day that received events since the last run."""
    return rollups.rollup_pending()
