"""Celery tasks of the statistics app."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from stats import retention, rollups
from stats.imports import plausible_import_run
from stats.services import site_revenue_reconvert


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def rollup_pending() -> int:
    """Recompute the daily aggregates of every day that received events since the last run."""
    return rollups.rollup_pending()


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def reconvert_revenue(site_id: int) -> dict:
    """Convert a site's stored revenue into its reporting currency (after it changed)."""
    return site_revenue_reconvert(site_id)


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def import_run(import_id: str) -> str:
    """Run one Plausible CSV import (``stats.imports``): checked, then stored with progress.
    Safe to retry: a rerun removes what an earlier attempt wrote before writing again."""
    return plausible_import_run(import_id).status


# Registered under its old name: the beat schedule (and tasks already queued) call it so.
@shared_task(
    name="tracking.tasks.purge_expired_events",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def purge_expired_events() -> dict:
    """Delete raw events past each site's retention (aggregates are kept)."""
    return retention.purge_expired_events()
