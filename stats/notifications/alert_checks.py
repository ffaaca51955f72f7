"""Alerts: each check evaluates its condition (spike, drop, no data, goal, new errors),
fires deliveries to its channels outside its cooldown, and one failing check never stops
the others."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from stats.notifications import channels, selectors
from stats.notifications.deliveries import (
    current_time,
    deliveries_run,
    delivery_ensure,
    expire_sending,
    retry_due,
)
from stats.notifications.models import (
    Alert,
    AlertKind,
    Channel,
    DeliveryStatus,
    GoalMetric,
    SeenError,
)

logger = logging.getLogger(__name__)

# New-error checks re-read this much before the last check: late events are not missed,
# and the seen set makes the overlap harmless.
ERROR_OVERLAP = timedelta(minutes=2)
MAX_ERROR_WINDOW = timedelta(hours=24)


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
    """One delivery per channel of the alert: each email address, then each webhook."""
    targets = [(f"{prefix}:email:{e}", Channel.EMAIL, {"recipient": e}) for e in alert.emails]
    targets += [
        (f"{prefix}:webhook:{w.pk}", Channel.WEBHOOK, {"webhook": w, "recipient": w.url})
        for w in alert.webhooks.all()
    ]
    return [
        delivery_ensure(
            key, site=alert.site, channel=channel, now=now, alert=alert, payload=payload, **extra
        ).pk
        for key, channel, extra in targets
    ]


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
    now = current_time(now)
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
    outcomes = deliveries_run(ids, now)
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
    now = current_time(now)
    payload = evaluate(alert, now, force=True) or {}
    payload = {**payload, "event": "alert.test", "title": f"[Test] {payload['title']}"}
    ids = _alert_deliveries(alert, payload, now, f"test:{uuid.uuid4()}")
    return deliveries_run(ids, now)
