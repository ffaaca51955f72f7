"""The demo's imported history (issue #16): months of daily totals before the demo's own
days, written as Plausible's CSV export and imported through the real import
(``stats.imports``), as a user moving from Plausible would bring theirs."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stats import imports, plausible_csv

SOURCES = [
    ("", "", 35),
    ("Google", "google.com", 30),
    ("DuckDuckGo", "duckduckgo.com", 6),
    ("Hacker News", "news.ycombinator.com", 4),
    ("Reddit", "reddit.com", 5),
    ("GitHub", "github.com", 4),
]
COUNTRIES = [("DE", "DE-BE", 22), ("US", "US-CA", 25), ("GB", "GB-ENG", 10), ("FR", "FR-IDF", 8)]
COUNTRIES += [("NL", "", 6), ("SE", "", 4), ("JP", "", 4), ("BR", "", 3)]
DEVICES = [("Desktop", 62), ("Mobile", 33), ("Tablet", 5)]
BROWSERS = [
    ("Chrome", "129.0", 45),
    ("Firefox", "131.0", 20),
    ("Safari", "17.6", 28),
    ("Edge", "129.0", 7),
]
SYSTEMS = [("Windows", "10", 35), ("Mac", "14.6", 25), ("iOS", "17.6", 22), ("Android", "14", 12)]
SYSTEMS += [("GNU/Linux", "", 6)]


def _split(rng: random.Random, total: int, options: list) -> list[tuple]:
    """``total`` spread over weighted options (each keeps its share, noisily; at least 0)."""
    weights = [o[-1] * rng.uniform(0.8, 1.2) for o in options]
    scale = sum(weights)
    return [(*o[:-1], int(total * w / scale)) for o, w in zip(options, weights, strict=True)]


def _session_tables(
    rng: random.Random, tables: dict[str, list[dict]], day: date, visitors: int
) -> None:
    """A day's rows of the session-scoped tables (sources, locations, devices, browsers,
    operating systems): ``visitors`` split by the shares of each."""

    def session_row(**key) -> dict:
        share = key.pop("share")
        return {
            "day": day,
            **key,
            "visitors": share,
            "visits": share + share // 6,
            "pageviews": int(share * 2.4),
            "bounces": share // 2,
            "visit_duration": share * 80,
        }

    for source, referrer, share in _split(rng, visitors, SOURCES):
        if share:
            tables["sources"].append(session_row(source=source, referrer=referrer, share=share))
    for country, region, share in _split(rng, visitors, COUNTRIES):
        if share:
            tables["locations"].append(
                session_row(country=country, region=region, city=0, share=share)
            )
    for device, share in _split(rng, visitors, DEVICES):
        if share:
            tables["devices"].append(session_row(device=device, share=share))
    for browser, version, share in _split(rng, visitors, BROWSERS):
        if share:
            tables["browsers"].append(
                session_row(browser=browser, browser_version=version, share=share)
            )
    for system, version, share in _split(rng, visitors, SYSTEMS):
        if share:
            tables["operating_systems"].append(
                session_row(os=system, os_version=version, share=share)
            )


def history_rows(
    first: date, last: date, hostname: str, pages: list[tuple], seed: int = 7
) -> dict[str, list[dict]]:
    """Every table's rows of a small, slowly growing site from ``first`` to ``last``."""
    rng = random.Random(seed)
    tables: dict[str, list[dict]] = {name: [] for name in plausible_csv.EXPORT_ORDER}
    span = max((last - first).days, 1)
    day = first
    while day <= last:
        growth = 0.6 + 0.4 * (day - first).days / span
        weekend = 0.7 if day.weekday() >= 5 else 1.0
        visitors = max(5, int(40 * growth * weekend * rng.uniform(0.8, 1.2)))
        visits = visitors + visitors // 6
        views = int(visits * rng.uniform(2.0, 2.8))
        bounces = int(visits * rng.uniform(0.45, 0.6))
        duration = visits * rng.randint(50, 110)
        tables["visitors"].append(
            {
                "day": day,
                "visitors": visitors,
                "pageviews": views,
                "bounces": bounces,
                "visits": visits,
                "visit_duration": duration,
            }
        )

        _session_tables(rng, tables, day, visitors)
        for path, _title, share in _split(rng, views, pages):
            if share:
                tables["pages"].append(
                    {
                        "day": day,
                        "hostname": hostname,
                        "path": path,
                        "visits": share * 2 // 3,
                        "visitors": share // 2 or 1,
                        "pageviews": share,
                    }
                )
        for path, _title, share in _split(rng, visits, pages[:5]):
            if share:
                tables["entry_pages"].append(
                    {
                        "day": day,
                        "path": path,
                        "visitors": share,
                        "entrances": share,
                        "visit_duration": share * 80,
                        "bounces": share // 2,
                        "pageviews": share * 2,
                    }
                )
                tables["exit_pages"].append(
                    {
                        "day": day,
                        "path": path,
                        "visitors": share,
                        "visit_duration": share * 80,
                        "exits": share,
                        "bounces": share // 2,
                        "pageviews": share * 2,
                    }
                )
        signups = rng.randint(0, 3)
        if signups:
            tables["custom_events"].append(
                {
                    "day": day,
                    "name": "Signup",
                    "link_url": "",
                    "path": "",
                    "visitors": signups,
                    "events": signups,
                }
            )
            tables["custom_props"].append(
                {
                    "day": day,
                    "property": "plan",
                    "value": rng.choice(["free", "team"]),
                    "visitors": signups,
                    "events": signups,
                }
            )
        day += timedelta(days=1)
    return tables


def history_import(site, *, first: date, last: date, pages: list[tuple], user=None, seed: int = 7):
    """Build the history as Plausible's export zip and import it with the real import."""
    rows = history_rows(first, last, site.hostname, pages, seed)
    data = plausible_csv.write_export(first, last, lambda table: rows[table])
    name = f"{site.hostname.replace('.', '_')}_plausible_export.zip"
    record, must_run = imports.import_create(
        site=site, kind="plausible", files=[(name, data)], user=user
    )
    if must_run:
        record = imports.plausible_import_run(record.pk, [(name, data)])
    return record
