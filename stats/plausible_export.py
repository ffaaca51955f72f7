"""A site's native data as the rows of Plausible's CSV export tables (``stats.plausible_csv``).

Definitions are Footfall's own (``stats.query``): a day is a local day in the site's time
zone, visitors of a row are the distinct visitors of that day with that value, a visit is
a session's events of the day (``visits``), a bounce a visit with at most one page view and
no interactive custom event, a visit's duration the time between its first and last event
(whole seconds, summed). Session attributes are the session's values (``SESSION_SCOPE``).

- ``imported_visitors``: the daily totals the statistics show (``stats.query.daily_metrics``:
  rollups where they cover the day), so an export re-imported shows the same totals;
- the session tables (sources, entry and exit pages, locations, devices, browsers,
  operating systems): one pass over the stored events grouped by (day, session);
- pages, custom events and their properties: the same pass, per event.

Cities: Plausible's files keep a GeoNames id, Footfall a name: a visit's city is written
as the id ``stats.geonames`` finds for its country, region and name (0, "unknown", when
GeoNames lists no such place). Not in Plausible's format, so not exported: titles,
languages, screen classes and hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from stats import geonames
from stats.dimensions import EXPORT_SESSION_COLUMNS
from stats.query import StatsQuery, daily_metrics, scoped_events

# Custom events whose ``url`` / ``path`` property Plausible keeps in ``link_url`` / ``path``.
GOALS_WITH_URL = frozenset({"Outbound Link: Click", "Cloaked Link: Click", "File Download"})
GOALS_WITH_PATH = frozenset({"404", "WP Form Completions"})
# The session attributes the session tables are keyed by (the catalogue's).
SESSION_COLUMNS = EXPORT_SESSION_COLUMNS
# Read too: a visit's city name, written to ``imported_locations`` as its GeoNames id.
READ_COLUMNS = (*SESSION_COLUMNS, "city")
# Session table → the session attributes of its key (in the file's column order).
SESSION_TABLES = {
    "sources": (
        ("source", "source"),
        ("referrer", "referrer"),
        ("utm_source", "utm_source"),
        ("utm_medium", "utm_medium"),
        ("utm_campaign", "utm_campaign"),
        ("utm_content", "utm_content"),
        ("utm_term", "utm_term"),
    ),
    "entry_pages": (("path", "entry_path"),),
    "exit_pages": (("path", "exit_path"),),
    "locations": (("country", "country_code"), ("region", "region")),
    "devices": (("device", "device_type"),),
    "browsers": (("browser", "browser"), ("browser_version", "browser_version")),
    "operating_systems": (("os", "os"), ("os_version", "os_version")),
}
DEVICE_NAMES = {"desktop": "Desktop", "mobile": "Mobile", "tablet": "Tablet"}


def _sessions_and_events(query: StatsQuery):
    """(visits per (day, session), per-event rows of page views and custom events)."""
    named = [f"session_{c}" for c in READ_COLUMNS]
    rows = (
        scoped_events(query, READ_COLUMNS)
        .order_by("timestamp", "id")
        .values_list(
            "timestamp",
            "session_id",
            "visitor_id",
            "kind",
            "interactive",
            "name",
            "path",
            "hostname",
            "props",
            *named,
        )
    )
    visits: dict[tuple, dict] = {}
    events: list[tuple] = []
    zone = query.zone
    for (
        at,
        session_id,
        visitor_id,
        kind,
        interactive,
        name,
        path,
        host,
        props,
        *values,
    ) in rows.iterator(chunk_size=5000):
        day = at.astimezone(zone).date()
        visit = visits.get((day, session_id))
        if visit is None:
            visit = visits[(day, session_id)] = {
                "visitor": visitor_id,
                "first": at,
                "pageviews": 0,
                "interactions": 0,
                "exit_path": None,
                **dict(zip(READ_COLUMNS, values, strict=True)),
            }
        visit["last"] = at
        if kind == "pageview":
            visit["pageviews"] += 1
            visit["exit_path"] = path
            events.append((day, "pageview", visitor_id, session_id, path, host, None))
        elif kind == "custom":
            visit["interactions"] += bool(interactive)
            events.append((day, "custom", visitor_id, session_id, name, path, props or {}))
    return visits, events


def _add(row: dict, visit: dict) -> None:
    row["visitors"].add(visit["visitor"])
    row["visits"] += 1
    row["pageviews"] += visit["pageviews"]
    row["bounces"] += visit["pageviews"] <= 1 and visit["interactions"] == 0
    delta = visit["last"] - visit["first"]
    row["visit_duration_ms"] += (delta.days * 86_400 + delta.seconds) * 1000 + (
        delta.microseconds // 1000
    )


def _new_row() -> dict:
    return {"visitors": set(), "visits": 0, "pageviews": 0, "bounces": 0, "visit_duration_ms": 0}


def export_rows(site_id: int, tz: str, first: date, last: date) -> dict[str, list[dict]]:
    """Every table's rows for the site's native data of [first, last], sorted by day."""
    query = StatsQuery(site_id, first, last, tz, imports=False)  # the site's own data
    tables: dict[str, list[dict]] = {}
    tables["visitors"] = [
        {
            "day": day,
            "visitors": m["visitors"],
            "pageviews": m["views"],
            "bounces": m["bounces"],
            "visits": m["sessions"],
            "visit_duration": m["duration_ms"] // 1000,
        }
        for day, m in sorted(daily_metrics(query).items())
        if m["visitors"] or m["views"] or m["sessions"]
    ]
    visits, events = _sessions_and_events(query)
    with geonames.Resolver() as cities:
        for table, key_columns in SESSION_TABLES.items():
            tables[table] = _session_rows(table, key_columns, visits, cities)
    tables.update(_event_tables(events))
    return tables


def _session_rows(table: str, key_columns, visits: dict, cities: geonames.Resolver) -> list[dict]:
    """One session table's rows: the visits grouped by day and the table's key (locations:
    country, region and the city's GeoNames id, 0 when unknown)."""
    fields = [f for f, _ in key_columns] + (["city"] if table == "locations" else [])
    grouped: dict[tuple, dict] = defaultdict(_new_row)
    for (day, _session), visit in visits.items():
        if table in ("entry_pages", "exit_pages") and not visit["pageviews"]:
            continue
        key = tuple(visit[attribute] or "" for _, attribute in key_columns)
        if table == "locations":
            key = (*key, cities.geoname_id(key[0], key[1], visit["city"] or ""))
        _add(grouped[(day, *key)], visit)
    rows = []
    for (day, *key), metrics in sorted(grouped.items(), key=lambda item: _order(item[0])):
        row = {"day": day, **dict(zip(fields, key, strict=True))}
        row["visitors"] = len(metrics["visitors"])
        row["visit_duration"] = metrics["visit_duration_ms"] // 1000
        row["bounces"] = metrics["bounces"]
        row["pageviews"] = metrics["pageviews"]
        if table == "entry_pages":
            row["entrances"] = metrics["visits"]
        elif table == "exit_pages":
            row["exits"] = metrics["visits"]
        else:
            row["visits"] = metrics["visits"]
        if table == "devices":
            row["device"] = DEVICE_NAMES.get(row["device"], row["device"])
        rows.append(row)
    return rows


def _order(key: tuple) -> tuple:
    return tuple(str(part) for part in key)


def _event_tables(events: list[tuple]) -> dict[str, list[dict]]:
    pages: dict[tuple, dict] = defaultdict(
        lambda: {"visitors": set(), "visits": set(), "pageviews": 0, "hostname": ""}
    )
    custom: dict[tuple, dict] = defaultdict(lambda: {"visitors": set(), "events": 0})
    props: dict[tuple, dict] = defaultdict(lambda: {"visitors": set(), "events": 0})
    for day, kind, visitor_id, session_id, name_or_path, path_or_host, meta in events:
        if kind == "pageview":
            row = pages[(day, name_or_path or "")]
            row["visitors"].add(visitor_id)
            row["visits"].add(session_id)
            row["pageviews"] += 1
            row["hostname"] = row["hostname"] or path_or_host or ""
            continue
        name = name_or_path
        link_url = str(meta.get("url", "")) if name in GOALS_WITH_URL else ""
        path = str(meta.get("path", "")) if name in GOALS_WITH_PATH else ""
        row = custom[(day, name, link_url, path)]
        row["visitors"].add(visitor_id)
        row["events"] += 1
        for key, value in meta.items():
            entry = props[(day, str(key), str(value))]
            entry["visitors"].add(visitor_id)
            entry["events"] += 1
    return {
        "pages": [
            {
                "day": day,
                "hostname": m["hostname"],
                "path": path,
                "visits": len(m["visits"]),
                "visitors": len(m["visitors"]),
                "pageviews": m["pageviews"],
            }
            for (day, path), m in sorted(pages.items(), key=lambda item: _order(item[0]))
        ],
        "custom_events": [
            {
                "day": day,
                "name": name,
                "link_url": link_url,
                "path": path,
                "visitors": len(m["visitors"]),
                "events": m["events"],
            }
            for (day, name, link_url, path), m in sorted(
                custom.items(), key=lambda item: _order(item[0])
            )
        ],
        "custom_props": [
            {
                "day": day,
                "property": key,
                "value": value,
                "visitors": len(m["visitors"]),
                "events": m["events"],
            }
            for (day, key, value), m in sorted(props.items(), key=lambda item: _order(item[0]))
        ],
    }
