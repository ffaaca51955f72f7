"""Newest-first lists over a period split where the rollups stop: ``NewestFirst`` pages
events over consecutive spans, ``NewestGroups`` pages sessions or visitors grouped from
the newest events (the identity-js ``/sessions`` and ``/visitors`` on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from stats.models import RolledEvent, SessionDay
from stats.query import (
    SESSION_SCOPED,
    StatsQuery,
    active_since,
    latest_event_at,
    scoped_events,
    scoped_sql,
    split,
    union_sql,
)
from stats.selectors.periods import Period, events_in
from stats.selectors.visitor_filters import VISITOR_FILTER_COLUMNS

# What a session's ``click_count`` counts: the click signals of the snippet (rage, dead and
# phantom clicks), outbound-link and download clicks, and events named ``click``; never
# form, web-vitals, reading or SEO signals, nor other custom events.
CLICK_BEHAVIOURS = ("rage_click", "dead_click", "phantom_click", "click")
CLICK_EVENTS = ("Outbound Link: Click", "File Download", "click")
CLICKS = Q(kind="behaviour", name__in=CLICK_BEHAVIOURS) | Q(kind="custom", name__in=CLICK_EVENTS)


class NewestFirst:
    """Querysets over consecutive, disjoint time spans (newest span first), each ordered
    newest first, paged as one list: what ``paginate`` needs (``count`` and slices)."""

    def __init__(self, parts: list[QuerySet]):
        self.parts = parts
        self._counts: list[int] | None = None

    def _part_counts(self) -> list[int]:
        if self._counts is None:
            self._counts = [part.count() for part in self.parts]
        return self._counts

    def count(self) -> int:
        return sum(self._part_counts())

    def __getitem__(self, page: slice) -> list:
        start, stop = page.start or 0, page.stop
        rows: list = []
        for part, size in zip(self.parts, self._part_counts(), strict=True):
            if stop is not None and stop <= 0:
                break
            if start < size:
                rows.extend(part[start:stop])
            start = max(0, start - size)
            stop = None if stop is None else stop - size
        return rows


def spans(site_id: int, period: Period):
    """The period split where the rollups stop: (the rolled-up days as a ``StatsQuery`` or
    None, their ``RolledEvent`` rows or None, the raw events of the other days or None, and
    those days as a ``StatsQuery`` or None).
    Rolled-up events are the raw events of past days, copied narrow and together per
    site-day; the raw span is the newer one."""
    if period.first_day is None or period.last_day is None:
        return None, None, events_in(site_id, period), None
    rolled, rest = split(StatsQuery(site_id, period.first_day, period.last_day, period.tz))
    return (
        rolled,
        rolled.events(RolledEvent) if rolled else None,
        rest.events() if rest else None,
        rest,
    )


def events_by_span(site_id: int, period: Period) -> list[QuerySet]:
    """The period's events, newest span first (raw, then rolled-up)."""
    _rolled, rolled_events, raw_events, _rest = spans(site_id, period)
    return [part for part in (raw_events, rolled_events) if part is not None]


# Sessions and visitors of the lists, grouped from events read newest days first.
_SESSION_GROUPS_SQL = """
    SELECT session_id, min(visitor_id) AS visitor, min("timestamp") AS started,
           max("timestamp") AS ended,
           count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
           count(*) FILTER (WHERE kind = 'custom' AND interactive) AS interactions,
           count(*) FILTER (WHERE (kind = 'behaviour' AND name IN ({click_behaviours}))
                              OR (kind = 'custom' AND name IN ({click_events}))) AS clicks,
           max(scroll_depth) AS max_scroll, max(entry_path) AS entry,
           max(referrer) AS referrer_value, max(utm_source) AS utm, max(browser) AS browser_name,
           max(os) AS os_name, max(country_code) AS country, max(city) AS city_name
    FROM ({inner}) e GROUP BY session_id
    HAVING min("timestamp") >= %s AND max(entry_path) ILIKE %s
    ORDER BY started DESC, session_id DESC LIMIT %s
"""
_SESSION_COLUMNS = (
    "session_id", "visitor_id", "timestamp", "kind", "name", "interactive", "scroll_depth",
    "entry_path", "referrer", "utm_source", "browser", "os", "country_code", "city",
)  # fmt: skip
_VISITOR_GROUPS_SQL = """
    SELECT visitor_id, min("timestamp") AS first_seen, max("timestamp") AS last_seen,
           count(DISTINCT session_id) AS visits, max(browser) AS browser_name,
           max(browser_version) AS browser_ver, max(os) AS os_name, max(device_type) AS device,
           max(screen_width) AS width, max(screen_height) AS height, max(language) AS lang,
           max(country_code) AS country, max(city) AS city_name
    FROM ({inner}) e GROUP BY visitor_id HAVING max("timestamp") >= %s
    ORDER BY last_seen DESC, visitor_id LIMIT %s
"""
_VISITOR_COLUMNS = (
    "visitor_id", "timestamp", "session_id", "browser", "browser_version", "os",
    "device_type", "screen_width", "screen_height", "language", "country_code", "city",
)  # fmt: skip


