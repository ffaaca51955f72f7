"""Imported data as a statistics source (issue #16): the rows of complete Plausible imports
(``ImportedDay``, ``ImportedBreakdownDay``), per day, in Footfall's metrics. The planner
asks it first (``stats.query.plan.CLAIMANTS``): the days it claims are its own.

Which days an import answers (``coverage``):
- only complete imports; where two cover the same day, the one completed last;
- by default only days before the site's first native day (the earliest stored event or
  rolled-up day, in the site's time zone), so imported and native data never overlap;
- only queries in the site's time zone (imported rows are days of that zone).

What it can answer (``skip_reason``): totals without filters, and a breakdown or filters
that one imported table holds (``DIMENSIONS``, ``FILTERS``: a filter and a breakdown of
the same table, like Plausible). Anything else leaves imported data out with a reason.

Metrics: ``visitors`` are the summed daily visitors of the rows (as native data defines
them); ``views`` page views; ``sessions`` visits (entrances, exits); ``bounces`` and
``duration_ms`` (seconds × 1000) where the table has them. Imported custom events have no
visit count: their ``sessions`` are 0. A breakdown by a part of a table's key (e.g.
``utm_source`` of ``imported_sources``) sums the rows, so a visitor who came twice on one
day with different campaigns counts once per campaign, as in Plausible.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Min, Q, Sum

from stats import geonames
from stats.models import DailySiteStats, Import, ImportedBreakdownDay, ImportedDay
from stats.query.request import Measure, StatsQuery
from tracking.models import Event

# Footfall breakdown → (imported table, Footfall column → table field).
DIMENSIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "page": ("pages", (("path", "path"),)),
    "entry": ("entry_pages", (("entry_path", "path"),)),
    "exit": ("exit_pages", (("path", "path"), ("title", ""))),
    "referrer": ("sources", (("referrer", "referrer"), ("source", "source"))),
    "utm_source": ("sources", (("utm_source", "utm_source"),)),
    "utm_medium": ("sources", (("utm_medium", "utm_medium"),)),
    "utm_campaign": ("sources", (("utm_campaign", "utm_campaign"),)),
    "utm_content": ("sources", (("utm_content", "utm_content"),)),
    "utm_term": ("sources", (("utm_term", "utm_term"),)),
    "country": ("locations", (("country_code", "country"),)),
    "region": ("locations", (("country_code", "country"), ("region", "region"))),
    # ``city`` holds a GeoNames id: named with ``stats.geonames`` (``_city_names``).
    "city": ("locations", (("country_code", "country"), ("region", "region"), ("city", "city"))),
    "browser": ("browsers", (("browser", "browser"),)),
    "browser_version": (
        "browsers",
        (("browser", "browser"), ("browser_version", "browser_version")),
    ),
    "os": ("operating_systems", (("os", "os"),)),
    "os_version": ("operating_systems", (("os", "os"), ("os_version", "os_version"))),
    "platform": ("devices", (("device_type", "device"),)),
    "event": ("custom_events", (("name", "name"),)),
}
# Footfall filter → (imported table, table field).
FILTERS: dict[str, tuple[str, str]] = {
    "path": ("pages", "path"),
    "hostname": ("pages", "hostname"),
    "entry_path": ("entry_pages", "path"),
    "exit_path": ("exit_pages", "path"),
    "referrer": ("sources", "referrer"),
    "referrer_name": ("sources", "source"),
    "utm_source": ("sources", "utm_source"),
    "utm_medium": ("sources", "utm_medium"),
    "utm_campaign": ("sources", "utm_campaign"),
    "utm_content": ("sources", "utm_content"),
    "utm_term": ("sources", "utm_term"),
    "country": ("locations", "country"),
    "region": ("locations", "region"),
    "city": ("locations", "city"),
    "browser": ("browsers", "browser"),
    "browser_version": ("browsers", "browser_version"),
    "os": ("operating_systems", "os"),
    "os_version": ("operating_systems", "os_version"),
    "platform": ("devices", "device"),
    "event": ("custom_events", "name"),
}
# How a table's fields give Footfall's metrics.
VIEWS = {"custom_events": None}
SESSIONS = {"entry_pages": "entrances", "exit_pages": "exits", "custom_events": None}
WITH_BOUNCES = {
    "visitors",
    "sources",
    "entry_pages",
    "exit_pages",
    "locations",
    "devices",
    "browsers",
    "operating_systems",
}


@dataclass(frozen=True)
class Coverage:
    """The days each complete import answers: ``(import id, first day, last day)``."""

    spans: tuple[tuple[str, date, date], ...]

    def __bool__(self) -> bool:
        return bool(self.spans)

    def condition(self) -> Q:
        q = Q(pk__in=[])
        for import_id, first, last in self.spans:
            q |= Q(imported_id=import_id, day__gte=first, day__lte=last)
        return q

    def days(self) -> set[date]:
        return {
            first + timedelta(days=n)
            for _, first, last in self.spans
            for n in range((last - first).days + 1)
        }


def native_first_day(site_id: int, tz: str) -> date | None:
    """The site's first day with native data (stored events or rolled-up days)."""
    first_at = Event.objects.filter(site_id=site_id).aggregate(at=Min("timestamp"))["at"]
    first_rolled = DailySiteStats.objects.filter(site_id=site_id, tz=tz).aggregate(day=Min("day"))[
        "day"
    ]
    days = [d for d in (first_at and first_at.astimezone(ZoneInfo(tz)).date(), first_rolled) if d]
    return min(days) if days else None


