"""Writes of reports, alerts and webhooks, and sending them exactly once.

Every message is a ``Delivery`` row with a unique ``key`` (``report:<id>:<period start>``,
``alert:<id>:<fired at>:email:<address>``, ``test:<uuid>``). Sending one goes through
these states, each change a single conditional ``UPDATE`` (so two workers or two beat
runs never both win), with ``attempts`` as the fencing token of the current claim:

    pending/failed (due) ──claim──▶ claimed ──(message built, connection open)──▶ sending
    sending ──(server or receiver accepted)──▶ sent
    claimed/sending ──(error that proves nothing was accepted)──▶ failed (retry with
        backoff 1, 2, 4 … 60 min; gave_up after MAX_ATTEMPTS)
    claimed, lease expired (worker died while preparing) ──▶ claimed again by the next run
    sending, lease expired (worker died during the hand-over) ──▶ unknown: never resent

The guarantee (docs/notifications.md): a message is handed to the mail server or webhook
receiver at most once per key; it is exactly once unless a worker dies in the few
milliseconds between starting the hand-over and recording its outcome, where it is at
most once and the delivery log says ``unknown``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sites.models import Site
from sites.permissions import site_role
from stats.models import Goal
from stats.notifications import channels, selectors, webhooks
from stats.notifications.models import (
    Alert,
    AlertKind,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Frequency,
    GoalMetric,
    Report,
    SeenError,
    Webhook,
    WebhookFormat,
)
from stats.notifications.periods import ReportPeriod, latest_due

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
MAX_ALERT_HOURS = 24 * 7
MIN_COOLDOWN_HOURS = 1
ERROR_SEED_DAYS = 30
# New-error checks re-read this much before the last check: late events are not missed,
# and the seen set makes the overlap harmless.
ERROR_OVERLAP = timedelta(minutes=2)
MAX_ERROR_WINDOW = timedelta(hours=24)
# Deliveries (and their log) are kept this long. Longer than any report period plus its
# due time, so a purged row can never let the same period be sent again.
DELIVERY_RETENTION = timedelta(days=400)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


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
                created_at=_now(now),
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
        created_at=_now(now),
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
    moment = _now(now)
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


# --- deliveries: the state machine -----------------------------------------------------


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _ensure(key: str, *, site: Site, channel: str, now: datetime, **fields) -> Delivery:
    """The delivery for ``key``, created if new (INSERT … ON CONFLICT DO NOTHING)."""
    Delivery.objects.bulk_create(
        [Delivery(key=key, site=site, channel=channel, created_at=now, **fields)],
        ignore_conflicts=True,
    )
    return Delivery.objects.get(key=key)


def _claimable(now: datetime) -> Q:
    return (
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.CLAIMED, lease_until__lte=now)
    )


def _claim(delivery_id: int, now: datetime) -> int | None:
    """Take the delivery for LEASE; the claim's token (the attempt number) or None."""
    with transaction.atomic():
        won = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=DeliveryStatus.CLAIMED,
            lease_until=now + LEASE,
            attempts=F("attempts") + 1,
        )
        if not won:
            return None
        return Delivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)


def _mark_sending(delivery_id: int, token: int, now: datetime) -> bool:
    """From here on the message may reach the recipient: it is never sent again."""
    return bool(
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.CLAIMED, attempts=token
        ).update(status=DeliveryStatus.SENDING, sending_at=now, lease_until=now + LEASE)
    )


def _mark_sent(delivery_id: int, token: int, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING, attempts=token).update(
        status=DeliveryStatus.SENT, sent_at=now, lease_until=None, next_attempt_at=None
    )


def _mark_failed(delivery_id: int, token: int, now: datetime) -> str:
    status = DeliveryStatus.GAVE_UP if token >= MAX_ATTEMPTS else DeliveryStatus.FAILED
    Delivery.objects.filter(
        pk=delivery_id,
        status__in=[DeliveryStatus.CLAIMED, DeliveryStatus.SENDING],
        attempts=token,
    ).update(status=status, lease_until=None, next_attempt_at=now + backoff(token))
    return status


def _log(delivery_id: int, now: datetime, *, ok: bool, started: float, **fields) -> None:
    DeliveryAttempt.objects.create(
        delivery_id=delivery_id,
        at=now,
        ok=ok,
        duration_ms=int((time.monotonic() - started) * 1000),
        **{k: str(v)[:500] if isinstance(v, str) else v for k, v in fields.items()},
    )


def deliveries_purge(now: datetime) -> int:
    """Forget deliveries older than ``DELIVERY_RETENTION`` (finished or not)."""
    deleted, _ = Delivery.objects.filter(created_at__lt=now - DELIVERY_RETENTION).delete()
    return deleted


