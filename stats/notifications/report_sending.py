"""Scheduled reports: one delivery per recipient and period, keyed so a period is sent
once, and the test send from the report's page."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Q

from sites.permissions import site_role
from stats.notifications.deliveries import (
    current_time,
    deliveries_purge,
    deliveries_run,
    delivery_ensure,
    expire_sending,
    retry_due,
)
from stats.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Report,
)
from stats.notifications.periods import ReportPeriod, latest_due

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
    now = current_time(now)
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
        delivery = delivery_ensure(
            key,
            site=report.site,
            channel=Channel.EMAIL,
            now=now,
            report=report,
            recipient=report.email,
            payload=_report_payload(report, period),
        )
        ids.append(delivery.pk)
    outcomes = deliveries_run(ids, now)
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
    now = current_time(now)
    period = latest_due(report.frequency, now, report.site.timezone)
    delivery = delivery_ensure(
        f"test:{uuid.uuid4()}",
        site=report.site,
        channel=Channel.EMAIL,
        now=now,
        report=report,
        recipient=report.email,
        payload=_report_payload(report, period, test=True),
    )
    return deliveries_run([delivery.pk], now)[0]