CACHE_SECONDS = 300


def _cache_key(site_id: int) -> str:
    return f"footfall:imports:complete:{site_id}"


def complete_imports(site_id: int) -> list[tuple[str, date, date, str]]:
    """The site's complete Plausible imports (id, first day, last day, the site's time zone),
    oldest completion first. Cached: every statistic asks, and most sites have none, so a
    dashboard costs no query for it (``forget_complete_imports`` when one completes or
    goes)."""
    found = cache.get(_cache_key(site_id))
    if found is None:
        found = list(
            Import.objects.filter(site_id=site_id, kind="plausible", status=Import.COMPLETE)
            .order_by("finished_at", "pk")
            .values_list("pk", "first_day", "last_day", "site__timezone")
        )
        cache.set(_cache_key(site_id), found, CACHE_SECONDS)
    return found


def prime_complete_imports(site_ids: Iterable[int]) -> None:
    """Cache the complete imports of many sites with one query (the sites list reads every
    site's trend, and each read asks ``complete_imports``)."""
    keys = {site_id: _cache_key(site_id) for site_id in site_ids}
    cached = cache.get_many(list(keys.values()))
    found: dict[int, list[tuple[str, date, date, str]]] = {
        site_id: [] for site_id, key in keys.items() if key not in cached
    }
    if not found:
        return
    rows = (
        Import.objects.filter(site_id__in=found, kind="plausible", status=Import.COMPLETE)
        .order_by("finished_at", "pk")
        .values_list("site_id", "pk", "first_day", "last_day", "site__timezone")
    )
    for site_id, *row in rows:
        found[site_id].append(tuple(row))  # type: ignore[arg-type]
    cache.set_many({keys[site_id]: value for site_id, value in found.items()}, CACHE_SECONDS)


def forget_complete_imports(site_id: int) -> None:
    cache.delete(_cache_key(site_id))


def coverage(
    site_id: int, tz: str, first: date, last: date, *, before_native: bool = True
) -> Coverage:
    """Which complete import answers which days of [first, last] (``before_native``: only
    days before the site's first native day)."""
    imports = [i for i in complete_imports(site_id) if i[1] <= last and i[2] >= first]
    if not imports or imports[0][3] != tz:
        return Coverage(())
    if before_native:
        native = native_first_day(site_id, tz)
        if native is not None:
            last = min(last, native - timedelta(days=1))
    owner: dict[date, str] = {}
    for import_id, start, end, _tz in imports:  # later completions win
        day = max(start, first)
        while day <= min(end, last):
            owner[day] = import_id
            day += timedelta(days=1)
    spans: list[list] = []
    for day in sorted(owner):
        if spans and spans[-1][0] == owner[day] and spans[-1][2] == day - timedelta(days=1):
            spans[-1][2] = day
        else:
            spans.append([owner[day], day, day])
    return Coverage(tuple((i, a, b) for i, a, b in spans))