def like_pattern(text: str) -> str:
    """An ``ILIKE`` pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class NewestGroups:
    """A list of sessions (or visitors) of a period, newest first, paged like a queryset.

    A page reads only the newest events: the sessions that started (the visitors last
    seen) at or after a time W all have events at W or later, so W moves back (1, 2, 4…
    hours before the newest event) until the window holds a full page or covers the
    period; the answer is exact. The
    total comes from the day's session rows (``SessionDay``) where the rollups cover them.

    Session scope (issue #13): rolled-up events and session rows store the sessions'
    values; raw events are filtered (``scoped_narrow``, on ``session_<column>``) and grouped
    on the values ``stats.query.scoped_events`` gives them, one pass of window functions
    over the raw days, so an event stored before its session had a value counts under it.
    """

    url_pattern = "%%"  # like_pattern(""): any URL

    def __init__(self, site_id: int, period: Period, *, key: str, narrow, scoped_narrow=None):
        self.site_id, self.period, self.key, self.narrow = site_id, period, key, narrow
        self.rolled, rolled_events, raw_events, self.raw_query = spans(site_id, period)
        self.raw = None
        if raw_events is not None and scoped_narrow is not None and self.raw_query is not None:
            # By id: the session values come from all the days' events, whatever else
            # (a window of recent sessions) narrows these rows later.
            scoped = scoped_narrow(scoped_events(self.raw_query, VISITOR_FILTER_COLUMNS))
            self.raw = raw_events.filter(id__in=scoped.values("id"))
        elif raw_events is not None:
            self.raw = narrow(raw_events)
        rolled = narrow(rolled_events) if rolled_events is not None else None
        self.parts = [part for part in (self.raw, rolled) if part is not None]
        self._total: int | None = None

    def _union(self, raw: QuerySet | None, others: list[QuerySet], columns) -> tuple[str, tuple]:
        """SQL selecting ``columns`` from ``raw`` (raw events, session-scoped columns as
        their sessions' values) and ``others`` (rows that store them), ``UNION ALL``."""
        scoped = self.raw_query is not None and any(c in SESSION_SCOPED for c in columns)
        if raw is None or not scoped:
            return union_sql([part for part in (raw, *others) if part is not None], columns)
        sql, params = scoped_sql(self.raw_query, tuple(columns), lambda _events: raw)
        if not others:
            return sql, params
        rest, rest_params = union_sql(others, columns)
        return f"({sql}) UNION ALL ({rest})", (*params, *rest_params)

    def count(self) -> int:
        if self._total is None:
            self._total = self._count()
        return self._total

    def _count(self) -> int:
        key, others = self.key, [part for part in self.parts if part is not self.raw]
        if self.rolled is not None:
            # Session rows: the same days as the rolled-up events, ~3x fewer rows.
            rows = SessionDay.objects.filter(
                site_id=self.site_id,
                tz=self.period.tz,
                day__gte=self.rolled.first_day,
                day__lte=self.rolled.last_day,
            )
            others = [self.narrow(rows)]
        by_url = key == "session_id" and self.url_pattern != like_pattern("")
        # Without a URL filter only ids are read: the session rows' covering index has them.
        inner, params = self._union(self.raw, others, (key, "entry_path") if by_url else (key,))
        if by_url:
            sql = (
                f"SELECT count(*) FROM (SELECT {key} FROM ({inner}) e GROUP BY {key} "  # noqa: S608
                "HAVING max(entry_path) ILIKE %s) x"
            )
            params = (*params, self.url_pattern)
        else:
            # count(DISTINCT) sorts plain integers: twice as fast as grouping here (measured).
            sql = f"SELECT count(DISTINCT {key}) FROM ({inner}) e"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def __getitem__(self, page: slice) -> list[dict]:
        wanted = page.stop
        start = self.period.start
        newest = latest_event_at(self.parts)
        if newest is None:
            return []
        span = 1
        while True:
            window = max(start, newest - timedelta(hours=span))
            rows = self._newest(window, wanted)
            if window == start or len(rows) >= wanted:
                return rows[page.start or 0 :]
            span *= 2

    def _newest(self, window: datetime, wanted: int) -> list[dict]:
        key = self.key
        recent = active_since(self.parts, key, window)
        if recent is None:
            return []
        columns = _SESSION_COLUMNS if key == "session_id" else _VISITOR_COLUMNS
        raw = self.raw.filter(recent) if self.raw is not None else None
        others = [part.filter(recent) for part in self.parts if part is not self.raw]
        inner, params = self._union(raw, others, columns)
        if key == "session_id":
            # The click names come first: they sit in the SELECT list, before the inner query.
            sql, head, tail = (
                _SESSION_GROUPS_SQL,
                (*CLICK_BEHAVIOURS, *CLICK_EVENTS),
                (window, self.url_pattern, wanted),
            )
        else:
            sql, head, tail = _VISITOR_GROUPS_SQL, (), (window, wanted)
        with connection.cursor() as cursor:
            cursor.execute(
                sql.format(
                    inner=inner,
                    click_behaviours=", ".join(["%s"] * len(CLICK_BEHAVIOURS)),
                    click_events=", ".join(["%s"] * len(CLICK_EVENTS)),
                ),
                (*head, *params, *tail),
            )
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
