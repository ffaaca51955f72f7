"""Writes of reports, webhooks and alerts: create (validated) and delete, and the
one-click unsubscribe of a report's recipient."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from sites.models import Site
from stats.models import Goal
from stats.notifications import channels, selectors, webhooks
from stats.notifications.deliveries import (
    current_time,
)
from stats.notifications.models import (
    Alert,
    AlertKind,
    Frequency,
    GoalMetric,
    Report,
    SeenError,
    Webhook,
    WebhookFormat,
)

MAX_ALERT_HOURS = 24 * 7
MIN_COOLDOWN_HOURS = 1
ERROR_SEED_DAYS = 30


# --- reports -------------------------------------------------------------------------


def _clean_email(value: str) -> str:
    email = (value or "").strip()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": f"{email!r} is not a valid email address."}) from error
    return email.lower()


def report_create(
    *,
    site: Site,
    email: str,
    frequency: str,
    user=None,
    created_by=None,
    now: datetime | None = None,
) -> Report:
    """Subscribe ``email`` to ``site``'s report (the first one goes out at the next due
    time after now, never for a period that was due before the subscription)."""
    email = _clean_email(email)
    if frequency not in Frequency.values:
        raise ValidationError(
            {"frequency": f"Choose one of {', '.join(Frequency.values)}, not {frequency!r}."}
        )
    try:
        with transaction.atomic():
            return Report.objects.create(
                site=site,
                email=email,
                frequency=frequency,
                user=user,
                created_by=created_by,
                created_at=current_time(now),
            )
    except IntegrityError as error:
        raise ValidationError(
            {"email": f"{email} already receives the {frequency} report of this site."}
        ) from error


def report_delete(*, report: Report) -> None:
    report.delete()


def unsubscribe(token: str) -> dict | None:
    """Apply a signed unsubscribe token; what it was for, or None if it is not valid."""
    data = channels.read_unsubscribe_token(token)
    if data is None:
        return None
    if data["k"] == "r":
        report = Report.objects.filter(pk=data["i"], email__iexact=data["e"]).first()
        if report is not None:
            report.delete()
        return {"kind": "report", "email": data["e"], "removed": report is not None}
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=data["i"]).first()
        removed = False
        if alert is not None:
            kept = [e for e in alert.emails if e.lower() != data["e"]]
            removed = len(kept) != len(alert.emails)
            if removed:
                alert.emails = kept
                alert.save(update_fields=["emails"])
    return {"kind": "alert", "email": data["e"], "removed": removed}


# --- webhooks ------------------------------------------------------------------------


def webhook_create(
    *, site: Site, url: str, format: str, name: str = "", now: datetime | None = None
) -> tuple[Webhook, str]:
    """A new webhook and its signing secret (returned once, stored sealed)."""
    url = (url or "").strip()
    if format not in WebhookFormat.values:
        raise ValidationError(
            {"format": f"Choose one of {', '.join(WebhookFormat.values)}, not {format!r}."}
        )
    if len(url) > 2000:
        raise ValidationError({"url": "The URL is too long."})
    try:
        webhooks.check_url(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from error
    secret = webhooks.new_secret()
    webhook = Webhook.objects.create(
        site=site,
        name=(name or "").strip()[:100],
        url=url,
        format=format,
        secret_sealed=webhooks.seal(secret),
        secret_prefix=secret[:10],
        created_at=current_time(now),
    )
    return webhook, secret


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# --- alerts --------------------------------------------------------------------------


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({field: "Enter a number."}) from error
    if not number.is_finite() or number < 0 or number >= Decimal("1e15"):
        raise ValidationError({field: "Enter a number between 0 and 10^15."})
    return number.quantize(Decimal("0.01"))


DEFAULT_HOURS = {"spike": 1, "drop": 24, "no-data": 6, "goal": 24, "error": 1}


def alert_create(
    *,
    site: Site,
    kind: str,
    threshold=0,
    hours: int | None = None,
    emails: Iterable[str] = (),
    webhook_ids: Iterable[int] = (),
    goal: Goal | None = None,
    metric: str = GoalMetric.CONVERSIONS,
    cooldown_hours: int = 12,
    now: datetime | None = None,
) -> Alert:
    if kind not in AlertKind.values:
        raise ValidationError(
            {"kind": f"Choose one of {', '.join(AlertKind.values)}, not {kind!r}."}
        )
    hours = DEFAULT_HOURS[kind] if hours in (None, "") else hours
    if not isinstance(hours, int) or not 1 <= hours <= MAX_ALERT_HOURS:
        raise ValidationError({"hours": f"Hours must be between 1 and {MAX_ALERT_HOURS}."})
    if not isinstance(cooldown_hours, int) or not (
        MIN_COOLDOWN_HOURS <= cooldown_hours <= MAX_ALERT_HOURS
    ):
        raise ValidationError(
            {
                "cooldown_hours": f"The cooldown must be {MIN_COOLDOWN_HOURS} to {MAX_ALERT_HOURS} hours."
            }
        )
    if metric not in GoalMetric.values:
        raise ValidationError({"metric": "Choose conversions or revenue."})
    if goal is not None and goal.site_id != site.pk:
        raise ValidationError({"goal": "No such goal on this site."})
    addresses = sorted({_clean_email(e) for e in emails if e and e.strip()})
    hooks = list(Webhook.objects.filter(site=site, pk__in=list(webhook_ids)))
    if len(hooks) != len(set(webhook_ids)):
        raise ValidationError({"webhooks": "No such webhook on this site."})
    if not addresses and not hooks:
        raise ValidationError("An alert needs at least one email address or webhook.")
    moment = current_time(now)
    with transaction.atomic():
        alert = Alert.objects.create(
            site=site,
            kind=kind,
            threshold=_decimal(threshold, "threshold"),
            hours=hours,
            goal=goal if kind == AlertKind.GOAL else None,
            metric=metric if kind == AlertKind.GOAL else GoalMetric.CONVERSIONS,
            cooldown_hours=cooldown_hours,
            emails=addresses,
            created_at=moment,
            checked_until=moment,
        )
        alert.webhooks.set(hooks)
    if kind == AlertKind.ERROR:
        _seed_seen_errors(site, moment)
    return alert


def alert_delete(*, alert: Alert) -> None:
    alert.delete()


def _seed_seen_errors(site: Site, now: datetime) -> None:
    """Errors of the last 30 days are not "new" to an alert created today."""
    rows = selectors.errors_between(site.pk, now - timedelta(days=ERROR_SEED_DAYS), now, 1000)
    SeenError.objects.bulk_create(
        [SeenError(site=site, digest=row["digest"], first_seen_at=now) for row in rows],
        ignore_conflicts=True,
    )
