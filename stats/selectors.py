"""Reads of visitor intelligence from raw events (the identity-js-style API).

Visitor and session ids are opaque on the API: ``v_`` / ``ses_`` and 16 hex digits of
the stored 64-bit ids. Raw IP addresses do not exist anywhere to be exposed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pycountry
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from stats.visitor_traits import BOT_BROWSER_PATTERN, bot_score, visitor_timezone
from tracking.models import Event

MAX_SESSION_EVENTS = 500
# What a session's ``click_count`` counts: the click signals of the snippet (rage, dead and
# phantom clicks), outbound-link and download clicks, and events named ``click``; never
# form, web-vitals, reading or SEO signals, nor other custom events.
CLICK_BEHAVIOURS = ("rage_click", "dead_click", "phantom_click", "click")
CLICK_EVENTS = ("Outbound Link: Click", "File Download", "click")
CLICKS = Q(kind="behaviour", name__in=CLICK_BEHAVIOURS) | Q(kind="custom", name__in=CLICK_EVENTS)


@dataclass(frozen=True)
class Period:
    """A date range in a site's time zone, as UTC datetimes [start, end)."""

    start: datetime
    end: datetime
    first_day: date | None = None
    last_day: date | None = None
    tz: str = "UTC"

    @classmethod
    def of_days(cls, first: date, last: date, tz: str) -> Period:
        zone = ZoneInfo(tz)
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        return cls(start, end, first, last, tz)


def public_visitor_id(visitor_id: int) -> str:
    return f"v_{visitor_id & 0xFFFFFFFFFFFFFFFF:016x}"


def public_session_id(session_id: int) -> str:
    return f"ses_{session_id & 0xFFFFFFFFFFFFFFFF:016x}"


def _internal(public: str, prefix: str) -> int | None:
    if not isinstance(public, str) or not public.startswith(prefix):
        return None
    try:
        value = int(public[len(prefix) :], 16)
    except ValueError:
        return None
    if not 0 <= value < 2**64:
        return None
    return value - 2**64 if value >= 2**63 else value


def visitor_id_from_public(public: str) -> int | None:
    return _internal(public, "v_")


def session_id_from_public(public: str) -> int | None:
    return _internal(public, "ses_")


