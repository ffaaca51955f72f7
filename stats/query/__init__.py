"""One query layer for statistics: a ``StatsQuery`` answered from rollups or raw events.

Definitions (the same on both paths, so they always agree):
- a **day** is a calendar day in the query's time zone (the site's by default);
- **visitors** of a range are the sum over its days of the distinct visitors of each day
  (visitor ids rotate with the daily salt, so a visitor cannot be followed across days;
  this is also how Pirsch counts);
- **sessions** of a day are its distinct sessions; **views** its page views;
- a session **bounced** when it has at most one page view and no interactive custom event;
  **bounces** of a day count its bounced sessions;
- a session's **duration** is the time between its first and last event (heartbeats and
  keep-alives included).

Whole past days without filters come from ``DailySiteStats`` and ``DailyDimensionStats``,
filtered by session attributes from ``SessionDay``, and any other question about them from
``RolledEvent`` (the past days' events, narrow; see ``stats.rollups``). Days the rollups do
not cover yet (today, late data) are read from the raw events, with the same definitions.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, connections
from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import ExtractHour, FirstValue, TruncDate, TruncDay
from django.db.models.lookups import Exact, IContains
from django.utils import timezone

from stats import filter_values
from stats.models import RolledEvent, SessionDay
from tracking.models import Event
from tracking.protocols.matomo import uid_hash

# Filter parameter → event column (Pirsch's names).
FILTER_FIELDS = {
    "path": "path",
    "entry_path": "entry_path",
    "language": "language",
    "country": "country_code",
    "region": "region",
    "city": "city",
    "referrer": "referrer",
    "referrer_name": "source",
    "channel": "channel",
    "os": "os",
    "os_version": "os_version",
    "browser": "browser",
    "browser_version": "browser_version",
    "platform": "device_type",
    "screen_class": "screen_class",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "title": "title",
    "hostname": "hostname",
}
BOUNCE = Q(pageviews__lte=1, interactions=0)
# A session's attributes: ``SessionDay`` rows are grouped by them, so filters on them can be
# answered from session rows exactly (see ``stats.models.SessionDay``).
SESSION_COLUMNS = (
    "hostname",
    "entry_path",
    "referrer",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device_type",
    "screen_class",
    "language",
    "country_code",
    "region",
    "city",
)
SESSION_FILTERS = frozenset(k for k, c in FILTER_FIELDS.items() if c in SESSION_COLUMNS)


@dataclass(frozen=True)
class ScopeGroup:
    """Session attributes taken together from one event. The first column is the key: an
    event whose key is one of ``weak`` does not say (so a later event may), and among such
    events an earlier entry of ``weak`` wins (a "Direct" over nothing at all)."""

    columns: tuple[str, ...]
    weak: tuple[str, ...] = ("",)

    def rank_sql(self) -> str:
        """SQL ranking an event for the group: 0 when it has a value (fixed literals)."""
        whens = " ".join(f"WHEN '{value}' THEN {n}" for n, value in enumerate(self.weak, 1))
        return f'(CASE "{self.columns[0]}" {whens} ELSE 0 END)'

    def rank(self) -> Case:
        """``rank_sql`` for the ORM."""
        whens = [
            When(**{self.columns[0]: value}, then=Value(n)) for n, value in enumerate(self.weak, 1)
        ]
        return Case(*whens, default=Value(0))


# Session-scoped attributes: on each local day, a session's value of a group is that of its
# first event (by time, then id) that has the group's key, else that of its first event
# with the best-ranked ``weak`` key. Every event of the session-day counts under it,
# whatever it carries itself (heartbeats, custom events and older rows often carry
# nothing). ``tracking.sessions`` stamps new events alike; this reads the rows already
# stored, including those written before their session had a value. Statistics take it
# from here everywhere: the rollups store it in session rows and rolled-up events, raw
# reads compute it (``scoped_events``). ``hostname`` belongs to the page, not the visit.
# docs/statistics.md, "Session scope".
SESSION_SCOPE = (
    ScopeGroup(("entry_path",)),
    ScopeGroup(
        (
            "channel",
            "referrer",
            "source",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
        ),
        ("Direct", ""),  # a direct hit says nothing: a later referrer fills it in
    ),
    ScopeGroup(("browser", "browser_version")),
    ScopeGroup(("os", "os_version")),
    ScopeGroup(("device_type",)),
    ScopeGroup(("screen_class",)),
    ScopeGroup(("language",)),
    ScopeGroup(("country_code", "region", "city")),
)
SESSION_SCOPED = {column: group for group in SESSION_SCOPE for column in group.columns}
SCOPED_PREFIX = "session_"  # raw events' annotations holding the session's values


def scoped_events(query: StatsQuery, columns) -> QuerySet[Event]:
    """The range's raw events (no filters), each annotated with its session's value of every
    session-scoped column in ``columns`` as ``session_<column>`` (window functions over the
    session's events of the local day)."""
    day = TruncDate("timestamp", tzinfo=query.zone)
    annotations = {}
    for column in columns:
        annotations[SCOPED_PREFIX + column] = Window(
            FirstValue(column),
            partition_by=[day, F("session_id")],
            order_by=[SESSION_SCOPED[column].rank().asc(), F("timestamp").asc(), F("id").asc()],
        )
    return Event.objects.filter(
        site_id=query.site_id, timestamp__gte=query.start, timestamp__lt=query.end
    ).annotate(**annotations)


def scoped_filter_names(filters: dict[str, list[str]]) -> list[str]:
    """The filters on session-scoped attributes."""
    return [name for name in filters if FILTER_FIELDS.get(name) in SESSION_SCOPED]


def milliseconds(delta: timedelta) -> int:
    """Whole milliseconds of a duration, exactly (no float rounding)."""
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class QueryError(ValueError):
    """A parameter is wrong: ``field`` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class StatsQuery:
    site_id: int
    first_day: date
    last_day: date
    tz: str = "UTC"
    filters: dict[str, list[str]] = field(default_factory=dict)
    # Read raw events only, never rollups: the reference every other path is checked against.
    raw: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.zone)

    def days(self) -> list[date]:
        return [
            self.first_day + timedelta(days=n)
            for n in range((self.last_day - self.first_day).days + 1)
        ]

    def previous(self) -> StatsQuery:
        """The period of equal length just before this one (for growth)."""
        length = (self.last_day - self.first_day).days + 1
        return dataclasses.replace(
            self,
            first_day=self.first_day - timedelta(days=length),
            last_day=self.first_day - timedelta(days=1),
        )

    # --- events ----------------------------------------------------------------
    def events(self, model: type[Event] | type[RolledEvent] = Event) -> QuerySet:
        """The range's events with the filters applied: raw (``Event``) by default, or the
        rolled-up copy of covered days (``RolledEvent``, same columns)."""
        events = model.objects.filter(
            site_id=self.site_id, timestamp__gte=self.start, timestamp__lt=self.end
        )
        filters = dict(self.filters)
        exit_paths = filters.pop("exit_path", None)
        if "uid" in filters:  # Matomo's User ID, stored only as its per-site hash
            filters["meta_uid"] = [*filters.get("meta_uid", []), *self._uid_hashes(filters)]
            del filters["uid"]
        events, filters = self._session_filtered(events, filters, model)
        events = apply_filters(events, filters)
        if exit_paths:
            events = events.filter(session_id__in=self._exiting_sessions(exit_paths, model))
        return events

    def _uid_hashes(self, filters: dict[str, list[str]]) -> list[str]:
        """``uid`` filter values (a user id in clear) as the hashes stored: only whole ids
        can match, so "contains" (``~``) means "is" and ``^`` means "is not" (``!``)."""
        hashes = []
        for value in filters["uid"]:
            prefix = value[:1] if value[:1] in ("!", "^", "~") else ""
            negation = "!" if prefix in ("!", "^") else ""
            hashes.append(negation + uid_hash(self.site_id, value[len(prefix) :]))
        return hashes

    def _session_filtered(
        self, events: QuerySet, filters: dict[str, list[str]], model
    ) -> tuple[QuerySet, dict[str, list[str]]]:
        """Raw events under the session-attribute filters, matched on the session's value
        (``SESSION_SCOPE``), and the filters left. Rolled-up events store that value."""
        names = scoped_filter_names(filters)
        if model is not Event or not names:
            return events, filters
        session = {name: filters[name] for name in names}
        matching = apply_filters(
            scoped_events(self, {FILTER_FIELDS[name] for name in names}),
            session,
            prefix=SCOPED_PREFIX,
        )
        rest = {name: values for name, values in filters.items() if name not in session}
        return events.filter(id__in=matching.values("id")), rest

    def _exiting_sessions(self, values: list[str], model=Event) -> QuerySet:
        """Sessions whose last page view in the range matches the ``exit_path`` values."""
        last_views = model.objects.filter(
            site_id=self.site_id,
            timestamp__gte=self.start,
            timestamp__lt=self.end,
            kind="pageview",
        ).annotate(
            exit_path=Window(
                FirstValue("path"),
                partition_by=[F("session_id")],
                order_by=[F("timestamp").desc(), F("id").desc()],
            )
        )
        positive, negative = Q(), Q()
        for value in values:
            condition, negated = _condition("exit_path", value)
            if negated:
                negative &= ~condition
            else:
                positive |= condition
        return last_views.filter(positive).filter(negative).values("session_id")

    def _local_day(self):
        return TruncDay("timestamp", tzinfo=self.zone)


def _today(query: StatsQuery) -> date:
    return timezone.now().astimezone(query.zone).date()


def _covered(query: StatsQuery) -> list[date]:
    """The days of the query the rollups cover: whole past days, in the site's time zone."""
    from stats.rollups import covered_days

    if query.raw:
        return []
    return covered_days(
        query.site_id,
        query.first_day,
        min(query.last_day, _today(query) - timedelta(days=1)),
        query.tz,
    )


def _after(query: StatsQuery, covered: list[date]) -> StatsQuery | None:
    """The query over the days after ``covered`` (covered days are a prefix), or None."""
    if covered and covered[-1] >= query.last_day:
        return None
    first = covered[-1] + timedelta(days=1) if covered else query.first_day
    return dataclasses.replace(query, first_day=first)


def uses_session_rows(query: StatsQuery) -> bool:
    """Whether filtered metrics come from ``SessionDay`` rows for covered days: every filter
    is a session attribute (PostgreSQL only; the embedded SQLite answers from raw events)."""
    return (
        bool(query.filters)
        and connection.vendor == "postgresql"
        and set(query.filters) <= SESSION_FILTERS
    )


def uses_rolled_events(query: StatsQuery) -> bool:
    """Whether covered days may be read from ``RolledEvent`` rows (PostgreSQL only). Not with
    ``exit_path``: its "last page view in the range" would change if the range were split."""
    return connection.vendor == "postgresql" and "exit_path" not in query.filters


def split(query: StatsQuery) -> tuple[StatsQuery | None, StatsQuery | None]:
    """The query as (days read from ``RolledEvent`` rows, days read from raw events): the
    covered days are a prefix of the range; either part may be None."""
    covered = _covered(query) if uses_rolled_events(query) else []
    if not covered:
        return None, query
    return dataclasses.replace(query, first_day=covered[0], last_day=covered[-1]), _after(
        query, covered
    )


def event_sets(query: StatsQuery) -> list[QuerySet]:
    """The query's events in at most two disjoint parts: ``RolledEvent`` rows for the days
    the rollups cover, raw events for the rest."""
    rolled, rest = split(query)
    return ([rolled.events(RolledEvent)] if rolled else []) + ([rest.events()] if rest else [])


def _events_sql(query: StatsQuery, *columns: str, refine=None) -> tuple[str, tuple]:
    """SQL selecting ``columns`` of the query's events from both parts (``UNION ALL``);
    ``refine`` narrows each part's queryset first (e.g. to one kind of event). Session-scoped
    columns are the session's values (``SESSION_SCOPE``): stored so in rolled-up events,
    computed for raw ones (so are session-attribute filters: read in the same pass)."""
    if not any(c in SESSION_SCOPED for c in columns) and not scoped_filter_names(query.filters):
        return union_sql([refine(qs) if refine else qs for qs in event_sets(query)], columns)
    rolled, rest = split(query)
    parts: list[tuple[str, tuple]] = []
    if rolled:
        events = rolled.events(RolledEvent)
        parts.append(_sql((refine(events) if refine else events).values(*columns)))
    if rest:
        parts.append(_scoped_sql(rest, columns, refine))
    return " UNION ALL ".join(f"({sql})" for sql, _ in parts), tuple(
        param for _, params in parts for param in params
    )


def _scoped_sql(query: StatsQuery, columns: tuple[str, ...], refine=None) -> tuple[str, tuple]:
    """SQL selecting ``columns`` of the query's raw events, session-scoped ones as the
    session's values: computed over all the range's events (one pass of window functions,
    which the session-attribute filters also read), then narrowed to the events the other
    filters (and ``refine``) keep, so a filter on one event never changes its session."""
    session = {name: query.filters[name] for name in scoped_filter_names(query.filters)}
    others = {name: values for name, values in query.filters.items() if name not in session}
    needed = {c for c in columns if c in SESSION_SCOPED} | {FILTER_FIELDS[n] for n in session}
    named = [SCOPED_PREFIX + c if c in SESSION_SCOPED else c for c in columns]
    windowed = apply_filters(
        scoped_events(dataclasses.replace(query, filters={}), needed), session, prefix=SCOPED_PREFIX
    )
    base, params = _sql(windowed.values(*dict.fromkeys(("id", *named))))
    select = ", ".join(
        f'w."{name}" AS "{column}"' for name, column in zip(named, columns, strict=True)
    )
    sql = f"SELECT {select} FROM ({base}) w"  # noqa: S608 - Django-built query, fixed column names
    if others or refine:
        events = dataclasses.replace(query, filters=others).events()
        kept, kept_params = _sql((refine(events) if refine else events).values("id"))
        sql, params = f"{sql} WHERE w.id IN ({kept})", (*params, *kept_params)
    return sql, tuple(params)


def scoped_sql(query: StatsQuery, columns: tuple[str, ...], refine) -> tuple[str, tuple]:
    """``_scoped_sql`` for other read modules (the identity-js lists): ``columns`` of the
    raw events ``refine`` keeps, session-scoped ones as their sessions' values."""
    return _scoped_sql(query, columns, refine)


def union_sql(parts: list[QuerySet], columns: tuple[str, ...]) -> tuple[str, tuple]:
    """SQL and parameters selecting ``columns`` from every queryset (``UNION ALL``)."""
    selected = [part.values(*columns) for part in parts]
    combined = selected[0].union(*selected[1:], all=True) if len(selected) > 1 else selected[0]
    return _sql(combined)


def session_days(query: StatsQuery, first: date, last: date) -> QuerySet[SessionDay]:
    """The query's ``SessionDay`` rows of [first, last], filters applied."""
    rows = SessionDay.objects.filter(
        site_id=query.site_id, tz=query.tz, day__gte=first, day__lte=last
    )
    return apply_filters(rows, query.filters)


def _condition(column, raw: str) -> tuple[Q, bool]:
    """One filter value → (condition, negated). ``!`` not, ``~`` contains, ``^`` not contains.
    ``column`` is a field name, or an expression (a meta or tag value: ``filter_values``)."""
    if not isinstance(column, str):
        lookup = IContains if raw[:1] in ("~", "^") else Exact
        value = raw[1:] if raw[:1] in ("!", "~", "^") else raw
        return Q(lookup(column, value)), raw[:1] in ("!", "^")
    if raw.startswith("!"):
        return Q(**{column: raw[1:]}), True
    if raw.startswith("~"):
        return Q(**{f"{column}__icontains": raw[1:]}), False
    if raw.startswith("^"):
        return Q(**{f"{column}__icontains": raw[1:]}), True
    return Q(**{column: raw}), False


def apply_filters(
    events: QuerySet[Event], filters: dict[str, list[str]], *, prefix: str = ""
) -> QuerySet[Event]:
    """Repeated values of one filter are ORed; different filters are ANDed. ``prefix`` names
    annotations to match instead of the attribute columns (``scoped_events``)."""
    for name, values in filters.items():
        if name == "pattern":
            for pattern in values:
                events = events.filter(path__regex=pattern)
            continue
        if name == "event":
            column = "name"
            events = events.filter(kind="custom")
        elif name == "event_meta_key":
            events = events.filter(kind="custom", props__has_any_keys=values)
            continue
        elif name.startswith(("meta_", "tag_")):
            column = filter_values.json_key_column(name)  # the key as a value, never a lookup
        else:
            column = prefix + FILTER_FIELDS[name]
        positive, negative = Q(), Q()
        for value in values:
            condition, negated = _condition(column, value)
            if negated:
                negative &= ~condition
            else:
                positive |= condition
        events = events.filter(positive).filter(negative)
    return events


def validate_filters(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filter parameters of a request; a bad regular expression is a ``QueryError``."""
    filters: dict[str, list[str]] = {}
    for name, values in params.items():
        values = [v for v in values if v != ""]
        if not values:
            continue
        if (
            name in FILTER_FIELDS
            or name in ("pattern", "event", "event_meta_key", "exit_path", "uid")
            or name.startswith(("meta_", "tag_"))
        ):
            try:  # unsafe values are refused before they reach the database
                filter_values.json_key(name)
                for pattern in values if name == "pattern" else ():
                    filter_values.check_pattern(pattern)
            except filter_values.FilterValueError as exc:
                raise QueryError(exc.field, exc.message) from exc
            filters[name] = [filter_values.normalize_code(name, v) for v in values]
    return filters


# --- daily metrics (raw path) --------------------------------------------------------


def daily_from_events(query: StatsQuery) -> dict[date, dict]:
    """Visitors, views, sessions, bounces and duration per local day, from raw events.

    On PostgreSQL in one statement (sessions are grouped in the database, not in Python)."""
    if connection.vendor != "postgresql":
        return daily_from_events_orm(query)
    inner, params = _events_sql(
        query, "visitor_id", "session_id", "kind", "interactive", "timestamp"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH e AS MATERIALIZED (
                    SELECT *, ("timestamp" AT TIME ZONE %s)::date AS day FROM ({inner}) x),
                per_session AS (
                    SELECT day, count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
                           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
                           floor(extract(epoch FROM max("timestamp") - min("timestamp")) * 1000) AS ms
                    FROM e GROUP BY day, session_id)
                SELECT day, v.visitors, v.views, p.sessions, p.bounces, p.ms
                FROM (SELECT day, count(DISTINCT visitor_id) AS visitors,
                             count(*) FILTER (WHERE kind = 'pageview') AS views
                      FROM e GROUP BY day) v
                JOIN (SELECT day, count(*) AS sessions,
                             count(*) FILTER (WHERE pageviews <= 1 AND interactions = 0) AS bounces,
                             coalesce(sum(ms), 0)::bigint AS ms
                      FROM per_session GROUP BY day) p USING (day)""",  # noqa: S608 - Django-built inner query
            (query.tz, *params),
        )
        return {
            day: {
                "visitors": visitors,
                "views": views,
                "sessions": sessions,
                "bounces": bounces,
                "duration_ms": int(ms),
            }
            for day, visitors, views, sessions, bounces, ms in cursor.fetchall()
        }


def daily_from_events_orm(query: StatsQuery) -> dict[date, dict]:
    """``daily_from_events`` through the ORM and Python (any database; the oracle's check)."""
    events = query.events()
    day = query._local_day()
    per_day = {
        row["day"].date(): {
            "visitors": row["visitors"],
            "views": row["views"],
            "sessions": row["sessions"],
            "bounces": 0,
            "duration_ms": 0,
        }
        for row in events.annotate(day=day)
        .values("day")
        .annotate(
            visitors=Count("visitor_id", distinct=True),
            views=Count("id", filter=Q(kind="pageview")),
            sessions=Count("session_id", distinct=True),
        )
    }
    sessions = (
        events.annotate(day=day)
        .values("day", "session_id")
        .annotate(
            pageviews=Count("id", filter=Q(kind="pageview")),
            interactions=Count("id", filter=Q(kind="custom", interactive=True)),
            first=Min("timestamp"),
            last=Max("timestamp"),
        )
    )
    for row in sessions:
        metrics = per_day[row["day"].date()]
        if row["pageviews"] <= 1 and row["interactions"] == 0:
            metrics["bounces"] += 1
        metrics["duration_ms"] += milliseconds(row["last"] - row["first"])
    return per_day


def daily_from_session_rows(query: StatsQuery, first: date, last: date) -> dict[date, dict]:
    """``daily_from_events`` for [first, last] from ``SessionDay`` rows (PostgreSQL).

    A session may have several rows a day (its attributes changed): bounces and durations
    are taken per (day, session) over the rows the filters kept, as the raw path does."""
    inner, params = _sql(
        session_days(query, first, last).values(
            "day", "session_id", "visitor_id", "pageviews", "interactions", "first_at", "last_at"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH s AS MATERIALIZED ({inner}),
                per_session AS (
                    SELECT day, sum(pageviews) AS pageviews, sum(interactions) AS interactions,
                           floor(extract(epoch FROM max(last_at) - min(first_at)) * 1000) AS ms
                    FROM s GROUP BY day, session_id)
                SELECT day, v.visitors, v.views, p.sessions, p.bounces, p.ms
                FROM (SELECT day, count(DISTINCT visitor_id) AS visitors, sum(pageviews) AS views
                      FROM s GROUP BY day) v
                JOIN (SELECT day, count(*) AS sessions,
                             count(*) FILTER (WHERE pageviews <= 1 AND interactions = 0) AS bounces,
                             coalesce(sum(ms), 0)::bigint AS ms
                      FROM per_session GROUP BY day) p USING (day)""",  # noqa: S608 - Django-built inner query
            params,
        )
        return {
            day: {
                "visitors": visitors,
                "views": int(views),
                "sessions": sessions,
                "bounces": bounces,
                "duration_ms": int(ms),
            }
            for day, visitors, views, sessions, bounces, ms in cursor.fetchall()
        }


ZERO_METRICS = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}


def daily_metrics(query: StatsQuery) -> dict[date, dict]:
    """Per-day metrics for covered days from the rollups (no filters) or session rows (session
    filters); raw events for the rest (today, other time zones, event filters)."""
    from stats.rollups import rolled_up_days

    covered = _covered(query)
    rolled: dict[date, dict] = {}
    if covered and not query.filters:
        rolled = rolled_up_days(query.site_id, covered[0], covered[-1], query.tz)
    elif covered and uses_session_rows(query):
        rolled = {day: dict(ZERO_METRICS) for day in covered}
        rolled.update(daily_from_session_rows(query, covered[0], covered[-1]))
    else:
        covered = []
    rest = _after(query, covered)
    if rest is None:
        return rolled
    return {**daily_from_events(rest), **rolled}


def _bucket(day: date, scale: str) -> date:
    if scale == "week":
        return day - timedelta(days=day.weekday())
    if scale == "month":
        return day.replace(day=1)
    if scale == "year":
        return day.replace(month=1, day=1)
    return day


def scale_fields(start: date, scale: str) -> dict:
    """Pirsch's ``day``/``week``/``month``/``year`` fields: only the chosen scale's is set."""
    stamp = datetime.combine(start, time.min).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {name: stamp if name == scale else None for name in ("day", "week", "month", "year")}


def visitor_series(query: StatsQuery, scale: str = "day") -> list[dict]:
    """Pirsch's ``VisitorStats`` list: only the field of the chosen scale is set."""
    metrics = daily_metrics(query)
    buckets: dict[date, dict] = {}
    for day in query.days():
        bucket = buckets.setdefault(
            _bucket(day, scale), {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0}
        )
        for key in bucket:
            bucket[key] += metrics.get(day, {}).get(key, 0)
    series = []
    for start, values in sorted(buckets.items()):
        series.append(
            {
                **scale_fields(start, scale),
                **values,
                "bounce_rate": round(values["bounces"] / values["sessions"], 4)
                if values["sessions"]
                else 0,
            }
        )
    return series


def totals(query: StatsQuery) -> dict:
    """Pirsch's ``TotalVisitorStats``."""
    metrics = daily_metrics(query).values()
    visitors = sum(m["visitors"] for m in metrics)
    views = sum(m["views"] for m in metrics)
    sessions = sum(m["sessions"] for m in metrics)
    bounces = sum(m["bounces"] for m in metrics)
    return {
        "visitors": visitors,
        "views": views,
        "sessions": sessions,
        "bounces": bounces,
        "bounce_rate": round(bounces / sessions, 4) if sessions else 0,
        "cr": 0,
        "custom_metric_avg": 0,
        "custom_metric_total": 0,
    }


def _growth(current: float, previous: float) -> float:
    if not previous:
        return 0
    return round((current - previous) / previous, 4)


def concurrently(*calls):
    """The results of independent, read-only ``calls``, run at the same time on connections
    of their own (PostgreSQL gives each a backend, so two periods take one's time on two
    cores). Inside a transaction they run one after another on this connection, the only
    one that sees its uncommitted rows."""
    if len(calls) < 2 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return [call() for call in calls]

    def run(call):
        try:
            return call()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=len(calls) - 1) as pool:
        others = [pool.submit(run, call) for call in calls[1:]]
        first = calls[0]()
        return [first, *(future.result() for future in others)]


def growth(query: StatsQuery) -> dict:
    """Pirsch's ``Growth``: the change against the previous period of equal length."""
    now, before = (
        days.values()
        for days in concurrently(
            functools.partial(daily_metrics, query),
            functools.partial(daily_metrics, query.previous()),
        )
    )

    def total(values, key):
        return sum(m[key] for m in values)

    def average_seconds(values):
        sessions = total(values, "sessions")
        return total(values, "duration_ms") / 1000 / sessions if sessions else 0

    def rate(values):
        sessions = total(values, "sessions")
        return total(values, "bounces") / sessions if sessions else 0

    return {
        "visitors_growth": _growth(total(now, "visitors"), total(before, "visitors")),
        "views_growth": _growth(total(now, "views"), total(before, "views")),
        "sessions_growth": _growth(total(now, "sessions"), total(before, "sessions")),
        "bounces_growth": _growth(rate(now), rate(before)),
        "time_spent_growth": _growth(average_seconds(now), average_seconds(before)),
        "cr_growth": 0,
        "custom_metric_avg_growth": 0,
        "custom_metric_total_growth": 0,
    }


# Breakdowns that are rolled up per day: name → (columns, kind of events counted).
DIMENSIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "page": (("path",), "pageview"),
    "entry": (("entry_path",), "pageview"),
    "referrer": (("referrer", "source"), None),
    "channel": (("channel",), None),
    "utm_source": (("utm_source",), None),
    "utm_medium": (("utm_medium",), None),
    "utm_campaign": (("utm_campaign",), None),
    "utm_content": (("utm_content",), None),
    "utm_term": (("utm_term",), None),
    "country": (("country_code",), None),
    "region": (("country_code", "region"), None),
    "city": (("country_code", "region", "city"), None),
    "browser": (("browser",), None),
    "browser_version": (("browser", "browser_version"), None),
    "os": (("os",), None),
    "os_version": (("os", "os_version"), None),
    "platform": (("device_type",), None),
    "screen": (("screen_class",), None),
    "language": (("language",), None),
    "event": (("name",), "custom"),
    "hour": (("hour",), None),
}
# Dimension columns computed from the event time (SQL for the rollups, ORM for raw queries).
COMPUTED_COLUMNS = {"hour": """extract(hour FROM "timestamp" AT TIME ZONE %(tz)s)::int"""}
VALUE_SEPARATOR = "\x1f"


def dimension_days_from_events(query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
    """Per local day and value: visitors, views and sessions, from raw events."""
    columns, kind = DIMENSIONS[dimension]
    if connection.vendor == "postgresql":
        return _dimension_days_sql(query, columns, kind)
    if any(column in SESSION_SCOPED for column in columns):
        return _scoped_dimension_days(query, columns, kind)
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for events in event_sets(query):  # disjoint days: their per-day rows never collide
        if kind:
            events = events.filter(kind=kind)
        if "hour" in columns:
            events = events.annotate(hour=ExtractHour("timestamp", tzinfo=query.zone))
        for row in (
            events.annotate(day=query._local_day())
            .values(*columns, "day")
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                views=Count("id", filter=Q(kind="pageview")),
                sessions=Count("session_id", distinct=True),
            )
        ):
            per_day[row["day"].date()][tuple(row[c] for c in columns)] = {
                "visitors": row["visitors"],
                "views": row["views"],
                "sessions": row["sessions"],
            }
    return per_day


def _scoped_dimension_days(
    query: StatsQuery, columns: tuple[str, ...], kind: str | None
) -> dict[date, dict[tuple, dict]]:
    """``dimension_days_from_events`` of session-scoped columns through the ORM and Python
    (the embedded SQLite: raw events only, small sites)."""
    kept = None
    if query.filters or kind:
        events = query.events().filter(kind=kind) if kind else query.events()
        kept = set(events.values_list("id", flat=True))
    rows = (
        scoped_events(dataclasses.replace(query, filters={}), columns)
        .annotate(day=TruncDate("timestamp", tzinfo=query.zone))
        .values_list(
            "id", "day", "visitor_id", "session_id", "kind", *(SCOPED_PREFIX + c for c in columns)
        )
    )
    grouped: dict[tuple, dict] = {}
    for event_id, day, visitor_id, session_id, event_kind, *key in rows.iterator(chunk_size=5000):
        if kept is not None and event_id not in kept:
            continue
        row = grouped.setdefault((day, *key), {"visitors": set(), "sessions": set(), "views": 0})
        row["visitors"].add(visitor_id)
        row["sessions"].add(session_id)
        row["views"] += event_kind == "pageview"
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for (day, *key), row in grouped.items():
        per_day[day][tuple(key)] = {
            "visitors": len(row["visitors"]),
            "views": row["views"],
            "sessions": len(row["sessions"]),
        }
    return per_day


def _dimension_days_sql(
    query: StatsQuery, columns: tuple[str, ...], kind: str | None
) -> dict[date, dict[tuple, dict]]:
    """``dimension_days_from_events`` on PostgreSQL, in one statement that counts distinct
    visitors and sessions by grouping first: hash aggregates, where ``count(DISTINCT)``
    sorts every row by the value's collation (docs/performance.md)."""
    stored = [c for c in columns if c not in COMPUTED_COLUMNS]
    inner, inner_params = _events_sql(
        query,
        *dict.fromkeys((*stored, "visitor_id", "session_id", "kind", "timestamp")),
        refine=(lambda events: events.filter(kind=kind)) if kind else None,
    )
    values, params = [], [query.tz]  # the day's time zone comes first
    for column in columns:
        if column in COMPUTED_COLUMNS:
            values.append(f"{COMPUTED_COLUMNS[column] % {'tz': '%s'}} AS {column}")
            params.append(query.tz)
        else:
            values.append(f'"{column}"')
    keys = ", ".join(f'"{c}"' for c in columns)
    sql = f"""
        WITH e AS MATERIALIZED (
            SELECT ("timestamp" AT TIME ZONE %s)::date AS day, {", ".join(values)},
                   visitor_id, session_id, kind
            FROM ({inner}) x),
        v AS (SELECT day, {keys}, count(*) AS visitors
              FROM (SELECT DISTINCT day, {keys}, visitor_id FROM e) d GROUP BY day, {keys}),
        s AS (SELECT day, {keys}, count(*) AS sessions, sum(views) AS views
              FROM (SELECT day, {keys}, session_id,
                           count(*) FILTER (WHERE kind = 'pageview') AS views
                    FROM e GROUP BY day, {keys}, session_id) d
              GROUP BY day, {keys})
        SELECT day, {keys}, visitors, views, sessions FROM v JOIN s USING (day, {keys})"""  # noqa: S608 - Django-built inner query, fixed column names
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *inner_params))
        for day, *key, visitors, views, sessions in cursor.fetchall():
            per_day[day][tuple(key)] = {
                "visitors": visitors,
                "views": int(views),
                "sessions": sessions,
            }
    return per_day