def expire_sending(now: datetime) -> int:
    """Deliveries whose worker died during the hand-over: their outcome is unknown, and
    they are not sent again (at most once)."""
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lte=now).update(
        status=DeliveryStatus.UNKNOWN, lease_until=None
    )


def _report_period(delivery: Delivery) -> ReportPeriod:
    payload = delivery.payload
    first, last = date.fromisoformat(payload["first"]), date.fromisoformat(payload["last"])
    return ReportPeriod(
        payload["frequency"],
        first,
        last,
        datetime.fromisoformat(payload["due_at"]),
    )


def _prepare(delivery: Delivery):
    """The message to hand over (reads statistics for reports; may raise: retried)."""
    site = delivery.site
    if delivery.channel == Channel.EMAIL:
        if delivery.payload.get("type") == "report":
            period = _report_period(delivery)
            data = selectors.report_data(site, period.first_day, period.last_day, period.previous())
            return channels.report_email(
                site=site,
                email=delivery.recipient,
                report_id=delivery.payload["report_id"],
                period=period,
                data=data,
                key=delivery.key,
                member=selectors.is_member(site, delivery.recipient),
                test=delivery.payload.get("test", False),
            )
        return channels.alert_email(
            site=site, email=delivery.recipient, payload=delivery.payload, key=delivery.key
        )
    if delivery.webhook is None:
        raise ValueError("the webhook was deleted")
    return channels.webhook_request(
        delivery.webhook,
        delivery.payload,
        delivery_id=delivery.pk,
        event=delivery.payload.get("event", "alert"),
    )


def deliver(delivery_id: int, now: datetime, sender: channels.EmailSender) -> dict | None:
    """Claim and send one delivery; its outcome, or None when another worker has it."""
    token = _claim(delivery_id, now)
    if token is None:
        return None
    delivery = Delivery.objects.select_related("site", "webhook").get(pk=delivery_id)
    started = time.monotonic()
    outcome = {
        "key": delivery.key,
        "channel": delivery.channel,
        "recipient": delivery.recipient,
        "attempt": token,
    }
    try:
        with transaction.atomic():  # a failed read leaves the connection usable
            prepared = _prepare(delivery)
        if delivery.channel == Channel.EMAIL:
            sender.prepare()
    except Exception as error:
        logger.warning("delivery %s not prepared: %s", delivery.key, error)
        sender.reset()
        _log(delivery.pk, now, ok=False, started=started, error=f"{type(error).__name__}: {error}")
        return {**outcome, "status": _mark_failed(delivery.pk, token, now), "error": str(error)}
    if not _mark_sending(delivery.pk, token, now):
        return None  # the lease ran out while preparing and another worker took over
    try:
        if delivery.channel == Channel.EMAIL:
            sender.send(prepared)
            response = None
        else:
            url, body, headers = prepared
            response = webhooks.post(
                url, body, headers, timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS)
            )
    except Exception as error:
        # Nothing was accepted: connection refused or reset, a refused recipient or DATA,
        # the SSRF guard, a timeout. The webhook receiver may have seen a timed-out request:
        # receivers deduplicate by the Footfall-Delivery header (docs/notifications.md).
        logger.warning("delivery %s failed: %s", delivery.key, error)
        sender.reset()
        _log(delivery.pk, now, ok=False, started=started, error=f"{type(error).__name__}: {error}")
        return {**outcome, "status": _mark_failed(delivery.pk, token, now), "error": str(error)}
    if response is not None and not response.ok:
        _log(
            delivery.pk,
            now,
            ok=False,
            started=started,
            status_code=response.status,
            response=response.body,
        )
        status = _mark_failed(delivery.pk, token, now)
        return {**outcome, "status": status, "error": f"HTTP {response.status}"}
    _mark_sent(delivery.pk, token, now)
    _log(
        delivery.pk,
        now,
        ok=True,
        started=started,
        status_code=response.status if response is not None else 250,
        response=response.body if response is not None else "accepted by the mail server",
    )
    return {**outcome, "status": DeliveryStatus.SENT}


def _run(delivery_ids: Iterable[int], now: datetime) -> list[dict]:
    sender = channels.EmailSender()
    outcomes = []
    try:
        for delivery_id in delivery_ids:
            outcome = deliver(delivery_id, now, sender)
            if outcome is not None:
                outcomes.append(outcome)
    finally:
        sender.reset()
    return outcomes