def fingerprint_hash(site_id: int, visitor_id: int) -> str:
    """A salted hash standing in for a fingerprint (never reversible to an IP)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{site_id}:{visitor_id}".encode()).hexdigest()[:40]


def country_name(code: str) -> str | None:
    if not code:
        return None
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def epoch_ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def event_type_name(kind: str, name: str) -> str:
    """identity-js calls page views ``page_view``; other names are kept as sent."""
    return "page_view" if kind == "pageview" else name


def events_in(site_id: int, period: Period) -> QuerySet[Event]:
    return Event.objects.filter(
        site_id=site_id, timestamp__gte=period.start, timestamp__lt=period.end
    )


def event_type_counts(site_id: int, period: Period) -> list[dict]:
    rows = (
        events_in(site_id, period)
        .exclude(kind="heartbeat")
        .values("kind", "name")
        .annotate(count=Count("id"))
        .order_by("-count", "name")
    )
    counts: dict[str, int] = {}
    for row in rows:
        key = event_type_name(row["kind"], row["name"])
        counts[key] = counts.get(key, 0) + row["count"]
    return [
        {"name": name, "count": count}
        for name, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def _session_rows(site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""):
    events = events_in(site_id, period)
    if visitor_id is not None:
        events = events.filter(visitor_id=visitor_id)
    sessions = events.values("session_id").annotate(
        visitor=Min("visitor_id"),
        started=Min("timestamp"),
        ended=Max("timestamp"),
        pageviews=Count("id", filter=Q(kind="pageview")),
        interactions=Count("id", filter=Q(kind="custom", interactive=True)),
        clicks=Count("id", filter=CLICKS),
        max_scroll=Max("scroll_depth"),
        entry=Max("entry_path"),
        referrer_value=Max("referrer"),
        utm=Max("utm_source"),
        browser_name=Max("browser"),
        os_name=Max("os"),
        country=Max("country_code"),
        city_name=Max("city"),
    )
    if url:
        sessions = sessions.filter(entry__icontains=url)
    return sessions.order_by("-started")


def stats_summary(site_id: int, period: Period) -> dict:
    """Totals of a date range, read through the statistics query layer (rollups + today)."""
    from stats.query import StatsQuery, daily_metrics

    days = daily_metrics(StatsQuery(site_id, period.first_day, period.last_day, period.tz)).values()
    visitors, sessions, page_views, bounces, duration_ms = (
        sum(day[key] for day in days)
        for key in ("visitors", "sessions", "views", "bounces", "duration_ms")
    )
    events = events_in(site_id, period).exclude(kind__in=["pageview", "heartbeat"]).count()
    return {
        "visitors": visitors,
        "sessions": sessions,
        "page_views": page_views,
        "events": events,
        "bounce_rate": round(bounces / sessions, 4) if sessions else 0,
        "avg_session_duration_ms": int(duration_ms / sessions) if sessions else 0,
        "pages_per_session": round(page_views / sessions, 2) if sessions else 0,
    }


def top_pages(site_id: int, period: Period, limit: int = 10) -> dict:
    pageviews = events_in(site_id, period).filter(kind="pageview")
    pages = (
        pageviews.values("path")
        .annotate(views=Count("id"), unique_visitors=Count("visitor_id", distinct=True))
        .order_by("-views", "path")[:limit]
    )
    totals = pageviews.aggregate(views=Count("id"), sessions=Count("session_id", distinct=True))
    return {
        "top_pages": [
            {"url": p["path"], "views": p["views"], "unique_visitors": p["unique_visitors"]}
            for p in pages
        ],
        "avg_pages_per_session": round(totals["views"] / totals["sessions"], 2)
        if totals["sessions"]
        else 0,
    }


def live_visitors(site_id: int, threshold_minutes: int) -> list[dict]:
    since = timezone.now() - timedelta(minutes=threshold_minutes)
    recent = Event.objects.filter(site_id=site_id, timestamp__gte=since)
    latest = recent.values("visitor_id").annotate(last=Max("timestamp")).order_by("-last")[:500]
    last_by_visitor = {row["visitor_id"]: row["last"] for row in latest}
    visitors = []
    seen = set()
    for event in (
        recent.filter(visitor_id__in=list(last_by_visitor))
        .exclude(kind="heartbeat")
        .order_by("-timestamp")
    ):
        if event.visitor_id in seen:
            continue
        seen.add(event.visitor_id)
        visitors.append(
            {
                "visitor_id": public_visitor_id(event.visitor_id),
                "current_page": event.path,
                "browser_name": event.browser or None,
                "geo_country": country_name(event.country_code),
                "geo_city": event.city or None,
            }
        )
    return visitors


def _visitor_id_range(text: str) -> tuple[int, int] | None:
    """The stored ids whose public id starts with ``text`` (``v_`` and 1-16 hex digits, or
    16 hex digits alone), as one signed range: ids are shown as unsigned hex, so a prefix
    is an aligned block of the unsigned space, which never straddles the sign bit."""
    digits = text[2:] if text[:2].lower() == "v_" else (text if len(text) == 16 else "")
    if not 1 <= len(digits) <= 16 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return None
    shift = 4 * (16 - len(digits))
    low = int(digits, 16) << shift
    high = low + (1 << shift) - 1

    def signed(value: int) -> int:
        return value - 2**64 if value >= 2**63 else value

    return signed(low), signed(high)


def _country_codes(text: str) -> list[str]:
    """Codes of the countries whose name contains ``text`` (``serb`` → ``RS``)."""
    wanted = text.strip().casefold()
    if len(wanted) < 2:
        return []
    return [
        country.alpha_2
        for country in pycountry.countries
        if any(
            wanted in getattr(country, field, "").casefold()
            for field in ("name", "common_name", "official_name")
        )
    ]


def visitor_search(search: str, prefix: str = "") -> Q:
    """``search``: visitor id (prefix), browser, OS, city, country code or country name.
    ``prefix`` names the session-scoped columns (``stats.query.SCOPED_PREFIX``)."""
    condition = (
        Q(**{f"{prefix}browser__icontains": search})
        | Q(**{f"{prefix}os__icontains": search})
        | Q(**{f"{prefix}city__icontains": search})
        | Q(**{f"{prefix}country_code__iexact": search})
    )
    id_range = _visitor_id_range(search.strip())
    if id_range is not None:
        condition |= Q(visitor_id__gte=id_range[0], visitor_id__lte=id_range[1])
    codes = _country_codes(search)
    if codes:
        condition |= Q(**{f"{prefix}country_code__in": codes})
    return condition


# The session-scoped columns ``_visitor_filters`` reads.
_VISITOR_FILTER_COLUMNS = ("browser", "os", "country_code", "city")


def _visitor_filters(
    rows: QuerySet,
    *,
    browser: str,
    os: str,
    country: str,
    search: str,
    bots: bool = True,
    prefix: str = "",
):
    """The ``/visitors`` filters, on events or session rows (the same column names), or
    with ``prefix`` on raw events' session values (``stats.query.scoped_events``);
    ``bots=False`` leaves out automated clients' rows (``stats.visitor_traits``)."""
    if not bots:
        rows = rows.exclude(**{f"{prefix}browser__iregex": BOT_BROWSER_PATTERN})
    if browser:
        rows = rows.filter(**{f"{prefix}browser__iexact": browser})
    if os:
        rows = rows.filter(**{f"{prefix}os__iexact": os})
    if country:
        rows = rows.filter(**{f"{prefix}country_code__iexact": country})
    if search:
        rows = rows.filter(visitor_search(search, prefix))
    return rows


