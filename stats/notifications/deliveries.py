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

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sites.models import Site
from stats.notifications import channels, selectors, webhooks
from stats.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
)
from stats.notifications.periods import ReportPeriod

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)


# Deliveries (and their log) are kept this long. Longer than any report period plus its
# due time, so a purged row can never let the same period be sent again.
DELIVERY_RETENTION = timedelta(days=400)


def current_time(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- deliveries: the state machine -----------------------------------------------------


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def delivery_ensure(key: str, *, site: Site, channel: str, now: datetime, **fields) -> Delivery:
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


def deliveries_run(delivery_ids: Iterable[int], now: datetime) -> list[dict]:
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
    return deliveries_run(due.order_by("pk").values_list("pk", flat=True), now)


def webhook_send_test(*, webhook: Webhook, now: datetime | None = None) -> dict:
    now = current_time(now)
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
    delivery = delivery_ensure(
        f"test:{uuid.uuid4()}",
        site=site,
        channel=Channel.WEBHOOK,
        now=now,
        webhook=webhook,
        recipient=webhook.url,
        payload=payload,
    )
    return deliveries_run([delivery.pk], now)[0]
