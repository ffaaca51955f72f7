"""Cached site lookups for the ingestion hot path.

Each worker process keeps the sites it has seen for ``TTL_SECONDS`` (unknown
names too, so a flood of hits for a missing site costs one query per name per
TTL). Settings changes reach ingestion within that delay.

A hostname claimed by several sites goes only to a verified one (decided when the
cache is filled, ``sites.selectors.site_route_for_domain``); when none is verified its
hits are dropped and counted as ``unverified_hostname`` on every claiming site (by the
listener ``tracking`` registers with ``on_contested`` at start-up: sites never imports
tracking).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import Error as DatabaseError

from sites import selectors


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What the hot path needs to know about a site: a cached, immutable snapshot."""

    id: int
    public_id: str
    hostname: str
    timezone: str
    tracking_state: str
    bot_filter: bool = True
    excluded_networks: tuple = ()
    respect_dnt: bool = False
    long_lived_visitor_ids: bool = False
    reporting_currency: str = "EUR"


TTL_SECONDS = 30.0
MAX_ENTRIES = 10_000
# Why a hit naming a contested hostname was dropped (DroppedEventCount.reason).
UNVERIFIED_HOSTNAME = "unverified_hostname"


class _Contested(tuple):
    """Cached for a name several sites claim and none verified: the claiming site ids."""


_cache: dict[tuple[str, str], tuple[float, SiteConfig | _Contested | None]] = {}
_lock = threading.Lock()
_contested_listeners: list[Callable[[int, str], None]] = []


def on_contested(listener: Callable[[int, str], None]) -> None:
    """Call ``listener(site_id, UNVERIFIED_HOSTNAME)`` for each claimant of a dropped hit."""
    if listener not in _contested_listeners:
        _contested_listeners.append(listener)


def _networks(values) -> tuple:
    networks = []
    for value in values or []:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _config(row: dict) -> SiteConfig:
    return SiteConfig(
        id=row["id"],
        public_id=row["public_id"],
        hostname=row["hostname"],
        timezone=row["timezone"],
        tracking_state=row["tracking_state"],
        bot_filter=row["bot_filter"],
        excluded_networks=_networks(row["excluded_ips"]),
        respect_dnt=row["respect_dnt"],
        long_lived_visitor_ids=row["long_lived_visitor_ids"],
        reporting_currency=row["reporting_currency"],
    )


def _cached(kind: str, key: str, load):
    now = time.monotonic()
    entry = _cache.get((kind, key))
    if entry is not None and entry[0] > now:
        return entry[1]
    try:
        config = load()
    except DatabaseError:
        # The database is down: the last known answer beats refusing every hit.
        if entry is not None:
            return entry[1]
        raise
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
        _cache[(kind, key)] = (now + TTL_SECONDS, config)
    return config


def _first(**lookup) -> SiteConfig | None:
    rows = selectors.site_config_rows(**lookup)
    return _config(rows[0]) if rows else None


def site_by_domain(domain: str) -> SiteConfig | None:
    """Plausible's ``domain``: the site's hostname or one of its aliases."""
    name = (domain or "").strip().lower()
    if name.startswith("www."):
        name = name[4:]
    if not name or len(name) > 253:
        return None

    def load() -> SiteConfig | _Contested | None:
        route = selectors.site_route_for_domain(name)
        if route.row is not None:
            return _config(route.row)
        return _Contested(route.claimants) if route.claimants else None

    found = _cached("domain", name, load)
    if isinstance(found, _Contested):
        for site_id in found:
            for listener in _contested_listeners:
                listener(site_id, UNVERIFIED_HOSTNAME)
        return None
    return found


def site_by_public_id(public_id: str) -> SiteConfig | None:
    """Pirsch's domain ``id`` and Swetrix's ``pid``."""
    if not public_id or len(public_id) > 20:
        return None
    return _cached("public_id", public_id, lambda: _first(public_id=public_id))


def site_by_idsite(idsite: int | str) -> SiteConfig | None:
    """Matomo's numeric ``idsite``."""
    try:
        number = int(str(idsite).strip())
    except (TypeError, ValueError):
        return None
    if number <= 0 or number > 2**62:
        return None
    return _cached("idsite", str(number), lambda: _first(id=number))


def site_by_public_key(public_key: str) -> SiteConfig | None:
    """The Footfall snippet's ``pk_live_…`` key."""
    if not public_key or len(public_key) > 48:
        return None
    return _cached("public_key", public_key, lambda: _first(public_key=public_key))


def site_by_id(site_id: int) -> SiteConfig | None:
    return _cached("id", str(site_id), lambda: _first(id=site_id))


def clear() -> None:
    """Forget every cached site (tests, and after a site's settings change in this process)."""
    with _lock:
        _cache.clear()