def visitor_rows(
    site_id: int,
    period: Period,
    *,
    browser: str = "",
    os: str = "",
    country: str = "",
    search: str = "",
    bots: bool = True,
):
    """The visitors of a period grouped by the ORM (the embedded default's ``/visitors``,
    the oracle of ``NewestGroups`` and ``visitor_detail``). The filters match the sessions'
    values (session scope) when the period is whole days; the values shown are the
    largest the visitor's events carry."""
    from stats.query import SCOPED_PREFIX, StatsQuery, scoped_events

    filters = {"browser": browser, "os": os, "country": country, "search": search, "bots": bots}
    events = events_in(site_id, period)
    if period.first_day is not None and period.last_day is not None:
        query = StatsQuery(site_id, period.first_day, period.last_day, period.tz)
        scoped = scoped_events(query, _VISITOR_FILTER_COLUMNS)
        matching = _visitor_filters(scoped, **filters, prefix=SCOPED_PREFIX)
        events = events.filter(id__in=matching.values("id"))
    else:
        events = _visitor_filters(events, **filters)
    return (
        events.values("visitor_id")
        .annotate(
            first_seen=Min("timestamp"),
            last_seen=Max("timestamp"),
            visits=Count("session_id", distinct=True),
            browser_name=Max("browser"),
            browser_ver=Max("browser_version"),
            os_name=Max("os"),
            device=Max("device_type"),
            width=Max("screen_width"),
            height=Max("screen_height"),
            lang=Max("language"),
            country=Max("country_code"),
            city_name=Max("city"),
        )
        .order_by("-last_seen", "visitor_id")
    )


def visitor_json(site_id: int, row: dict) -> dict:
    return {
        "visitor_id": public_visitor_id(row["visitor_id"]),
        "fingerprint_hash": fingerprint_hash(site_id, row["visitor_id"]),
        "first_seen_at": epoch_ms(row["first_seen"]),
        "last_seen_at": epoch_ms(row["last_seen"]),
        "visit_count": row["visits"],
        "browser_name": row["browser_name"] or None,
        "browser_version": row["browser_ver"] or None,
        "os": row["os_name"] or None,
        "mobile": 1 if row["device"] in ("mobile", "tablet") else 0,
        "screen_width": row["width"],
        "screen_height": row["height"],
        "timezone": visitor_timezone(row["country"], row["city_name"]),
        "language": row["lang"] or None,
        "geo_country": country_name(row["country"]),
        "geo_country_code": row["country"] or None,
        "geo_city": row["city_name"] or None,
        "bot_score": bot_score(row["browser_name"]),
        # Not measured: a blocker that stops the snippet leaves no events at all.
        "ad_block": None,
    }