def skip_reason(filters: dict[str, list[str]], dimension: str | None = None) -> str | None:
    """Why imported data cannot answer these filters and breakdown (None when it can)."""
    tables = set()
    for name, values in filters.items():
        if name not in FILTERS:
            return f"imported data has no '{name}' to filter by"
        if any(v[:1] in ("~", "^") for v in values):
            return f"imported data can be filtered by exact values of '{name}' only"
        tables.add(FILTERS[name][0])
    if dimension is not None:
        if dimension not in DIMENSIONS:
            return f"imported data has no breakdown by '{dimension}'"
        tables.add(DIMENSIONS[dimension][0])
    if len(tables) > 1:
        return "imported data cannot combine these filters and breakdown (different tables)"
    return None


def _filtered(rows, table: str, filters: dict[str, list[str]]):
    for name, values in filters.items():
        field = FILTERS[name][1]
        if field == "city":  # by name: the GeoNames ids of the rows that have that name
            rows, field, values = _city_ids(rows, values)
        positive, negative = Q(), Q()
        for value in values:
            if isinstance(value, tuple):  # (negated, ids): one name's ids
                if value[0]:
                    negative &= ~Q(**{f"{field}__in": value[1]})
                else:
                    positive |= Q(**{f"{field}__in": value[1]})
            elif value.startswith("!"):
                negative &= ~Q(**{field: value[1:]})
            else:
                positive |= Q(**{field: value})
        rows = rows.filter(positive).filter(negative)
    return rows


def _city_names(ids) -> dict[int, str]:
    """GeoNames id → city name (ids GeoNames does not list are left out: unknown city)."""
    return {gid: name for gid, (_country, name) in geonames.names(ids).items()}


def _city_ids(rows, values: list[str]):
    """A city filter by name as filters of the rows' GeoNames ids: (rows, field, values);
    the empty name (no city) is id 0 and every id GeoNames does not name."""
    ids = set(rows.values_list("city", flat=True).distinct().order_by())
    named = _city_names(ids)
    by_name: dict[str, list[int]] = defaultdict(list)
    for gid in ids:
        by_name[named.get(gid, "")].append(gid)
    return (
        rows,
        "city",
        [(v.startswith("!"), by_name.get(v.removeprefix("!"), [])) for v in values],
    )


def _metrics(table: str, row: dict) -> dict:
    views = VIEWS.get(table, "pageviews")
    sessions = SESSIONS.get(table, "visits")
    return {
        "visitors": row["visitors"] or 0,
        "views": (row[views] or 0) if views else 0,
        "sessions": (row[sessions] or 0) if sessions else 0,
        "bounces": (row["bounces"] or 0) if table in WITH_BOUNCES else 0,
        "duration_ms": (row["visit_duration"] or 0) * 1000 if table in WITH_BOUNCES else 0,
    }


_SUMS = ("visitors", "pageviews", "visits", "bounces", "visit_duration", "entrances", "exits")


def daily(cover: Coverage, site_id: int, filters: dict[str, list[str]]) -> dict[date, dict]:
    """Per day: visitors, views, sessions, bounces and duration (ms) from the imports."""
    if not cover:
        return {}
    if not filters:
        rows = (
            ImportedDay.objects.filter(site_id=site_id)
            .filter(cover.condition())
            .values("day")
            .annotate(**{name: Sum(name) for name in _SUMS[:5]})
        )
        return {row["day"]: _metrics("visitors", row) for row in rows}
    table = FILTERS[next(iter(filters))][0]
    rows = _filtered(
        ImportedBreakdownDay.objects.filter(site_id=site_id, table=table).filter(cover.condition()),
        table,
        filters,
    )
    per_day = {}
    for row in rows.values("day").annotate(**{name: Sum(name) for name in _SUMS}):
        per_day[row["day"]] = _metrics(table, row)
    return per_day


