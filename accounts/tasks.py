"""Celery tasks of the accounts app."""

from celery import shared_task
from oauth2_provider.models import clear_expired


@shared_task
def clear_expired_tokens() -> None:
    """Delete expired OAuth access tokens (django-oauth-toolkit's own clean-up)."""

    clear_expired()