def session_json(row: dict) -> dict:
    return {
        "session_id": public_session_id(row["session_id"]),
        "visitor_id": public_visitor_id(row["visitor"]),
        "url": row["entry"] or None,
        "referrer": row["referrer_value"] or None,
        "utm_source": row["utm"] or None,
        "started_at": epoch_ms(row["started"]),
        "ended_at": epoch_ms(row["ended"]),
        "duration_ms": int((row["ended"] - row["started"]).total_seconds() * 1000),
        "click_count": row["clicks"],
        "max_scroll_depth": row["max_scroll"],
        "browser_name": row["browser_name"] or None,
        "os": row["os_name"] or None,
        "geo_country_code": row["country"] or None,
        "geo_city": row["city_name"] or None,
    }


def event_json(event: Event) -> dict:
    data = {"url": event.path}
    if event.title:
        data["title"] = event.title
    if event.props:
        data["props"] = event.props
    if event.duration_ms is not None:
        data["duration_ms"] = event.duration_ms
    if event.scroll_depth is not None:
        data["scroll_depth"] = event.scroll_depth
    return {
        "id": str(event.id),
        "name": event_type_name(event.kind, event.name),
        "visitor_id": public_visitor_id(event.visitor_id),
        "session_id": public_session_id(event.session_id),
        "data": data,
        "created_at": epoch_ms(event.timestamp),
    }


def session_rows(site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""):
    return _session_rows(site_id, period, visitor_id=visitor_id, url=url)


def _bounds(site_id: int, **lookup) -> tuple[datetime, datetime] | None:
    """First and last event time of one session or visitor, all time: rolled-up days by
    index (``RolledEvent``), the days after them from raw events (no index by session or
    visitor there, but only a day or so of rows)."""
    from sites.models import Site
    from stats.models import RolledEvent
    from stats.rollups import rolled_until

    site = Site.objects.filter(pk=site_id).only("timezone").first()
    boundary = rolled_until(site_id, site.timezone) if site else None
    parts = [Event.objects.filter(site_id=site_id, **lookup)]
    if boundary is not None and connection.vendor == "postgresql":
        parts = [
            RolledEvent.objects.filter(site_id=site_id, timestamp__lt=boundary, **lookup),
            parts[0].filter(timestamp__gte=boundary),
        ]
    found = [part.aggregate(first=Min("timestamp"), last=Max("timestamp")) for part in parts]
    firsts = [f["first"] for f in found if f["first"] is not None]
    if not firsts:
        return None
    return min(firsts), max(f["last"] for f in found if f["last"] is not None)


def session_detail(site_id: int, session_id: int) -> dict | None:
    bounds = _bounds(site_id, session_id=session_id)
    if bounds is None:
        return None
    period = Period(bounds[0], bounds[1] + timedelta(microseconds=1))
    events = events_in(site_id, period).filter(session_id=session_id)
    row = session_rows(site_id, period).filter(session_id=session_id).first()
    if row is None:  # only rolled-up copies left (raw events past retention)
        return None
    detail = session_json(row)
    ordered = list(events.order_by("timestamp", "id")[:MAX_SESSION_EVENTS])
    detail["events"] = [event_json(e) for e in ordered]
    if visit := visit_attributes([e.props for e in ordered]):
        detail["visit"] = visit
    return detail


# Matomo's visit attributes, stored in event props by ``tracking.protocols.matomo``.
VISIT_ATTRIBUTES = {
    "visit_count": ("visit_number", int),
    "days_since_last_visit": ("days_since_last_visit", int),
    "days_since_first_visit": ("days_since_first_visit", int),
    "local_time": ("local_time", str),
    "plugins": ("plugins", lambda value: value.split(",")),
}