def retry_due(now: datetime, *, channel_filter: Q | None = None) -> list[dict]:
    """Send again what failed (after its backoff) or was left claimed by a dead worker."""
    due = Delivery.objects.filter(_claimable(now)).exclude(status=DeliveryStatus.PENDING)
    due = due | Delivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lte=now - LEASE)
    if channel_filter is not None:
        due = due.filter(channel_filter)
    return _run(due.order_by("pk").values_list("pk", flat=True), now)


# --- scheduled reports -----------------------------------------------------------------


def report_key(report: Report, period: ReportPeriod) -> str:
    return f"report:{report.pk}:{period.first_day.isoformat()}"


def _report_payload(report: Report, period: ReportPeriod, *, test: bool = False) -> dict:
    return {
        "type": "report",
        "report_id": report.pk,
        "frequency": period.frequency,
        "first": period.first_day.isoformat(),
        "last": period.last_day.isoformat(),
        "due_at": period.due_at.isoformat(),
        "test": test,
    }


def reports_send_due(now: datetime | None = None) -> dict:
    """Send every report whose latest period is due and not yet sent (what beat runs).

    Only the latest due period of each report is sent (after a long outage the missed
    ones are skipped), and none that was due before the report was created.
    """
    now = _now(now)
    expire_sending(now)
    deliveries_purge(now)
    due: list[tuple[Report, ReportPeriod]] = []
    for report in Report.objects.select_related("site", "user").order_by("pk"):
        period = latest_due(report.frequency, now, report.site.timezone)
        if period.due_at >= report.created_at:
            due.append((report, period))
    keys = {report_key(r, p): (r, p) for r, p in due}
    for key, (report, _period) in list(keys.items()):
        if report.user_id is not None and site_role(report.user, report.site) is None:
            # A member who subscribed themselves and has since lost access to the site
            # gets no more statistics of it (Owners' subscriptions of others are deliberate).
            report.delete()
            del keys[key]
    finished = set(
        Delivery.objects.filter(key__in=list(keys))
        .exclude(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.CLAIMED])
        .values_list("key", flat=True)
    )
    ids = []
    for key, (report, period) in keys.items():
        if key in finished:
            continue
        delivery = _ensure(
            key,
            site=report.site,
            channel=Channel.EMAIL,
            now=now,
            report=report,
            recipient=report.email,
            payload=_report_payload(report, period),
        )
        ids.append(delivery.pk)
    outcomes = _run(ids, now)
    retried = retry_due(
        now, channel_filter=Q(key__startswith="report:", report__isnull=False) & ~Q(pk__in=ids)
    )
    return {
        "now": now.isoformat(),
        "due": len(keys),
        "sent": [o for o in outcomes + retried if o["status"] == DeliveryStatus.SENT],
        "failed": [o for o in outcomes + retried if o["status"] != DeliveryStatus.SENT],
    }


def report_send_test(*, report: Report, now: datetime | None = None) -> dict:
    """Send the report of its latest due period now, marked as a test."""
    now = _now(now)
    period = latest_due(report.frequency, now, report.site.timezone)
    delivery = _ensure(
        f"test:{uuid.uuid4()}",
        site=report.site,
        channel=Channel.EMAIL,
        now=now,
        report=report,
        recipient=report.email,
        payload=_report_payload(report, period, test=True),
    )
    return _run([delivery.pk], now)[0]


# --- alerts ----------------------------------------------------------------------------


