"""Shared parsing for the notification commands (``--site ID``, ``--now ISO``)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from sites.models import Site


def site_arg(value: str) -> Site:
    """A site by its numeric id (Matomo's idsite) or its public id."""
    site = None
    if value.isdigit():
        site = Site.objects.filter(pk=int(value)).first()
    if site is None:
        site = Site.objects.filter(public_id=value).first()
    if site is None:
        raise CommandError(f"Unknown site {value!r}.")
    return site


def now_arg(value: str | None) -> datetime | None:
    """``--now``: an ISO 8601 time (UTC when it has no offset), the clock of this run."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise CommandError(f"--now must be an ISO 8601 time, not {value!r}.") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)
