"""Writes of reports, alerts and webhooks, and sending them exactly once: the app's
service layer, by subject in its own modules and re-exported here.

- ``subscriptions``: create and delete reports, webhooks and alerts, unsubscribe;
- ``deliveries``: the delivery state machine (claim, send, retry; at most once per key,
  ``docs/notifications.md``) and the webhook test send;
- ``report_sending``: scheduled reports and their test send;
- ``alert_checks``: evaluating alerts, firing them and their test send.
"""

from __future__ import annotations

from stats.notifications.alert_checks import (
    ERROR_OVERLAP,
    MAX_ERROR_WINDOW,
    alert_send_test,
    alerts_check,
    evaluate,
)
from stats.notifications.deliveries import (
    DELIVERY_RETENTION,
    LEASE,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    backoff,
    current_time,
    deliver,
    deliveries_purge,
    deliveries_run,
    delivery_ensure,
    expire_sending,
    retry_due,
    webhook_send_test,
)
from stats.notifications.report_sending import report_key, report_send_test, reports_send_due
from stats.notifications.subscriptions import (
    DEFAULT_HOURS,
    ERROR_SEED_DAYS,
    MAX_ALERT_HOURS,
    MIN_COOLDOWN_HOURS,
    alert_create,
    alert_delete,
    report_create,
    report_delete,
    unsubscribe,
    webhook_create,
    webhook_delete,
)

__all__ = [
    "DEFAULT_HOURS",
    "DELIVERY_RETENTION",
    "ERROR_OVERLAP",
    "ERROR_SEED_DAYS",
    "LEASE",
    "MAX_ALERT_HOURS",
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "MAX_ERROR_WINDOW",
    "MIN_COOLDOWN_HOURS",
    "alert_create",
    "alert_delete",
    "alert_send_test",
    "alerts_check",
    "backoff",
    "current_time",
    "deliver",
    "deliveries_purge",
    "deliveries_run",
    "delivery_ensure",
    "evaluate",
    "expire_sending",
    "report_create",
    "report_delete",
    "report_key",
    "report_send_test",
    "reports_send_due",
    "retry_due",
    "unsubscribe",
    "webhook_create",
    "webhook_delete",
    "webhook_send_test",
]