def _plural(count, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _number(value: Decimal) -> str:
    return f"{value:,.2f}" if value != value.to_integral_value() else f"{int(value):,}"


def _top_text(rows: list[dict]) -> str:
    return ", ".join(f"{row['label']} ({row['visitors']})" for row in rows) or "none"


def evaluate(alert: Alert, now: datetime, *, force: bool = False) -> dict | None:
    """The alert's finding at ``now`` (a message payload), or None when it does not fire.

    ``force`` builds the message whatever the reading (the "send a test" button).
    """
    site = alert.site
    threshold = alert.threshold
    hours = alert.hours
    since = now - timedelta(hours=hours)
    link = channels.dashboard_url(site)
    base = {
        "event": f"alert.{alert.kind}",
        "site": {"id": site.public_id, "name": site.display_name, "hostname": site.hostname},
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "threshold": float(threshold),
            "hours": hours,
            "cooldown_hours": alert.cooldown_hours,
        },
        "fired_at": now.isoformat(),
        "link": link,
    }
    if alert.kind == AlertKind.SPIKE:
        value = selectors.current_visitors(site.pk, now)
        if value < threshold and not force:
            return None
        top = selectors.live_top(site.pk, now)
        return {
            **base,
            "value": value,
            "title": f"Traffic spike on {site.display_name}: {_plural(value, 'current visitor')}",
            "text": (
                f"{_plural(value, 'visitor')} in the last 5 minutes, at or above your "
                f"threshold of {_number(threshold)}."
            ),
            "fields": {
                "Top sources": _top_text(top["sources"]),
                "Top pages": _top_text(top["pages"]),
            },
            "top_sources": top["sources"],
            "top_pages": top["pages"],
        }
    if alert.kind == AlertKind.DROP:
        value = selectors.visitors_between(site.pk, since, now, at_least=int(threshold) + 1)
        if value >= threshold and not force:
            return None
        return {
            **base,
            "value": value,
            "title": f"Traffic drop on {site.display_name}: {_plural(value, 'visitor')} in {_plural(hours, 'hour')}",
            "text": (
                f"{_plural(value, 'visitor')} in the last {_plural(hours, 'hour')}, below your "
                f"threshold of {_number(threshold)}."
            ),
            "fields": {"Visitors": str(value), "Window": _plural(hours, "hour")},
        }
    if alert.kind == AlertKind.NO_DATA:
        if selectors.has_events(site.pk, since, now) and not force:
            return None
        return {
            **base,
            "value": 0,
            "title": f"No data from {site.display_name} for {_plural(hours, 'hour')}",
            "text": (
                f"Footfall received no event at all from {site.hostname} in the last "
                f"{_plural(hours, 'hour')}. The tracking snippet may have fallen off the site."
            ),
            "fields": {"Since": since.isoformat(timespec="minutes")},
        }
    if alert.kind == AlertKind.GOAL:
        value = selectors.goal_total(site.pk, alert.goal, alert.metric, since, now)
        if value < threshold and not force:
            return None
        what = alert.goal.name if alert.goal else "all goals"
        measure = "revenue" if alert.metric == GoalMetric.REVENUE else "conversions"
        return {
            **base,
            "value": float(value),
            "title": f"{what} on {site.display_name}: {_number(value)} {measure} in {_plural(hours, 'hour')}",
            "text": (
                f"{_number(value)} {measure} of {what} in the last {_plural(hours, 'hour')}, at or "
                f"above your threshold of {_number(threshold)}."
            ),
            "fields": {"Goal": what, measure.capitalize(): _number(value)},
        }
    # New errors: fired by ``_check_errors`` with the errors it found.
    return {
        **base,
        "value": 0,
        "title": f"New JavaScript error on {site.display_name}",
        "text": "This is how new errors will be reported.",
        "fields": {},
        "errors": [],
    }


def _error_payload(alert: Alert, now: datetime, new: list[dict]) -> dict:
    payload = evaluate(alert, now, force=True) or {}
    first = new[0]
    lines = [
        f"{row['type']}: {row['message'][:200]} ({_plural(row['count'], 'time')}, "
        f"{', '.join(p['url'] for p in row['pages'][:3]) or 'no page'})"
        for row in new[:5]
    ]
    more = f"\nand {len(new) - 5} more" if len(new) > 5 else ""
    return {
        **payload,
        "value": len(new),
        "title": f"New JavaScript error on {alert.site.display_name}: {first['message'][:80]}",
        "text": "Errors not seen before on this site:\n" + "\n".join(lines) + more,
        "fields": {"New errors": str(len(new))},
        "errors": [
            {
                "type": row["type"],
                "message": row["message"],
                "count": row["count"],
                "pages": [p["url"] for p in row["pages"]],
                "source": row["source"],
                "line": row["line"],
            }
            for row in new[:20]
        ],
    }


def _fire(alert: Alert, payload: dict, now: datetime) -> list[int]:
    """Record the firing (only one run wins it: the cooldown is claimed by a conditional
    UPDATE) and its deliveries; their ids, or [] if another run fired first."""
    cooldown = timedelta(hours=alert.cooldown_hours)
    won = Alert.objects.filter(
        Q(last_fired_at__isnull=True) | Q(last_fired_at__lte=now - cooldown), pk=alert.pk
    ).update(last_fired_at=now)
    if not won:
        return []
    return _alert_deliveries(alert, payload, now, f"alert:{alert.pk}:{now.isoformat()}")


def _alert_deliveries(alert: Alert, payload: dict, now: datetime, prefix: str) -> list[int]:
    ids = []
    for email in alert.emails:
        ids.append(
            _ensure(
                f"{prefix}:email:{email}",
                site=alert.site,
                channel=Channel.EMAIL,
                now=now,
                alert=alert,
                recipient=email,
                payload=payload,
            ).pk
        )
    for webhook in alert.webhooks.all():
        ids.append(
            _ensure(
                f"{prefix}:webhook:{webhook.pk}",
                site=alert.site,
                channel=Channel.WEBHOOK,
                now=now,
                alert=alert,
                webhook=webhook,
                recipient=webhook.url,
                payload=payload,
            ).pk
        )
    return ids