def visit_attributes(props: list[dict]) -> dict:
    """What a visit's events say about it (visit number, days since the last and first
    visits, the visitor's local time, browser plugins): each from the first event that
    has it, i.e. as of the visit's start."""
    visit: dict = {}
    for item in props:
        for key, (name, convert) in VISIT_ATTRIBUTES.items():
            value = item.get(key) if isinstance(item, dict) else None
            if name not in visit and isinstance(value, str) and value:
                try:
                    visit[name] = convert(value)
                except ValueError:
                    continue
    return visit


def visitor_detail(site_id: int, visitor_id: int) -> dict | None:
    bounds = _bounds(site_id, visitor_id=visitor_id)
    if bounds is None:
        return None
    period = Period(bounds[0], bounds[1] + timedelta(microseconds=1))
    events = events_in(site_id, period).filter(visitor_id=visitor_id)
    row = visitor_rows(site_id, period).filter(visitor_id=visitor_id).first()
    if row is None:  # only rolled-up copies left (raw events past retention)
        return None
    detail = visitor_json(site_id, row)
    detail["aliases"] = []
    detail["sessions"] = [
        {
            "session_id": s["session_id"],
            "url": s["url"],
            "started_at": s["started_at"],
            "duration_ms": s["duration_ms"],
        }
        for s in (
            session_json(r) for r in session_rows(site_id, period, visitor_id=visitor_id)[:50]
        )
    ]
    detail["events"] = [
        event_json(e) for e in events.exclude(kind="heartbeat").order_by("-timestamp")[:50]
    ]
    return detail


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


def _spans(site_id: int, period: Period):
    """The period split where the rollups stop: (the rolled-up days as a ``StatsQuery`` or
    None, their ``RolledEvent`` rows or None, the raw events of the other days or None, and
    those days as a ``StatsQuery`` or None).
    Rolled-up events are the raw events of past days, copied narrow and together per
    site-day; the raw span is the newer one."""
    from stats.models import RolledEvent
    from stats.query import StatsQuery, split

    if period.first_day is None or period.last_day is None:
        return None, None, events_in(site_id, period), None
    rolled, rest = split(StatsQuery(site_id, period.first_day, period.last_day, period.tz))
    return (
        rolled,
        rolled.events(RolledEvent) if rolled else None,
        rest.events() if rest else None,
        rest,
    )


def _events_by_span(site_id: int, period: Period) -> list[QuerySet]:
    """The period's events, newest span first (raw, then rolled-up)."""
    _rolled, rolled_events, raw_events, _rest = _spans(site_id, period)
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


def _like(text: str) -> str:
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

    url_pattern = "%%"  # _like(""): any URL

    def __init__(self, site_id: int, period: Period, *, key: str, narrow, scoped_narrow=None):
        from stats.query import scoped_events

        self.site_id, self.period, self.key, self.narrow = site_id, period, key, narrow
        self.rolled, rolled_events, raw_events, self.raw_query = _spans(site_id, period)
        self.raw = None
        if raw_events is not None and scoped_narrow is not None and self.raw_query is not None:
            # By id: the session values come from all the days' events, whatever else
            # (a window of recent sessions) narrows these rows later.
            scoped = scoped_narrow(scoped_events(self.raw_query, _VISITOR_FILTER_COLUMNS))
            self.raw = raw_events.filter(id__in=scoped.values("id"))
        elif raw_events is not None:
            self.raw = narrow(raw_events)
        rolled = narrow(rolled_events) if rolled_events is not None else None
        self.parts = [part for part in (self.raw, rolled) if part is not None]
        self._total: int | None = None

    def _union(self, raw: QuerySet | None, others: list[QuerySet], columns) -> tuple[str, tuple]:
        """SQL selecting ``columns`` from ``raw`` (raw events, session-scoped columns as
        their sessions' values) and ``others`` (rows that store them), ``UNION ALL``."""
        from stats.query import SESSION_SCOPED, scoped_sql, union_sql

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
        from stats.models import SessionDay

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
        by_url = key == "session_id" and self.url_pattern != _like("")
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
        from stats.query import latest_event_at

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
        from stats.query import active_since

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


