"""Pirsch's write API (hits, events, session keep-alives; single and batch): JSON → hits.

A keep-alive needs no ``url`` (the official JavaScript SDK sends ``ip`` and ``user_agent``
only): it extends the visitor's current session. ``ip`` must be an address (the first of a
forwarding header's list is taken): a server-side sender that passes a wrong one gets a
400 naming ``ip`` instead of its own address being counted as the visitor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tracking.enrichment.client_ip import first_valid_ip
from tracking.enrichment.pageurl import InvalidUrl, parse_page_url, validate_page_url
from tracking.hits import Hit, Kind, Protocol, SiteConfig

MAX_EVENT_NAME = 200
MAX_META_KEYS = 100
FUTURE_SKEW = timedelta(minutes=10)
TEXT_FIELDS = {
    "ip": 64,
    "user_agent": 1000,
    "accept_language": 200,
    "sec_ch_ua": 500,
    "sec_ch_ua_mobile": 10,
    "sec_ch_ua_platform": 100,
    "sec_ch_ua_platform_version": 100,
    "sec_ch_width": 10,
    "sec_ch_viewport_width": 10,
    "title": 512,
    "referrer": 2048,
}


class PirschValidationError(Exception):
    def __init__(self, validation: dict[str, str], context: dict | None = None):
        super().__init__(validation)
        self.validation = validation
        self.context = context or {}


@dataclass
class PirschHit:
    fields: dict
    kind: Kind
    name: str
    props: dict
    duration_ms: int | None
    interactive: bool
    timestamp: datetime | None

    @property
    def host(self) -> str:
        """The page's host ("" for a keep-alive without ``url``)."""
        return parse_page_url(self.fields["url"]).hostname if self.fields["url"] else ""


def _string_map(value, field: str, errors: dict) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_META_KEYS:
        errors[field] = f"{field} must be an object of at most {MAX_META_KEYS} string values"
        return {}
    clean = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        if not isinstance(item, str):
            errors[field] = f"{field} values must be strings"
            return {}
        clean[str(key)[:200]] = item[:2000]
    return clean


def _int(value, field: str, errors: dict, lo: int = 0, hi: int = 100_000) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors[field] = f"{field} must be a number"
        return None
    if not lo <= value <= hi:
        errors[field] = f"{field} must be between {lo} and {hi}"
        return None
    return int(value)


def parse_time(value) -> datetime:
    if not isinstance(value, str):
        raise ValueError
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _url(url, kind: Kind, errors: dict[str, str]) -> str:
    """The page URL, stripped; "" for a keep-alive without one or when invalid."""
    if kind == Kind.HEARTBEAT and url in (None, ""):
        return ""  # a keep-alive names no page
    if not isinstance(url, str) or not url.strip():
        errors["url"] = "url is required"
        return ""
    try:
        validate_page_url(url)
        if not url.strip().lower().startswith(("http://", "https://")):
            raise InvalidUrl("url must be an http(s) URL")
    except InvalidUrl as exc:
        errors["url"] = str(exc)
        return ""
    return url.strip()


def _text_fields(payload: dict, fields: dict, errors: dict[str, str]) -> None:
    """``TEXT_FIELDS`` into ``fields`` (cut to their limits); ``ip`` and ``user_agent`` are
    required, and ``ip`` must hold a valid address."""
    for name, limit in TEXT_FIELDS.items():
        value = payload.get(name)
        if value is None:
            fields[name] = ""
        elif not isinstance(value, str):
            errors[name] = f"{name} must be a string"
        else:
            fields[name] = value[:limit]
    if not fields.get("ip") and "ip" not in errors:
        errors["ip"] = "ip is required"
    elif "ip" not in errors:
        address = first_valid_ip(fields["ip"])
        if address is None:
            errors["ip"] = "ip must be the visitor's IPv4 or IPv6 address"
        fields["ip"] = address or ""
    if not fields.get("user_agent") and "user_agent" not in errors:
        errors["user_agent"] = "user_agent is required"


def _screen(payload: dict, fields: dict, errors: dict[str, str]) -> None:
    """Screen width and height; the width falls back to the viewport client hint."""
    fields["screen_width"] = _int(payload.get("screen_width"), "screen_width", errors)
    fields["screen_height"] = _int(payload.get("screen_height"), "screen_height", errors)
    if not fields["screen_width"] and str(fields.get("sec_ch_viewport_width", "")).isdigit():
        fields["screen_width"] = int(fields["sec_ch_viewport_width"]) or None


def _event_name(name, errors: dict[str, str]) -> str:
    """A custom event's name, stripped ("" when invalid: ``errors`` says why)."""
    if not isinstance(name, str) or not name.strip():
        errors["event_name"] = "event_name is required"
        return ""
    if len(name) > MAX_EVENT_NAME:
        errors["event_name"] = f"event_name must be at most {MAX_EVENT_NAME} characters"
    return name.strip()


def _batch_time(value, now: datetime, errors: dict[str, str]) -> datetime | None:
    """A batched hit's required ``time``, not in the future."""
    try:
        timestamp = parse_time(value)
        if timestamp > now + FUTURE_SKEW:
            errors["time"] = "time must not be in the future"
    except (ValueError, TypeError):
        errors["time"] = "time is required and must be an RFC 3339 date and time"
        return None
    return timestamp


def parse_hit(payload, kind: Kind, *, batch: bool, now: datetime) -> PirschHit:
    """Validate one hit/event/session object; raises ``PirschValidationError``."""
    if not isinstance(payload, dict):
        raise PirschValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    fields: dict = {"url": _url(payload.get("url"), kind, errors)}
    _text_fields(payload, fields, errors)
    _screen(payload, fields, errors)
    fields["disable_bot_filter"] = payload.get("disable_bot_filter") is True
    tags = _string_map(payload.get("tags"), "tags", errors)
    props: dict = {}
    name, duration, interactive = "pageview", None, True
    if kind == Kind.CUSTOM:
        name = _event_name(payload.get("event_name"), errors)
        seconds = _int(payload.get("event_duration"), "event_duration", errors, 0, 86_400 * 30)
        duration = seconds * 1000 if seconds is not None else None
        props = _string_map(payload.get("event_meta"), "event_meta", errors)
        interactive = payload.get("non_interactive") is not True
    elif kind == Kind.HEARTBEAT:
        name = "session"
    if tags:
        props["tags"] = tags
    timestamp = _batch_time(payload.get("time"), now, errors) if batch else None
    if errors:
        raise PirschValidationError(errors)
    return PirschHit(fields, kind, name, props, duration, interactive, timestamp)


def to_hit(parsed: PirschHit, site: SiteConfig, ip: str) -> Hit:
    f = parsed.fields
    return Hit(
        site=site,
        protocol=Protocol.PIRSCH,
        kind=parsed.kind,
        name=parsed.name,
        url=f["url"],
        referrer=f["referrer"],
        title=f["title"],
        user_agent=f["user_agent"],
        ip=ip,
        accept_language=f["accept_language"],
        sec_ch_ua=f["sec_ch_ua"],
        sec_ch_ua_mobile=f["sec_ch_ua_mobile"],
        sec_ch_ua_platform=f["sec_ch_ua_platform"],
        sec_ch_ua_platform_version=f["sec_ch_ua_platform_version"],
        screen_width=f["screen_width"],
        screen_height=f["screen_height"],
        props=parsed.props,
        timestamp=parsed.timestamp,
        interactive=parsed.interactive,
        duration_ms=parsed.duration_ms,
        allow_bots=f["disable_bot_filter"],
    )
