"""The shared shapes of the ingestion hot path.

Every protocol adapter turns a request into one or more ``Hit`` objects; the
pipeline (``tracking.pipeline``) enriches each into an event row or a
``DropReason``; ``tracking.ingest.accept`` enqueues the rows in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict

from sites.site_lookup import SiteConfig

__all__ = ["DropReason", "Hit", "Kind", "Protocol", "SiteConfig"]


class Protocol(StrEnum):
    PLAUSIBLE = "plausible"
    MATOMO = "matomo"
    SWETRIX = "swetrix"
    PIRSCH = "pirsch"
    FOOTFALL = "footfall"


class Kind(StrEnum):
    """Mirrors ``tracking.models.EventKind`` (kept import-free for the hot path)."""

    PAGEVIEW = "pageview"
    CUSTOM = "custom"
    ENGAGEMENT = "engagement"
    HEARTBEAT = "heartbeat"
    BEHAVIOUR = "behaviour"
    ERROR = "error"


class DropReason(StrEnum):
    """Why a hit was not stored on purpose. Counted per site and day."""

    BOT = "bot"
    EXCLUDED_IP = "excluded_ip"
    DO_NOT_TRACK = "do_not_track"
    NOT_UNIQUE = "not_unique"  # Swetrix `unique: true` on a repeat
    NO_SESSION = "no_session"  # a heartbeat / keep-alive for a visitor with no session
    PLUGIN_REQUEST = "plugin_request"  # Matomo `ca=1` from a plugin Footfall does not store
    # A hostname several sites claim and none verified: counted on each claimant
    # (``sites.site_lookup`` reports them; it sits below tracking and cannot name this).
    UNVERIFIED_HOSTNAME = "unverified_hostname"
    # A snippet signal of a behaviour collector the site turned off.
    COLLECTOR_OFF = "collector_off"


@dataclass(slots=True)
class Hit:
    """One tracked thing as a protocol adapter understood it, before enrichment.

    ``ip`` is the resolved client address: used for the visitor hash and geography,
    then forgotten. Fields left empty are simply unknown.
    """

    site: SiteConfig
    protocol: Protocol
    kind: Kind
    name: str
    url: str = ""
    referrer: str = ""
    title: str = ""
    user_agent: str = ""
    ip: str = ""
    accept_language: str = ""
    language: str = ""  # an explicit locale (Swetrix `lc`, Matomo `lang`) wins over the header
    sec_ch_ua: str = ""
    sec_ch_ua_mobile: str = ""
    sec_ch_ua_platform: str = ""
    sec_ch_ua_platform_version: str = ""
    screen_width: int | None = None
    screen_height: int | None = None
    props: dict = field(default_factory=dict)
    revenue_amount: Decimal | None = None
    revenue_currency: str = ""
    # Set when the protocol dates the hit itself (Pirsch batch `time`, Matomo `cdt`).
    timestamp: datetime | None = None
    # An id the site supplies for the visitor (Matomo uid/_id/cid): wins over the hash.
    visitor_key: str = ""
    new_visit: bool = False
    # Campaign values given outside the URL (Swetrix so/me/ca, Matomo _rcn/_rck).
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    # Authenticated geography overrides (Matomo country/region/city with token_auth).
    country_code: str = ""
    region: str = ""
    city: str = ""
    visitor_timezone: str = ""  # fallback for the country (Swetrix `tz`)
    interactive: bool = True
    duration_ms: int | None = None
    scroll_depth: int | None = None
    allow_bots: bool = False
    unique: bool = False  # Swetrix: refuse a repeat within the session
    do_not_track: bool = False
    # False for signals that belong to a page view already counted (the snippet's
    # behaviour and error events): they extend a session but never start one.
    starts_session: bool = True
    keep_fragment: bool = False  # hash-based routing: the URL fragment is part of the path
    # The snippet's behaviour collector that sent it ("": none): dropped while the site
    # has that collector turned off (``tracking.pipeline.check_collector``).
    collector: str = ""
    # Set by an adapter replaying history (Matomo bulk with cdt and cip, raw imports): the
    # event's id derived from what was sent, so a replay stores nothing twice. Else a UUIDv7.
    event_id: str = ""


class EventRow(TypedDict):
    """One event as the pipeline builds it, the buffer carries it (JSON) and the writer
    stores it: exactly ``tracking.models.Event``'s columns (a test holds the two together).
    Times are ISO 8601 text, amounts decimal text, so a row survives JSON unchanged."""

    id: str
    site_id: int
    timestamp: str
    received_at: str
    protocol: str
    kind: str
    name: str
    visitor_id: int
    session_id: int
    session_start: bool
    hostname: str
    path: str
    title: str
    entry_path: str
    referrer: str
    referrer_host: str
    source: str
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    device_type: str
    screen_width: int | None
    screen_height: int | None
    screen_class: str
    language: str
    country_code: str
    region: str
    city: str
    props: dict
    revenue_amount: str | None
    revenue_currency: str
    revenue_reporting: str | None
    revenue_reporting_currency: str
    duration_ms: int | None
    scroll_depth: int | None
    interactive: bool