def dimension_days(
    cover: Coverage, site_id: int, dimension: str, filters: dict[str, list[str]]
) -> dict[date, dict[tuple, dict]]:
    """Per day and value of ``dimension`` (Footfall's key): visitors, views, sessions."""
    if not cover:
        return {}
    table, columns = DIMENSIONS[dimension]
    fields = [field for _, field in columns if field]
    rows = _filtered(
        ImportedBreakdownDay.objects.filter(site_id=site_id, table=table).filter(cover.condition()),
        table,
        filters,
    )
    per_day: dict[date, dict[tuple, dict]] = defaultdict(dict)
    rows = list(rows.values("day", *fields).annotate(**{name: Sum(name) for name in _SUMS}))
    cities = _city_names(row["city"] for row in rows) if "city" in fields else {}
    for row in rows:
        key = tuple(row[field] if field else "" for _, field in columns)
        if table == "devices":
            key = (key[0].lower(),)
        elif dimension == "city":  # several ids may share a name: their rows add up
            key = (*key[:2], cities.get(int(key[2]), ""))
        metrics = _metrics(table, row)
        if table == "exit_pages":
            metrics["views"] = metrics["sessions"]
        current = per_day[row["day"]].get(key)
        if current:
            for name, value in metrics.items():
                current[name] += value
        else:
            per_day[row["day"]][key] = metrics
    return per_day


# --- custom properties -------------------------------------------------------------------

# Goals whose ``url`` / ``path`` property Plausible keeps in ``imported_custom_events``
# (``link_url`` / ``path``), per goal; every other property is in ``imported_custom_props``,
# per property and value only (not per event).
GOALS_WITH_URL = frozenset({"Outbound Link: Click", "Cloaked Link: Click", "File Download"})
GOALS_WITH_PATH = frozenset({"404", "WP Form Completions"})


def property_skip_reason(
    filters: dict[str, list[str]], key: str, event_name: str | None = None
) -> str | None:
    """Why imported data cannot answer a breakdown by custom property ``key`` (of the
    custom events named ``event_name``, when given) with these filters; None when it can.
    As in Plausible: ``imported_custom_props`` answers a property over all events without
    other filters; with a goal, only the ``url`` of link and download goals and the
    ``path`` of 404 and form goals are kept per goal (``imported_custom_events``)."""
    if filters:
        return "imported custom properties cannot be filtered (only property and value are kept)"
    if event_name is None:
        return None
    if (event_name in GOALS_WITH_URL and key == "url") or (
        event_name in GOALS_WITH_PATH and key == "path"
    ):
        return None
    return (
        "imported custom properties are not kept per event (only the url of link and "
        "download goals and the path of 404 and form goals are)"
    )


def property_days(
    cover: Coverage, site_id: int, key: str, event_name: str | None = None
) -> dict[date, dict[str, dict]]:
    """Per day and value of custom property ``key`` (of ``event_name``'s events, when given;
    see ``property_skip_reason``): visitors (summed daily, as everywhere) and events."""
    if not cover:
        return {}
    found = ImportedBreakdownDay.objects.filter(site_id=site_id).filter(cover.condition())
    if event_name is None:
        found = found.filter(table="custom_props", property=key)
        field = "value"
    else:
        found = found.filter(table="custom_events", name=event_name)
        field = "link_url" if key == "url" else "path"
    rows = found.values_list("day", field).annotate(Sum("visitors"), Sum("events"))
    per_day: dict[date, dict[str, dict]] = defaultdict(dict)
    for day, value, visitors, events in rows:
        per_day[day][value] = {"visitors": visitors or 0, "events": events or 0}
    return per_day