def session_list(
    site_id: int, period: Period, *, visitor_id: int | None = None, url: str = ""
) -> NewestGroups | QuerySet:
    """The period's sessions, most recently started first (``/sessions``)."""
    if connection.vendor != "postgresql":  # the embedded default: small, grouped by the ORM
        return _session_rows(site_id, period, visitor_id=visitor_id, url=url)

    def narrow(rows):
        return rows.filter(visitor_id=visitor_id) if visitor_id is not None else rows

    sessions = NewestGroups(site_id, period, key="session_id", narrow=narrow)
    sessions.url_pattern = _like(url)
    return sessions


def visitor_list(
    site_id: int,
    period: Period,
    *,
    browser: str = "",
    os: str = "",
    country: str = "",
    search: str = "",
) -> NewestGroups | QuerySet:
    """The period's visitors, most recently seen first (``/visitors``). Events of automated
    clients (stored where a site keeps bots on purpose) are left out: the seed lists no
    visitor with ``bot_score > 40``."""
    if connection.vendor != "postgresql":  # the embedded default: small, grouped by the ORM
        return visitor_rows(
            site_id, period, browser=browser, os=os, country=country, search=search, bots=False
        )

    from stats.query import SCOPED_PREFIX

    def narrow(rows, prefix=""):
        return _visitor_filters(
            rows, browser=browser, os=os, country=country, search=search, bots=False, prefix=prefix
        )

    def scoped_narrow(events):
        return narrow(events, SCOPED_PREFIX)

    return NewestGroups(
        site_id, period, key="visitor_id", narrow=narrow, scoped_narrow=scoped_narrow
    )


def event_rows(
    site_id: int,
    period: Period,
    *,
    type: str = "",
    visitor_id: int | None = None,
    session_id: int | None = None,
) -> NewestFirst:
    """The period's events (heartbeats aside), newest first, with the API's filters."""
    parts = []
    for events in _events_by_span(site_id, period):
        events = events.exclude(kind="heartbeat")
        if type:
            events = (
                events.filter(kind="pageview")
                if type == "page_view"
                else events.filter(name=type).exclude(kind="pageview")
            )
        if visitor_id is not None:
            events = events.filter(visitor_id=visitor_id)
        if session_id is not None:
            events = events.filter(session_id=session_id)
        parts.append(events.order_by("-timestamp", "-id"))
    return NewestFirst(parts)


# --- Sites list ---------------------------------------------------------------------


def visitors_today_by_site(sites) -> dict[int, int]:
    """Today's unique visitors of each site (in its own time zone), in one query.

    The same definition as ``stats.query.totals`` for a one-day ``StatsQuery`` (distinct
    visitor ids of the local day), without a query per site.
    """
    from stats.query import StatsQuery

    now = timezone.now()
    condition = Q()
    for site in sites:
        today = now.astimezone(ZoneInfo(site.timezone)).date()
        query = StatsQuery(site.pk, today, today, site.timezone)
        condition |= Q(site_id=site.pk, timestamp__gte=query.start, timestamp__lt=query.end)
    if not condition:
        return {}
    rows = (
        Event.objects.filter(condition)
        .values("site_id")
        .annotate(visitors=Count("visitor_id", distinct=True))
        .order_by()
    )
    return {row["site_id"]: row["visitors"] for row in rows}


def site_trends(sites, days: int = 30) -> dict[int, dict]:
    """Each site's visitors per day over the last ``days`` days (today last) and today's count.

    Past days go through ``stats.query.visitor_series`` (rollups, so two small queries per
    site); today for every site comes from one query (``visitors_today_by_site``).
    """
    from stats.query import StatsQuery, visitor_series

    sites = list(sites)
    today_counts = visitors_today_by_site(sites)
    now = timezone.now()
    trends = {}
    for site in sites:
        today = now.astimezone(ZoneInfo(site.timezone)).date()
        past = visitor_series(
            StatsQuery(
                site.pk, today - timedelta(days=days - 1), today - timedelta(days=1), site.timezone
            )
        )
        series = [point["visitors"] for point in past] + [today_counts.get(site.pk, 0)]
        trends[site.pk] = {"today": series[-1], "series": series}
    return trends


# --- the site dashboard (``stats.views``) -----------------------------------------------


