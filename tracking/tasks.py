"""Celery tasks of the tracking app: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from tracking import visitors


@shared_task
def rotate_salts() -> int:
    """Create today's and tomorrow's visitor salts; delete those older than two days."""
    return visitors.rotate_salts(timezone.now().date())