def dimension_days_from_session_rows(
    query: StatsQuery, dimension: str, first: date, last: date
) -> dict[date, dict[tuple, dict]]:
    """``dimension_days_from_events`` for [first, last] from ``SessionDay`` rows."""
    columns, kind = DIMENSIONS[dimension]
    rows = session_days(query, first, last)
    if kind == "pageview":
        rows = rows.filter(pageviews__gt=0)
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    for row in rows.values("day", *columns).annotate(
        visitors=Count("visitor_id", distinct=True),
        views=Sum("pageviews"),
        sessions=Count("session_id", distinct=True),
    ):
        per_day[row["day"]][tuple(row[c] for c in columns)] = {
            "visitors": row["visitors"],
            "views": row["views"],
            "sessions": row["sessions"],
        }
    return per_day


# Breakdowns of session attributes (counting all events or page views) that session rows answer.
SESSION_DIMENSIONS = frozenset(
    name
    for name, (columns, kind) in DIMENSIONS.items()
    if set(columns) <= set(SESSION_COLUMNS) and kind in (None, "pageview")
)


def _dimension_days(query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
    """Per day and value: rollups (no filters) or session rows (session filters) for covered
    days, raw events for the rest. ``dimension`` may also be ``"exit"``."""
    from stats.rollups import rolled_up_dimension_days

    covered = _covered(query)
    per_day: dict[date, dict[tuple, dict]] = {}
    if covered and not query.filters:
        per_day = rolled_up_dimension_days(
            query.site_id, dimension, covered[0], covered[-1], query.tz
        )
    elif covered and uses_session_rows(query) and dimension in (*SESSION_DIMENSIONS, "exit"):
        per_day = {day: {} for day in covered}
        from_rows = (
            exit_days_from_session_rows
            if dimension == "exit"
            else functools.partial(dimension_days_from_session_rows, dimension=dimension)
        )
        per_day.update(from_rows(query, first=covered[0], last=covered[-1]))
    else:
        covered = []
    rest = _after(query, covered)
    if rest is not None:
        raw = (
            exit_days_from_events(rest)
            if dimension == "exit"
            else dimension_days_from_events(rest, dimension)
        )
        per_day.update(raw)
    return per_day


def breakdown(query: StatsQuery, dimension: str) -> list[dict]:
    """Visitors, views and sessions per value of a dimension, most visitors first.

    Whole past days come from the dimension rollups (no filters) or the session rows
    (filters on session attributes), the rest from raw events; visitors are summed over
    days, as everywhere. ``relative_visitors`` is a share of the period's visitors (under
    the same filters), so a visitor is never split between rows.
    """
    columns, _kind = DIMENSIONS[dimension]
    per_day = _dimension_days(query, dimension)
    rows: dict[tuple, dict] = defaultdict(lambda: {"visitors": 0, "views": 0, "sessions": 0})
    for values in per_day.values():
        for key, metrics in values.items():
            for name in ("visitors", "views", "sessions"):
                rows[key][name] += metrics[name]
    total_visitors = period_visitors(query) or 1
    total_views = sum(m["views"] for m in rows.values()) or 1
    result = [
        {
            **dict(zip(columns, key, strict=True)),
            **m,
            "relative_visitors": round(m["visitors"] / total_visitors, 4),
            "relative_views": round(m["views"] / total_views, 4),
        }
        for key, m in rows.items()
    ]
    result.sort(key=lambda r: (-r["visitors"], -r["views"], tuple(str(r[c]) for c in columns)))
    return result


def hours(query: StatsQuery) -> list[dict]:
    """Visitors, views and sessions per hour of the day (0–23, local time)."""
    per_hour = {h: {"hour": h, "visitors": 0, "views": 0, "sessions": 0} for h in range(24)}
    for row in breakdown(query, "hour"):
        per_hour[row["hour"]].update(
            visitors=row["visitors"], views=row["views"], sessions=row["sessions"]
        )
    return list(per_hour.values())


def recent_breakdown(site_id: int, tz: str, since: datetime, column: str, limit: int) -> list[dict]:
    """Visitors with an event since ``since`` per their session's value of the
    session-scoped ``column`` (``SESSION_SCOPE``), most first: the session's value is taken
    over its events of the local day, also those before ``since``, as statistics read it."""
    zone = ZoneInfo(tz)
    query = StatsQuery(
        site_id, since.astimezone(zone).date(), timezone.now().astimezone(zone).date(), tz
    )
    recent = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    # Whole sessions enter the window functions (a filter on sessions keeps every event of
    # theirs); only then are the recent events picked.
    events = (
        scoped_events(query, (column,))
        .filter(session_id__in=recent.values("session_id"))
        .annotate(is_recent=Case(When(timestamp__gte=since, then=Value(1)), default=Value(0)))
    )
    inner, params = _sql(events.values("visitor_id", "is_recent", SCOPED_PREFIX + column))
    sql = (
        f'SELECT w."{SCOPED_PREFIX}{column}", count(DISTINCT w.visitor_id) AS visitors '  # noqa: S608 - fixed column names, Django-built inner query
        f"FROM ({inner}) w WHERE w.is_recent = 1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, limit))
        return [{column: value, "visitors": visitors} for value, visitors in cursor.fetchall()]


def active_visitors(site_id: int, seconds: int) -> dict:
    """Pirsch's ``ActiveVisitorsData``: visitors and their pages in the last ``seconds``."""
    since = timezone.now() - timedelta(seconds=seconds)
    events = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    pages = (
        events.filter(kind="pageview")
        .values("path")
        .annotate(visitors=Count("visitor_id", distinct=True))
        .order_by("-visitors", "path")[:100]
    )
    return {
        "stats": [{"path": p["path"], "title": "", "visitors": p["visitors"]} for p in pages],
        "visitors": events.aggregate(v=Count("visitor_id", distinct=True))["v"],
    }


# --- session-level breakdowns (raw path) ---------------------------------------------


def session_summaries(
    query: StatsQuery, *, limit: int | None = None, offset: int = 0
) -> list[dict]:
    """One row per session with events in the range (newest first): entry, exit, page views,
    duration (first to last event, as everywhere), bounce. ``limit``/``offset`` page in the
    database on PostgreSQL."""
    if connection.vendor == "postgresql":
        return _session_summaries_sql(query, limit, offset)
    ordered = session_summaries_from_events(query)
    return ordered[offset : offset + limit] if limit is not None else ordered[offset:]


def session_summaries_from_events(query: StatsQuery) -> list[dict]:
    """``session_summaries`` of the whole range, from raw events in Python (any database)."""
    sessions: dict[int, dict] = {}
    rows = (
        query.events()
        .values_list(
            "session_id",
            "visitor_id",
            "timestamp",
            "kind",
            "path",
            "title",
            "interactive",
            "entry_path",
        )
        .order_by("session_id", "timestamp", "id")
    )
    for session_id, visitor_id, at, kind, path, title, interactive, entry_path in rows.iterator(
        chunk_size=5000
    ):
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = {
                "session_id": session_id,
                "visitor_id": visitor_id,
                "start": at,
                "end": at,
                "entry_path": "",
                "first_path": path,
                "first_day": at.astimezone(query.zone).date(),
                "exit_path": "",
                "exit_title": "",
                "page_views": 0,
                "interactions": 0,
            }
        session["end"] = at
        session["visitor_id"] = min(session["visitor_id"], visitor_id)
        if not session["entry_path"] and at.astimezone(query.zone).date() == session["first_day"]:
            # The first day's first entry page given (as on session rows), else its first page.
            session["entry_path"] = entry_path
        if kind == "pageview":
            session["page_views"] += 1
            session["exit_path"], session["exit_title"] = path, title
        elif kind == "custom" and interactive:
            session["interactions"] += 1
    for session in sessions.values():
        first_path = session.pop("first_path")
        del session["first_day"]
        session["entry_path"] = session["entry_path"] or first_path
        session["duration_ms"] = milliseconds(session["end"] - session["start"])
        session["is_bounce"] = session["page_views"] <= 1 and session["interactions"] == 0
    return sorted(sessions.values(), key=lambda s: (s["start"], s["session_id"]), reverse=True)


# The columns a session row contributes to the session list, in this order.
_LIST_COLUMNS = (
    "day",
    "session_id",
    "visitor_id",
    "first_at",
    "last_at",
    "pageviews",
    "interactions",
    "first_event_id",
    "first_path",
    "entry_path",
    "exit_at",
    "exit_event_id",
    "exit_path",
    "exit_title",
)
# Raw events grouped like ``SessionDay`` rows (enough of them for the session list).
_RAW_SESSION_DAYS_SQL = """
    SELECT ("timestamp" AT TIME ZONE %s)::date AS day, session_id, visitor_id,
           min("timestamp") AS first_at, max("timestamp") AS last_at,
           count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
           (array_agg(id ORDER BY "timestamp", id))[1] AS first_event_id,
           (array_agg(path ORDER BY "timestamp", id))[1] AS first_path,
           (array_agg(entry_path ORDER BY entry_path = '', "timestamp", id))[1] AS entry_path,
           max("timestamp") FILTER (WHERE kind = 'pageview') AS exit_at,
           (array_agg(id ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_event_id,
           (array_agg(path ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_path,
           (array_agg(title ORDER BY "timestamp" DESC, id DESC) FILTER (WHERE kind = 'pageview'))[1] AS exit_title
    FROM ({inner}) e GROUP BY 1, session_id, visitor_id
"""
# The event columns ``_RAW_SESSION_DAYS_SQL`` groups.
_RAW_SESSION_DAY_INPUTS = (
    "session_id", "visitor_id", "timestamp", "id", "kind", "path", "title", "interactive",
    "entry_path",
)  # fmt: skip
_NO_SESSION_ROWS = f"SELECT {', '.join(_LIST_COLUMNS)} FROM stats_sessionday WHERE false"  # noqa: S608
_SESSION_LIST_SQL = """
    WITH raw AS MATERIALIZED ({raw}),
    recent AS ({recent_rows} UNION SELECT session_id FROM raw),
    rows AS (SELECT {columns} FROM ({rows}) c WHERE session_id IN (SELECT session_id FROM recent)
             UNION ALL SELECT {columns} FROM raw)
    SELECT session_id, min(visitor_id), min(first_at) AS start, max(last_at),
           (array_agg(coalesce(nullif(entry_path, ''), first_path) ORDER BY first_at, first_event_id))[1],
           (array_agg(exit_path ORDER BY exit_at DESC, exit_event_id DESC) FILTER (WHERE exit_at IS NOT NULL))[1],
           (array_agg(exit_title ORDER BY exit_at DESC, exit_event_id DESC) FILTER (WHERE exit_at IS NOT NULL))[1],
           sum(pageviews), sum(interactions)
    FROM rows GROUP BY session_id HAVING min(first_at) >= %s
    ORDER BY start DESC, session_id DESC LIMIT %s
"""


def _raw_session_days(query: StatsQuery, rest: StatsQuery | None, window: datetime) -> tuple:
    """SQL grouping the events of ``rest`` (the days session rows do not answer) like session
    rows, for the sessions with events at or after ``window`` only: no other session can
    have started in the window. Under per-event filters ``rest`` is the whole range, read
    from ``RolledEvent`` rows and raw events."""
    if rest is None:
        return _NO_SESSION_ROWS, ()
    parts = event_sets(rest)
    if window > rest.start:
        recent = active_since(parts, "session_id", window)
        if recent is None:
            return _NO_SESSION_ROWS, ()
        parts = [part.filter(recent) for part in parts]
    inner, params = union_sql(parts, _RAW_SESSION_DAY_INPUTS)
    return _RAW_SESSION_DAYS_SQL.format(inner=inner), (query.tz, *params)


_NO_RECENT_ROWS = "SELECT NULL::bigint AS session_id WHERE false"
_MAX_LISTED_IDS = 5000  # ids looked up as a list; more as a subquery


def latest_event_at(parts: list[QuerySet]) -> datetime | None:
    """Just after the newest event of ``parts`` (None without events): where a newest-first
    window starts, so a quiet hour (or a site without traffic since last week) costs no
    empty windows. One backward index step per part."""
    newest = [
        at
        for part in parts
        for at in part.order_by("-timestamp").values_list("timestamp", flat=True)[:1]
    ]
    return max(newest) + timedelta(microseconds=1) if newest else None


def active_since(parts: list[QuerySet], key: str, since: datetime) -> Q | None:
    """A condition keeping the rows of the sessions (``key="session_id"``) or visitors with
    events at or after ``since`` in any of ``parts``; None when there are none.

    Up to a few thousand ids are passed as a list, which PostgreSQL looks up by index; a
    subquery would tend to make it scan the whole range and hash them."""
    window = [part.filter(timestamp__gte=since).values(key) for part in parts]
    inner, params = union_sql(window, (key,))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {key} FROM ({inner}) e LIMIT %s",  # noqa: S608 - fixed column name
            (*params, _MAX_LISTED_IDS + 1),
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return None
    if len(ids) <= _MAX_LISTED_IDS:
        return Q(**{f"{key}__in": ids})
    condition = Q()
    for subquery in window:
        condition |= Q(**{f"{key}__in": subquery})
    return condition


def _session_summaries_sql(query: StatsQuery, limit: int | None, offset: int) -> list[dict]:
    """Newest sessions first, from session rows (covered days) and raw events (the rest).

    Only the newest events are read: the sessions that started at or after a time W are
    those with events at W or later and none before; W moves back (1, 2, 4… hours before
    the range's newest event) until a page is full or the range is exhausted, so the
    answer is exact and a busy site reads about an hour of events."""
    by_session_rows = not query.filters or uses_session_rows(query)
    covered = _covered(query) if by_session_rows else []
    rest = _after(query, covered)
    wanted = offset + limit if limit is not None else None
    newest = latest_event_at(event_sets(dataclasses.replace(query, filters={})))
    if newest is None:
        return []
    rows_sql, rows_params = (
        _sql(session_days(query, covered[0], covered[-1]).values(*_LIST_COLUMNS))
        if covered
        else (_NO_SESSION_ROWS, ())
    )
    span = 1
    while True:
        window = max(query.start, newest - timedelta(hours=span))
        raw_sql, raw_params = _raw_session_days(query, rest, window)
        window_day = window.astimezone(query.zone).date()
        recent_sql, recent_params = _NO_RECENT_ROWS, ()
        if covered and window_day <= covered[-1]:
            recent_sql, recent_params = _sql(
                session_days(query, max(window_day, covered[0]), covered[-1])
                .filter(last_at__gte=window)
                .values("session_id")
            )
        # (JIT, which cost ~0.5 s here, is off for every connection: PG_SESSION_OPTIONS.)
        with connection.cursor() as cursor:
            cursor.execute(
                _SESSION_LIST_SQL.format(
                    raw=raw_sql,
                    recent_rows=recent_sql,
                    rows=rows_sql,
                    columns=", ".join(_LIST_COLUMNS),
                ),
                (
                    *raw_params,
                    *recent_params,
                    *rows_params,
                    window,
                    wanted if wanted is not None else 10**9,
                ),
            )
            rows = cursor.fetchall()
        if window == query.start or (wanted is not None and len(rows) >= wanted):
            break
        span *= 2
    return [
        {
            "session_id": sid,
            "visitor_id": vid,
            "start": start,
            "end": end,
            "entry_path": entry or "",
            "exit_path": exit_path or "",
            "exit_title": exit_title or "",
            "page_views": int(views),
            "interactions": int(inter),
            "duration_ms": milliseconds(end - start),
            "is_bounce": views <= 1 and inter == 0,
        }
        for sid, vid, start, end, entry, exit_path, exit_title, views, inter in rows[offset:]
    ]


def _sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, params


def exit_days_from_events(query: StatsQuery) -> dict[date, dict[tuple, dict]]:
    """Per local day, exits per (page, title): each session's last page view of the day.

    Like sessions, exits are counted per day (a session spanning midnight exits on both
    days); ``views`` and ``sessions`` are the exits, ``visitors`` the day's distinct ones."""
    events = query.events().filter(kind="pageview")
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    if connection.vendor == "postgresql":
        inner, params = _events_sql(
            query,
            *("session_id", "visitor_id", "path", "title", "timestamp", "id"),
            refine=lambda qs: qs.filter(kind="pageview"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT day, path, max(title), count(DISTINCT visitor_id), count(*) FROM (
                        SELECT DISTINCT ON (day, session_id) ("timestamp" AT TIME ZONE %s)::date AS day,
                               session_id, visitor_id, path, title
                        FROM ({inner}) e ORDER BY day, session_id, "timestamp" DESC, id DESC
                    ) x GROUP BY day, path""",  # noqa: S608 - Django-built inner query
                (query.tz, *params),
            )
            rows = cursor.fetchall()
    else:
        last: dict[tuple, tuple] = {}
        for session_id, visitor_id, path, title, at in events.order_by(
            "timestamp", "id"
        ).values_list("session_id", "visitor_id", "path", "title", "timestamp"):
            last[(at.astimezone(query.zone).date(), session_id)] = (visitor_id, path, title)
        grouped: dict[tuple, dict] = {}
        for (day, _session), (visitor_id, path, title) in last.items():
            row = grouped.setdefault((day, path), {"titles": [], "visitors": set(), "exits": 0})
            row["titles"].append(title)
            row["visitors"].add(visitor_id)
            row["exits"] += 1
        rows = [
            (day, path, max(r["titles"]), len(r["visitors"]), r["exits"])
            for (day, path), r in grouped.items()
        ]
    for day, path, title, visitors, exits in rows:
        per_day[day][(path, title)] = {"visitors": visitors, "views": exits, "sessions": exits}
    return per_day


def exit_days_from_session_rows(
    query: StatsQuery, first: date, last: date
) -> dict[date, dict[tuple, dict]]:
    """``exit_days_from_events`` for [first, last] from ``SessionDay`` rows."""
    inner, params = _sql(
        session_days(query, first, last)
        .filter(exit_at__isnull=False)
        .values(
            "day", "session_id", "visitor_id", "exit_path", "exit_title", "exit_at", "exit_event_id"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT day, exit_path, max(exit_title), count(DISTINCT visitor_id), count(*) FROM (
                    SELECT DISTINCT ON (day, session_id) day, session_id, visitor_id, exit_path, exit_title
                    FROM ({inner}) s ORDER BY day, session_id, exit_at DESC, exit_event_id DESC
                ) x GROUP BY day, exit_path""",  # noqa: S608 - Django-built inner query
            params,
        )
        per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
        for day, path, title, visitors, exits in cursor.fetchall():
            per_day[day][(path, title)] = {"visitors": visitors, "views": exits, "sessions": exits}
    return per_day


def exit_pages(query: StatsQuery) -> list[dict]:
    """Pirsch's ``ExitStats``: sessions ending on each page (per day, summed over days)."""
    per_path: dict[str, dict] = {}
    for values in _dimension_days(query, "exit").values():
        for (path, title), metrics in values.items():
            row = per_path.setdefault(
                path, {"path": path, "title": title, "visitors": 0, "exits": 0}
            )
            row["title"] = max(row["title"], title)
            row["visitors"] += metrics["visitors"]
            row["exits"] += metrics["sessions"]
    total = sum(r["exits"] for r in per_path.values()) or 1
    result = [
        {
            "path": r["path"],
            "title": r["title"],
            "visitors": r["visitors"],
            "sessions": r["exits"],
            "exits": r["exits"],
            "exit_rate": round(r["exits"] / total, 4),
        }
        for r in per_path.values()
    ]
    return sorted(result, key=lambda r: (-r["exits"], r["path"]))


MAX_PAGE_TIME_MS = 30 * 60_000  # one page visit's time on page is at most 30 minutes


def time_on_page(query: StatsQuery) -> dict[date, list[int]]:
    """Per local day, the time on page samples in milliseconds (at most 30 minutes each):
    a page visit (session, path, local day) with engagement events counts once, the sum of
    their engaged time (``duration_ms``: Plausible's ``e``, the snippet's ``active_ms``);
    a page view of a visit without any counts the gap to the session's next event that
    day (engagement signals excluded)."""
    if connection.vendor != "postgresql":
        return time_on_page_python(query)
    inner, params = _events_sql(
        query, "session_id", "kind", "timestamp", "id", "path", "duration_ms"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH e AS MATERIALIZED (
                    SELECT *, ("timestamp" AT TIME ZONE %s)::date AS day FROM ({inner}) x),
                engaged AS (
                    SELECT day, session_id, path, least(sum(duration_ms), %s)::bigint AS ms
                    FROM e WHERE kind = 'engagement' AND duration_ms IS NOT NULL
                    GROUP BY day, session_id, path)
                SELECT day, ms FROM engaged
                UNION ALL
                SELECT day, least(floor(extract(epoch FROM next_at - "timestamp") * 1000), %s)::bigint
                FROM (SELECT kind, "timestamp", day, session_id, path,
                             lead("timestamp") OVER (PARTITION BY session_id, day ORDER BY "timestamp", id) AS next_at
                      FROM e WHERE kind <> 'engagement') g
                WHERE kind = 'pageview' AND next_at IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM engaged n
                    WHERE n.day = g.day AND n.session_id = g.session_id AND n.path = g.path)""",  # noqa: S608 - Django-built inner query
            (query.tz, *params, MAX_PAGE_TIME_MS, MAX_PAGE_TIME_MS),
        )
        samples: dict[date, list[int]] = defaultdict(list)
        for day, ms in cursor.fetchall():
            samples[day].append(ms)
    return samples


def time_on_page_python(query: StatsQuery) -> dict[date, list[int]]:
    """``time_on_page`` through the ORM and Python (the embedded SQLite; any database)."""
    per_day: dict[date, list[int]] = defaultdict(list)
    rows = (
        query.events()
        .values_list("session_id", "timestamp", "kind", "path", "duration_ms")
        .order_by("session_id", "timestamp", "id")
    )
    for day, _path, ms in page_time_samples(rows.iterator(chunk_size=5000), query.zone):
        per_day[day].append(ms)
    return per_day


def page_time_samples(rows, zone: ZoneInfo):
    """(local day, path, ms) time on page samples of ``rows``: (session_id, timestamp, kind,
    path, duration_ms) ordered by session, time and id (``time_on_page``'s rule)."""
    engaged: dict[tuple, int] = {}
    gaps: list[tuple[tuple, int]] = []
    previous: tuple | None = None  # the session's last event other than engagement
    current = None  # the session of the last row

    def flush():
        for (_session, day, path), ms in engaged.items():
            yield day, path, min(ms, MAX_PAGE_TIME_MS)
        for key, ms in gaps:
            if key not in engaged:
                yield key[1], key[2], ms
        engaged.clear()
        gaps.clear()

    for session_id, at, kind, path, duration_ms in rows:
        if session_id != current:
            yield from flush()
            current, previous = session_id, None
        day = at.astimezone(zone).date()
        if kind == "engagement":
            if duration_ms is not None:
                key = (session_id, day, path)
                engaged[key] = engaged.get(key, 0) + duration_ms
            continue
        if previous and previous[:2] == (session_id, day) and previous[3] == "pageview":
            gap = min(milliseconds(at - previous[2]), MAX_PAGE_TIME_MS)
            gaps.append(((session_id, day, previous[4]), gap))
        previous = (session_id, day, at, kind, path)
    yield from flush()


def page_time_days_from_events(query: StatsQuery) -> dict[date, tuple[int, int]]:
    """Per local day, the sum and number of ``time_on_page`` gaps."""
    return {day: (sum(gaps), len(gaps)) for day, gaps in time_on_page(query).items()}


def _page_time_days(query: StatsQuery) -> dict[date, tuple[int, int]]:
    from stats.rollups import rolled_up_page_time

    covered = _covered(query) if not query.filters else []
    per_day = (
        rolled_up_page_time(query.site_id, covered[0], covered[-1], query.tz) if covered else {}
    )
    rest = _after(query, covered)
    if rest is not None:
        per_day.update(page_time_days_from_events(rest))
    return per_day


def duration_series(query: StatsQuery, scale: str, *, per_page: bool) -> list[dict]:
    """Pirsch's ``TimeSpentStats``: average session (or page) time per scale bucket."""
    buckets: dict[date, list[int]] = {}
    if per_page:
        page_time = _page_time_days(query)
        for day in query.days():
            total = buckets.setdefault(_bucket(day, scale), [0, 0])
            day_ms, day_count = page_time.get(day, (0, 0))
            total[0] += day_ms
            total[1] += day_count
        averages = {b: (t[0] / t[1] / 1000 if t[1] else 0) for b, t in buckets.items()}
    else:
        metrics = daily_metrics(query)
        sums: dict[date, list[int]] = {}
        for day in query.days():
            m = metrics.get(day, {})
            total = sums.setdefault(_bucket(day, scale), [0, 0])
            total[0] += m.get("duration_ms", 0)
            total[1] += m.get("sessions", 0)
        averages = {b: (t[0] / t[1] / 1000 if t[1] else 0) for b, t in sums.items()}
    series = []
    for start, average in sorted(averages.items()):
        series.append(
            {
                **scale_fields(start, scale),
                "average_time_spent_seconds": round(average),
            }
        )
    return series


def period_visitors(query: StatsQuery) -> int:
    """The period's visitors under the query's filters (as ``totals``): the denominator of
    shares. Like ``daily_metrics``, but the raw part counts visitors only."""
    from stats.rollups import rolled_up_days

    covered, visitors = _covered(query), 0
    if covered and not query.filters:
        days = rolled_up_days(query.site_id, covered[0], covered[-1], query.tz)
        visitors = sum(m["visitors"] for m in days.values())
    elif covered and uses_session_rows(query):
        days = daily_from_session_rows(query, covered[0], covered[-1])
        visitors = sum(m["visitors"] for m in days.values())
    else:
        covered = []
    rest = _after(query, covered)
    if rest is None:
        return visitors
    if connection.vendor != "postgresql":
        per_day = rest.events().annotate(day=rest._local_day()).values("day")
        return visitors + sum(
            row["n"] for row in per_day.annotate(n=Count("visitor_id", distinct=True))
        )
    inner, params = _events_sql(rest, "visitor_id", "timestamp")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM (SELECT DISTINCT ("timestamp" AT TIME ZONE %s)::date,
                visitor_id FROM ({inner}) e) d""",  # noqa: S608 - Django-built inner query
            (rest.tz, *params),
        )
        return visitors + cursor.fetchone()[0]


def _visitors_total(query: StatsQuery) -> int:
    return sum(
        m["visitors"] for m in daily_metrics(dataclasses.replace(query, filters={})).values()
    )


def _event_rows(query: StatsQuery, columns: tuple[str, ...], **where):
    """``columns`` of the query's events matching ``where``, from both parts, as tuples."""
    for events in event_sets(query):
        yield from events.filter(**where).values_list(*columns).iterator(chunk_size=5000)


def event_meta(query: StatsQuery, event_name: str, key: str) -> list[dict]:
    """Pirsch's ``EventStats`` per value of one meta key of one event."""
    per_value: dict[str, dict] = {}
    for props, visitor_id, duration in _event_rows(
        query,
        ("props", "visitor_id", "duration_ms"),
        kind="custom",
        name=event_name,
        props__has_key=key,
    ):
        value = str(props.get(key, ""))
        row = per_value.setdefault(value, {"visitors": set(), "views": 0, "durations": []})
        row["visitors"].add(visitor_id)
        row["views"] += 1
        if duration is not None:
            row["durations"].append(duration)
    all_visitors = _visitors_total(query) or 1
    result = [
        {
            "name": event_name,
            "meta_value": value,
            "visitors": len(r["visitors"]),
            "views": r["views"],
            "cr": round(len(r["visitors"]) / all_visitors, 4),
            "average_duration_seconds": round(sum(r["durations"]) / len(r["durations"]) / 1000)
            if r["durations"]
            else 0,
        }
        for value, r in per_value.items()
    ]
    return sorted(result, key=lambda r: (-r["visitors"], r["meta_value"]))


def event_list(query: StatsQuery) -> list[dict]:
    """Pirsch's ``EventListStats``: every event name with each distinct meta data."""
    grouped: dict[tuple, dict] = {}
    for name, props, visitor_id in _event_rows(
        query, ("name", "props", "visitor_id"), kind="custom"
    ):
        meta = {
            k: str(v)
            for k, v in sorted(props.items())
            if k != "tags" and not isinstance(v, dict | list)
        }
        row = grouped.setdefault(
            (name, tuple(meta.items())), {"name": name, "meta": meta, "visitors": set(), "count": 0}
        )
        row["visitors"].add(visitor_id)
        row["count"] += 1
    result = [
        {"name": r["name"], "meta": r["meta"], "visitors": len(r["visitors"]), "count": r["count"]}
        for r in grouped.values()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["name"], sorted(r["meta"].items())))


def event_pages(query: StatsQuery, event_name: str) -> list[dict]:
    """Pages on which an event was triggered."""
    inner, params = _events_sql(
        query, "path", "visitor_id", refine=lambda qs: qs.filter(kind="custom", name=event_name)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT path, count(DISTINCT visitor_id) AS visitors, count(*) AS views
                FROM ({inner}) e GROUP BY path ORDER BY visitors DESC, path""",  # noqa: S608 - Django-built inner query
            params,
        )
        rows = [{"path": p, "visitors": v, "views": n} for p, v, n in cursor.fetchall()]
    all_visitors = _visitors_total(query) or 1
    return [
        {
            "path": r["path"],
            "visitors": r["visitors"],
            "views": r["views"],
            "cr": round(r["visitors"] / all_visitors, 4),
        }
        for r in rows
    ]


def tags(query: StatsQuery, key: str | None = None) -> list[dict]:
    """Hit tags (Pirsch ``tags``): per key, or per value of ``key``."""
    counts: dict[str, dict] = {}
    for props, visitor_id, kind in _event_rows(
        query, ("props", "visitor_id", "kind"), props__has_key="tags"
    ):
        for tag_key, value in (props.get("tags") or {}).items():
            if key is not None and tag_key != key:
                continue
            label = tag_key if key is None else str(value)
            row = counts.setdefault(label, {"visitors": set(), "views": 0})
            row["visitors"].add(visitor_id)
            row["views"] += 1 if kind == "pageview" else 0
    total_visitors = sum(len(r["visitors"]) for r in counts.values()) or 1
    total_views = sum(r["views"] for r in counts.values()) or 1
    field_name = "key" if key is None else "value"
    result = [
        {
            field_name: label,
            "visitors": len(r["visitors"]),
            "views": r["views"],
            "relative_visitors": round(len(r["visitors"]) / total_visitors, 4),
            "relative_views": round(r["views"] / total_views, 4),
        }
        for label, r in counts.items()
    ]
    return sorted(result, key=lambda r: (-r["visitors"], r[field_name]))


def goals(query: StatsQuery) -> list[dict]:
    """Pirsch's ``ConversionGoal`` list: visitors who reached each goal and the rate."""
    from stats.models import Goal

    all_visitors = _visitors_total(query) or 1
    result = []
    for goal in Goal.objects.filter(site_id=query.site_id).order_by("name"):
        if goal.event_name:
            target = Q(kind="custom", name=goal.event_name)
        else:
            target = Q(kind="pageview", path__regex=goal.path_pattern)
        visitors = views = 0
        for events in event_sets(query):  # disjoint days: per-day counts add up
            for counts in (
                events.filter(target)
                .annotate(day=query._local_day())
                .values("day")
                .annotate(visitors=Count("visitor_id", distinct=True), views=Count("id"))
            ):
                visitors += counts["visitors"]
                views += counts["views"]
        result.append(
            {
                "page_goal": {
                    "id": goal.pk,
                    "name": goal.name,
                    "path_pattern": goal.path_pattern,
                    "event_name": goal.event_name,
                },
                "visitors": visitors,
                "views": views,
                "cr": round(visitors / all_visitors, 4),
            }
        )
    return result