def first_event_day(site_id: int, tz: str) -> date | None:
    """The local day of a site's earliest event ("all time" starts there)."""
    first = Event.objects.filter(site_id=site_id).aggregate(first=Min("timestamp"))["first"]
    return first.astimezone(ZoneInfo(tz)).date() if first else None


def _change(current: float, previous: float) -> float | None:
    """Relative change; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) / previous, 4)


def dashboard_kpis(
    query, current_days: dict | None = None, previous_days: dict | None = None
) -> dict:
    """The dashboard's six headline figures for ``query`` and its previous period.

    Reads ``stats.query.daily_metrics`` once per period (rollups for past days, raw events
    for the rest) and derives every figure from it, so the KPI row costs two reads; a
    caller that already holds those per-day metrics passes them in.
    """
    from stats.query import concurrently, daily_metrics

    def summarise(days) -> dict:
        visitors, views, sessions, bounces, duration_ms = (
            sum(day[key] for day in days)
            for key in ("visitors", "views", "sessions", "bounces", "duration_ms")
        )
        return {
            "visitors": visitors,
            "visits": sessions,
            "views": views,
            "views_per_visit": round(views / sessions, 2) if sessions else 0,
            "bounce_rate": round(bounces / sessions, 4) if sessions else 0,
            "visit_duration": round(duration_ms / 1000 / sessions) if sessions else 0,
        }

    if current_days is None and previous_days is None:
        current_days, previous_days = concurrently(
            lambda: daily_metrics(query), lambda: daily_metrics(query.previous())
        )
    if current_days is None:
        current_days = daily_metrics(query)
    if previous_days is None:
        previous_days = daily_metrics(query.previous())
    current = summarise(current_days.values())
    previous = summarise(previous_days.values())
    return {
        key: {
            "value": current[key],
            "previous": previous[key],
            "change": _change(current[key], previous[key]),
        }
        for key in current
    }


def source_breakdown(query) -> list[dict]:
    """Visitors per referrer *name* (Google, Hacker News…), from the referrer breakdown;
    ``relative_visitors`` is a share of the period's visitors, as in every breakdown."""
    from stats.query import breakdown, period_visitors

    per_source: dict[str, dict] = {}
    for row in breakdown(query, "referrer"):
        source = row["source"] or ""
        entry = per_source.setdefault(
            source, {"source": source, "visitors": 0, "views": 0, "sessions": 0}
        )
        for key in ("visitors", "views", "sessions"):
            entry[key] += row[key]
    total = period_visitors(query) or 1
    rows = [
        {**r, "relative_visitors": round(r["visitors"] / total, 4)} for r in per_source.values()
    ]
    return sorted(rows, key=lambda r: (-r["visitors"], r["source"]))


def live_overview(site_id: int, seconds: int, limit: int = 10) -> dict:
    """Visitors active in the last ``seconds`` and where they are, what they read, whence."""
    from sites.models import Site
    from stats.query import active_visitors, recent_breakdown

    active = active_visitors(site_id, seconds)
    since = timezone.now() - timedelta(seconds=seconds)
    site = Site.objects.filter(pk=site_id).only("timezone").first()
    tz = site.timezone if site else "UTC"
    # Countries and sources are the sessions' (session scope, issue #13), not each recent
    # event's own: a heartbeat stored before its session had a place counts under it.
    return {
        "visitors": active["visitors"],
        "pages": active["stats"][:limit],
        "sources": recent_breakdown(site_id, tz, since, "source", limit),
        "countries": recent_breakdown(site_id, tz, since, "country_code", limit),
    }


def active_visitor_count(site_id: int, seconds: int) -> int:
    """Just the number, for the badge polled every few seconds."""
    since = timezone.now() - timedelta(seconds=seconds)
    return Event.objects.filter(site_id=site_id, timestamp__gte=since).aggregate(
        v=Count("visitor_id", distinct=True)
    )["v"]


def region_name(code: str) -> str:
    """ISO 3166-2 code → the subdivision's name (``DE-BE`` → Berlin); the code if unknown."""
    if not code:
        return ""
    subdivision = pycountry.subdivisions.get(code=code)
    return subdivision.name if subdivision else code
