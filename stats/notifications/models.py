"""Scheduled email reports, traffic alerts, webhooks and the log of every delivery.

``Delivery`` is the idempotency record: one row per (what, period or firing, recipient),
its ``key`` unique, claimed with a lease before anything is sent and marked sent right
after the mail server or receiver accepted it (``services`` explains the state machine).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Report(models.Model):
    """One recipient's scheduled report of one site (recipients need not be members)."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=254)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    # Set when a member subscribed themselves (Viewers may): they manage only their own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["email", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "email", "frequency"], name="uniq_report_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} report of {self.site_id} to {self.email}"


class WebhookFormat(models.TextChoices):
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    TEAMS = "teams", "Microsoft Teams"
    MATTERMOST = "mattermost", "Mattermost"
    NTFY = "ntfy", "ntfy"
    JSON = "json", "Generic JSON"


class Webhook(models.Model):
    """A receiver of alerts: a URL, a payload format and the secret bodies are signed with.

    The secret must stay usable for signing, so it cannot be hashed: it is stored encrypted
    with a key derived from ``SECRET_KEY`` (``webhooks.seal``), shown once when created,
    never again, and never in the admin.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000)
    format = models.CharField(max_length=12, choices=WebhookFormat.choices)
    secret_sealed = models.TextField(editable=False)
    secret_prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.get_format_display()} webhook {self.pk}"


class AlertKind(models.TextChoices):
    SPIKE = "spike", "Traffic spike"
    DROP = "drop", "Traffic drop"
    NO_DATA = "no-data", "No data"
    GOAL = "goal", "Goal or revenue"
    ERROR = "error", "New JavaScript error"


class GoalMetric(models.TextChoices):
    CONVERSIONS = "conversions", "Conversions"
    REVENUE = "revenue", "Revenue"


class Alert(models.Model):
    """A condition checked by beat, with a cooldown, recipients and channels."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    threshold = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    hours = models.PositiveIntegerField(default=1)
    # goal alerts: one goal (or every goal when empty) and what is counted.
    goal = models.ForeignKey(
        "stats.Goal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(
        max_length=12, choices=GoalMetric.choices, default=GoalMetric.CONVERSIONS
    )
    cooldown_hours = models.PositiveIntegerField(default=12)
    emails = models.JSONField(default=list, blank=True)
    webhooks = models.ManyToManyField(Webhook, blank=True, related_name="alerts")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    # Where the last check stopped reading (new-error alerts read from here on).
    checked_until = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert of {self.site_id}"


class SeenError(models.Model):
    """A JavaScript error message already seen on a site (SHA-256 of type and message)."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "digest"], name="uniq_seen_error")]

    def __str__(self) -> str:
        return f"{self.site_id} error {self.digest[:12]}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Being prepared"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, will retry"
    GAVE_UP = "gave_up", "Failed, gave up"
    UNKNOWN = "unknown", "Unknown (worker died while sending)"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class Delivery(models.Model):
    """One message to one recipient, and the record that makes sending it idempotent.

    ``key`` names what is sent (``report:<id>:<period start>``, ``alert:<firing>:email:<addr>``,
    ``test:<uuid>``…) and is unique, so two workers or two beat runs share one row.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    recipient = models.CharField(max_length=2000, blank=True)
    # What to send: the report's period, or an alert's findings frozen when it fired.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try of a delivery: the answer (HTTP status and the start of the body, or the
    SMTP outcome), shown in the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    ok = models.BooleanField(default=False)
    status_code = models.IntegerField(null=True, blank=True)
    response = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.IntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return (
            f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
        )
