"""Celery tasks for reports and alerts: thin wrappers, scheduled by beat (settings).

Safe to run twice or concurrently: every message is claimed in the database before it is
sent (``services``). ``acks_late`` + ``reject_on_worker_lost`` (settings) put a task whose
worker died back on the queue; transient database errors are retried with backoff. A
failed send is not an exception here: it is recorded and retried by the next run.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from stats.notifications import services

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**RETRY)
def send_due_reports() -> dict:
    return services.reports_send_due()


@shared_task(**RETRY)
def check_alerts() -> dict:
    return services.alerts_check()
