"""Daily aggregates rolled up from raw events (``stats.rollups``)."""

from django.db import models


class DailySiteStats(models.Model):
    """One site's totals for one calendar day in a time zone (the site's when rolled up).

    Replaced as a whole when the day is rolled up again, so re-running is idempotent.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    tz = models.CharField(max_length=64)
    visitors = models.BigIntegerField(default=0)
    views = models.BigIntegerField(default=0)
    sessions = models.BigIntegerField(default=0)
    bounces = models.BigIntegerField(default=0)
    duration_ms = models.BigIntegerField(default=0)
    rolled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "day", "tz"], name="uniq_daily_site_stats")
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} ({self.tz})"


class RollupState(models.Model):
    """How far a site's rollups have read: events received after ``received_until`` are new."""

    site = models.OneToOneField("sites.Site", on_delete=models.CASCADE, related_name="+")
    received_until = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rollups of {self.site_id} up to {self.received_until}"


class DailyDimensionStats(models.Model):
    """One site-day's visitors, views and sessions per value of one breakdown dimension.

    ``value`` is the JSON array of the dimension's columns (``["DE", "DE-BE", "Berlin"]``).
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    tz = models.CharField(max_length=64)
    dimension = models.CharField(max_length=24)
    value = models.TextField()
    visitors = models.BigIntegerField(default=0)
    views = models.BigIntegerField(default=0)
    sessions = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["site", "tz", "dimension", "day"], name="daily_dimension_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.dimension}={self.value}"


class Goal(models.Model):
    """A conversion goal of a site: reaching a page (path pattern) or triggering an event."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="goals")
    name = models.CharField(max_length=200)
    path_pattern = models.CharField(
        max_length=500, blank=True, help_text="Regular expression matched against page paths."
    )
    event_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(path_pattern="", event_name=""), name="goal_has_a_target"
            )
        ]

    def __str__(self) -> str:
        return self.name
