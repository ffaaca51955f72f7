"""Raw events as ingested, the daily visitor-hash salts and drop counters.

``Event`` is written only in bulk by ``tracking.writer`` (COPY on PostgreSQL);
nothing on the request path creates ORM objects.
"""

from django.db import models


class EventKind(models.TextChoices):
    PAGEVIEW = "pageview", "Page view"
    CUSTOM = "custom", "Custom event"
    ENGAGEMENT = "engagement", "Engagement"
    HEARTBEAT = "heartbeat", "Heartbeat / keep-alive"
    BEHAVIOUR = "behaviour", "Behaviour signal"
    ERROR = "error", "Error"


class Event(models.Model):
    """One accepted hit, already enriched. The raw IP address is never stored."""

    id = models.UUIDField(primary_key=True)
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    protocol = models.CharField(max_length=12)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    name = models.CharField(max_length=200)
    visitor_id = models.BigIntegerField()
    session_id = models.BigIntegerField()
    # The first event of a session carries True, so sessions = count of these.
    session_start = models.BooleanField(default=False)
    hostname = models.CharField(max_length=253, blank=True)
    path = models.CharField(max_length=2048, blank=True)
    title = models.CharField(max_length=512, blank=True)
    entry_path = models.CharField(max_length=2048, blank=True)
    referrer = models.CharField(max_length=512, blank=True)
    referrer_host = models.CharField(max_length=253, blank=True)
    source = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=32, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    browser = models.CharField(max_length=64, blank=True)
    browser_version = models.CharField(max_length=32, blank=True)
    os = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=32, blank=True)
    device_type = models.CharField(max_length=10, blank=True)
    screen_width = models.PositiveIntegerField(null=True)
    screen_height = models.PositiveIntegerField(null=True)
    screen_class = models.CharField(max_length=4, blank=True)
    language = models.CharField(max_length=10, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=16, blank=True)
    city = models.CharField(max_length=128, blank=True)
    props = models.JSONField(default=dict)
    revenue_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    revenue_currency = models.CharField(max_length=3, blank=True)
    # The amount in the site's reporting currency at the event day's ECB rate, and that
    # currency; both empty when no rate could convert it (docs/revenue.md).
    revenue_reporting = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    revenue_reporting_currency = models.CharField(max_length=3, blank=True)
    duration_ms = models.BigIntegerField(null=True)
    scroll_depth = models.SmallIntegerField(null=True)
    interactive = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["site", "timestamp"], name="event_site_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} {self.path} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class VisitorSalt(models.Model):
    """The secret mixed into visitor hashes for one UTC day; deleted after two days."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"salt for {self.day}"


class DroppedEventCount(models.Model):
    """How many hits a site dropped on purpose on one day, by reason (bots, excluded IPs…)."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=32)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "day", "reason"], name="uniq_drop_count")
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.reason}: {self.count}"


class DeadLetter(models.Model):
    """A buffered event the consumer could not write; an admin can inspect and replay it."""

    stream_id = models.CharField(max_length=64)
    payload = models.TextField()
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"dead letter {self.stream_id}"