def property_values(
    query: StatsQuery, key: str, event_name: str | None = None
) -> dict[str, dict[str, int]]:
    """Imported visitors and events per value of custom property ``key`` over the query's
    days imported data answers (nothing when it cannot answer: ``property_skip_reason``)."""
    if query.raw or not getattr(query, "imports", True):
        return {}
    if property_skip_reason(query.filters, key, event_name):
        return {}
    cover = coverage(query.site_id, query.tz, query.first_day, query.last_day)
    totals: dict[str, dict[str, int]] = {}
    for values in property_days(cover, query.site_id, key, event_name).values():
        for value, metrics in values.items():
            total = totals.setdefault(value, {"visitors": 0, "events": 0})
            total["visitors"] += metrics["visitors"]
            total["events"] += metrics["events"]
    return totals


# --- the planner's claimant (``stats.query.plan.CLAIMANTS``) ----------------------------------


class ImportedData:
    """Imported data as a source claiming days (``stats.query.plan.ClaimingSource``): the
    days of complete imports before the site's first native day, for the measures, filters
    and breakdowns the imported tables answer; ``StatsQuery.imports`` False leaves it out."""

    name = "imported"

    def _cover(self, query: StatsQuery) -> Coverage:
        return coverage(query.site_id, query.tz, query.first_day, query.last_day)

    def claims(self, query: StatsQuery, measure: Measure, dimension: str | None) -> list[date]:
        if query.raw or not getattr(query, "imports", True):
            return []
        if measure not in (Measure.DAYS, Measure.VISITORS, Measure.BREAKDOWN):
            return []
        if skip_reason(query.filters, dimension if measure is Measure.BREAKDOWN else None):
            return []
        return sorted(self._cover(query).days())

    def days(self, query: StatsQuery) -> dict[date, dict]:
        return daily(self._cover(query), query.site_id, query.filters)

    def visitors(self, query: StatsQuery) -> int:
        return sum(m["visitors"] for m in self.days(query).values())

    def dimension_days(self, query: StatsQuery, dimension: str) -> dict[date, dict[tuple, dict]]:
        return dimension_days(self._cover(query), query.site_id, dimension, query.filters)

    def page_time_days(self, query: StatsQuery) -> dict[date, tuple[int, int]]:
        return {}  # never claimed for time on page (Plausible's files have no such gaps)


SOURCE = ImportedData()


def skipped(query: StatsQuery, dimension: str | None = None) -> str | None:
    """Why imported data of the query's range is left out of its answer (None when it is
    included or there is none): ``meta.imports_skipped`` of Footfall's APIs, the
    dashboard's note and Plausible's v2 warning."""
    if query.raw or not getattr(query, "imports", True):
        return None
    overlapping = [
        i
        for i in complete_imports(query.site_id)
        if i[1] <= query.last_day and i[2] >= query.first_day
    ]
    if not overlapping:
        return None
    site_tz = overlapping[0][3]
    if site_tz != query.tz:
        return f"imported data is kept in days of the site's time zone ({site_tz})"
    if not coverage(query.site_id, query.tz, query.first_day, query.last_day):
        return None  # its days are the site's own days now
    return skip_reason(query.filters, dimension)


def included(query: StatsQuery) -> bool:
    """Whether imported data answers some days of the query (without filters or breakdown)."""
    return bool(SOURCE.claims(query, Measure.DAYS, None))


def dashboard_note(query: StatsQuery) -> dict | None:
    """What the dashboard says about imported data of the range (None: the site has none
    there): whether it is included, over which days, or why it is left out."""
    switched_off = not query.imports
    asked = dataclasses.replace(query, imports=True)
    reason = skipped(asked)
    cover = coverage(query.site_id, query.tz, query.first_day, query.last_day)
    if not cover and reason is None:
        return None
    days = cover.days()
    return {
        "included": bool(days) and reason is None and not switched_off,
        "switched_off": switched_off,
        "reason": reason,
        "days": len(days),
        "first": min(days) if days else None,
        "last": max(days) if days else None,
    }
