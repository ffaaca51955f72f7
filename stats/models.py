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
    # Time on page: the sum and number of page-view-to-next-event gaps within the day.
    page_time_ms = models.BigIntegerField(default=0)
    page_time_count = models.BigIntegerField(default=0)
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


class SessionAttributeColumns(models.Model):
    """A session's attributes, as ``tracking.models.Event`` stores them on every event
    (``stats.query.SESSION_COLUMNS``); the tables that keep them per session share them."""

    hostname = models.CharField(max_length=253, blank=True)
    entry_path = models.CharField(max_length=2048, blank=True)
    referrer = models.CharField(max_length=512, blank=True)
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
    screen_class = models.CharField(max_length=4, blank=True)
    language = models.CharField(max_length=10, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=16, blank=True)
    city = models.CharField(max_length=128, blank=True)

    class Meta:
        abstract = True


class SessionDay(SessionAttributeColumns):
    """One session's events on one local day (the site's time zone), rolled up from raw events.

    Filtered statistics read these instead of raw events: a month of one site is ~3× fewer,
    much narrower rows, written together per site-day. Rows are grouped by the session's
    attributes as well (``SESSION_COLUMNS``), so a session whose attributes change within
    a day (a new language, another screen) gets one row per combination; every filter on
    those attributes then selects exactly the events the raw path would, and metrics are
    re-aggregated per (day, session) on read. Replaced with its site-day by the rollups.
    """

    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    tz = models.CharField(max_length=64)
    session_id = models.BigIntegerField()
    visitor_id = models.BigIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    pageviews = models.IntegerField(default=0)
    interactions = models.IntegerField(default=0)
    # The first event of the row (its id breaks timestamp ties) and its page.
    first_event_id = models.UUIDField()
    first_path = models.CharField(max_length=2048, blank=True)
    # The last page view of the row (None without page views); the id breaks timestamp ties.
    exit_at = models.DateTimeField(null=True)
    exit_event_id = models.UUIDField(null=True)
    exit_path = models.CharField(max_length=2048, blank=True)
    exit_title = models.CharField(max_length=512, blank=True)

    class Meta:
        indexes = [
            # Covering: totals of distinct sessions and visitors read the index alone.
            models.Index(
                fields=["site", "tz", "day"],
                include=["session_id", "visitor_id"],
                name="session_day_covering",
            ),
            models.Index(fields=["site", "session_id"], name="session_day_session"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} session {self.session_id}"


class SessionAttributes(SessionAttributeColumns):
    """One site's distinct combination of session attributes (``SESSION_COLUMNS``).

    Rolled-up events refer to it by id instead of repeating twenty text columns, which
    keeps ``stats_rolledevent`` narrow; ``key`` is a hash of the site and the values."""

    key = models.UUIDField(unique=True)
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.site_id} attributes {self.pk}"


class RolledEvent(SessionAttributeColumns):
    """A raw event of a rolled-up day, as statistics read it (PostgreSQL only).

    The rollups copy each past site-day's events into ``stats_rolledevent``: only the
    columns queries use, session attributes as a ``SessionAttributes`` id, rows of one
    site-day written together (the raw table interleaves every site's traffic). Queries
    with per-event filters or breakdowns read those rows for covered days instead of the
    raw table. This model is the view ``stats_rolledevent_view`` that joins the attributes
    back, so every ``Event`` filter and column name works on it unchanged; the table and the
    view are created by migration ``0006`` (see ``stats.rollups.ROLLED_EVENTS_SQL``).
    """

    id = models.UUIDField(primary_key=True)
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    timestamp = models.DateTimeField()
    kind = models.CharField(max_length=12)
    name = models.CharField(max_length=200)
    visitor_id = models.BigIntegerField()
    session_id = models.BigIntegerField()
    path = models.CharField(max_length=2048, blank=True)
    title = models.CharField(max_length=512, blank=True)
    props = models.JSONField(default=dict)
    interactive = models.BooleanField(default=True)
    duration_ms = models.BigIntegerField(null=True)
    scroll_depth = models.SmallIntegerField(null=True)
    screen_width = models.PositiveIntegerField(null=True)
    screen_height = models.PositiveIntegerField(null=True)
    # ``Event.revenue_reporting`` and its currency (migration ``0010``).
    revenue_reporting = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    revenue_reporting_currency = models.CharField(max_length=3, blank=True)

    class Meta:
        managed = False
        db_table = "stats_rolledevent_view"

    def __str__(self) -> str:
        return f"rolled {self.kind} {self.path} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class Funnel(models.Model):
    """A site's funnel: 2–8 ordered steps and how they are matched (``stats.funnels``).

    ``steps`` is a JSON list; each step is ``{"name": str, "alternatives": [...]}`` and each
    alternative ``{"type": "page", "path": "/a*"}``, ``{"type": "event", "name": "Signup",
    "props": {"plan": "pro"}}`` or ``{"type": "goal", "goal": <Goal id>}``; validated by
    ``stats.funnels.steps.parse_steps`` (docs/funnels.md)."""

    SCOPES = ("visitor", "session")
    ORDERS = ("sequential", "strict", "any")

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="funnels")
    name = models.CharField(max_length=200)
    steps = models.JSONField(default=list)
    scope = models.CharField(max_length=8, default="visitor")
    order = models.CharField(max_length=10, default="sequential")
    window_seconds = models.PositiveIntegerField(default=86_400)
    open = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Import(models.Model):
    """One import of history into a site (issue #16, docs/imports.md): a Plausible CSV export
    (its rows land in ``ImportedDay`` / ``ImportedBreakdownDay``) or raw events (they become
    native events). ``id`` is a hash of the site and the file's bytes, so the same file
    imported twice is one import. Statistics read an import's rows only once it is
    ``complete``; a failed or cancelled import keeps no rows."""

    PENDING, RUNNING, COMPLETE, FAILED, CANCELLED = (
        "pending",
        "running",
        "complete",
        "failed",
        "cancelled",
    )
    STATUSES = (PENDING, RUNNING, COMPLETE, FAILED, CANCELLED)
    KINDS = ("plausible", "events")

    id = models.CharField(max_length=40, primary_key=True)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)
    status = models.CharField(max_length=12, default=PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64)
    # Where the uploaded file waits for its task (removed when the task is done).
    stored_path = models.CharField(max_length=500, blank=True)
    rows = models.BigIntegerField(default=0)
    total_rows = models.BigIntegerField(default=0)
    percent = models.SmallIntegerField(default=0)
    days = models.IntegerField(default=0)
    first_day = models.DateField(null=True)
    last_day = models.DateField(null=True)
    error = models.TextField(blank=True)
    error_file = models.CharField(max_length=255, blank=True)
    error_line = models.IntegerField(null=True)
    error_column = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["site", "file_hash"], name="uniq_import_file"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.kind}, {self.status})"