def _in_cooldown(alert: Alert, now: datetime) -> bool:
    return alert.last_fired_at is not None and alert.last_fired_at > now - timedelta(
        hours=alert.cooldown_hours
    )


def _check_errors(alerts: list[Alert], now: datetime) -> list[tuple[Alert, dict]]:
    """New-error alerts of one site: read the errors since the earliest last check, keep
    the ones whose digest the site's seen set lacks, add them to it."""
    site = alerts[0].site
    start = min(a.checked_until or a.created_at for a in alerts) - ERROR_OVERLAP
    start = max(start, now - MAX_ERROR_WINDOW)
    rows = selectors.errors_between(site.pk, start, now)
    seen = set(
        SeenError.objects.filter(site=site, digest__in=[r["digest"] for r in rows]).values_list(
            "digest", flat=True
        )
    )
    new = [row for row in rows if row["digest"] not in seen]
    if new:
        SeenError.objects.bulk_create(
            [SeenError(site=site, digest=row["digest"], first_seen_at=now) for row in new],
            ignore_conflicts=True,
        )
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(checked_until=now)
    if not new:
        return []
    return [(alert, _error_payload(alert, now, new)) for alert in alerts]


def _isolated(check, *args):
    """One alert's (or site's) check; an error there (a goal's invalid regular expression,
    say) is logged and skipped, so it cannot stop every other alert."""
    try:
        with transaction.atomic():
            return check(*args)
    except Exception:
        logger.exception("alert check %s%r failed", check.__name__, args[:1])
        return None


def alerts_check(now: datetime | None = None) -> dict:
    """Check every enabled alert not cooling down (what beat runs every minute), send what
    fired, and retry alert deliveries that failed."""
    now = _now(now)
    expire_sending(now)
    alerts = list(
        Alert.objects.filter(enabled=True)
        .select_related("site", "goal")
        .prefetch_related("webhooks")
        .order_by("pk")
    )
    checked = 0
    findings: list[tuple[Alert, dict]] = []
    error_alerts: dict[int, list[Alert]] = {}
    for alert in alerts:
        if _in_cooldown(alert, now):
            continue
        checked += 1
        if alert.kind == AlertKind.ERROR:
            error_alerts.setdefault(alert.site_id, []).append(alert)
            continue
        payload = _isolated(evaluate, alert, now)
        if payload is not None:
            findings.append((alert, payload))
    for site_alerts in error_alerts.values():
        findings.extend(_isolated(_check_errors, site_alerts, now) or [])
    fired, ids = [], []
    for alert, payload in findings:
        delivery_ids = _fire(alert, payload, now)
        if delivery_ids:
            fired.append({"alert": alert.pk, "kind": alert.kind, "title": payload["title"]})
            ids.extend(delivery_ids)
    outcomes = _run(ids, now)
    retried = retry_due(now, channel_filter=Q(key__startswith="alert:") & ~Q(pk__in=ids))
    return {
        "now": now.isoformat(),
        "checked": checked,
        "fired": fired,
        "sent": [o for o in outcomes + retried if o["status"] == DeliveryStatus.SENT],
        "failed": [o for o in outcomes + retried if o["status"] != DeliveryStatus.SENT],
    }


def alert_send_test(*, alert: Alert, now: datetime | None = None) -> list[dict]:
    """Send the alert's message as it would read now, to all its channels, marked as a test."""
    now = _now(now)
    payload = evaluate(alert, now, force=True) or {}
    payload = {**payload, "event": "alert.test", "title": f"[Test] {payload['title']}"}
    ids = _alert_deliveries(alert, payload, now, f"test:{uuid.uuid4()}")
    return _run(ids, now)


def webhook_send_test(*, webhook: Webhook, now: datetime | None = None) -> dict:
    now = _now(now)
    site = webhook.site
    payload = {
        "event": "webhook.test",
        "site": {"id": site.public_id, "name": site.display_name, "hostname": site.hostname},
        "title": f"Test from Footfall ({site.display_name})",
        "text": "If you can read this, the webhook works. Alerts will arrive here.",
        "fields": {"Site": site.hostname},
        "link": channels.dashboard_url(site),
        "fired_at": now.isoformat(),
    }
    delivery = _ensure(
        f"test:{uuid.uuid4()}",
        site=site,
        channel=Channel.WEBHOOK,
        now=now,
        webhook=webhook,
        recipient=webhook.url,
        payload=payload,
    )
    return _run([delivery.pk], now)[0]