class ImportedDay(models.Model):
    """A site's daily totals from Plausible's ``imported_visitors`` file, per import."""

    imported = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    visitors = models.BigIntegerField(default=0)
    pageviews = models.BigIntegerField(default=0)
    visits = models.BigIntegerField(default=0)
    bounces = models.BigIntegerField(default=0)
    visit_duration = models.BigIntegerField(default=0)  # seconds, summed over visits

    class Meta:
        indexes = [models.Index(fields=["site", "day"], name="imported_day_lookup")]

    def __str__(self) -> str:
        return f"{self.imported_id} {self.day}"


class ImportedBreakdownDay(models.Model):
    """One day's metrics for one value of one of Plausible's breakdown files, per import.

    ``table`` is the file's table without ``imported_`` (``sources``, ``pages``,
    ``entry_pages``, ``exit_pages``, ``custom_events``, ``custom_props``, ``locations``,
    ``devices``, ``browsers``, ``operating_systems``); only that table's dimension columns are
    set (``stats.plausible_csv.TABLES``), the others stay empty. Metrics a table does not
    have stay 0."""

    imported = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "sites.Site", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    table = models.CharField(max_length=24)
    day = models.DateField()
    source = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=512, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    hostname = models.CharField(max_length=253, blank=True)
    path = models.CharField(max_length=2048, blank=True)
    name = models.CharField(max_length=200, blank=True)
    link_url = models.CharField(max_length=2048, blank=True)
    property = models.CharField(max_length=300, blank=True)
    value = models.CharField(max_length=2000, blank=True)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=16, blank=True)
    city = models.BigIntegerField(default=0)  # a GeoNames id, as Plausible keeps it
    device = models.CharField(max_length=16, blank=True)
    browser = models.CharField(max_length=64, blank=True)
    browser_version = models.CharField(max_length=32, blank=True)
    os = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=32, blank=True)
    visitors = models.BigIntegerField(default=0)
    visits = models.BigIntegerField(default=0)
    pageviews = models.BigIntegerField(default=0)
    bounces = models.BigIntegerField(default=0)
    visit_duration = models.BigIntegerField(default=0)
    events = models.BigIntegerField(default=0)
    entrances = models.BigIntegerField(default=0)
    exits = models.BigIntegerField(default=0)
    total_scroll_depth = models.BigIntegerField(default=0)
    total_scroll_depth_visits = models.BigIntegerField(default=0)
    total_time_on_page = models.BigIntegerField(default=0)
    total_time_on_page_visits = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["site", "table", "day"], name="imported_breakdown_lookup"),
            models.Index(fields=["imported", "table"], name="imported_breakdown_import"),
        ]

    def __str__(self) -> str:
        return f"{self.imported_id} {self.table} {self.day}"


class ImportedSession(models.Model):
    """A session an ``events`` import wrote (its id derives from the import's, so no other
    import or live hit shares it): deleting the import removes the site's events of these
    sessions, and only those. Recorded before each chunk of events is written."""

    imported = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="+")
    session_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["imported", "session_id"], name="uniq_imported_session")
        ]

    def __str__(self) -> str:
        return f"{self.imported_id} {self.session_id}"
