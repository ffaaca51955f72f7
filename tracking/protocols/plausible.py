"""Plausible's Events API (``POST /api/event``): payload → hits.

Accepts the documented long keys and the short keys Plausible's own tracker sends
(n, u, d, r, p, $, i, h, w, v, and sd/e on ``engagement``); ``props``/``revenue``
may arrive as objects or as JSON-encoded strings.

Props follow the seed and upstream together: pairs past the first 30 are discarded (the
seed's words; the answer's ``x-plausible-dropped-reason`` says so), a key over 300 bytes
or a value over 2,000 bytes is a 400 on ``props`` (upstream's rule and message; the seed
is silent). A JSON string too deeply nested to decode is a 400 on its field, like an
undecodable body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tracking.enrichment.pageurl import InvalidUrl, validate_page_url
from tracking.hits import Hit, Kind, Protocol, SiteConfig
from tracking.http import storable_text
from tracking.protocols.currencies import ISO_4217

MAX_PROPS = 30
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
MAX_NAME = 120
# Upstream's message for a key or value over the limits (in UTF-8 bytes, as upstream counts).
PROPS_TOO_LONG = f"keys should have at most {MAX_PROP_KEY} bytes and values {MAX_PROP_VALUE} bytes"
TOO_DEEP = "is nested too deeply to decode"
ALIASES = {
    "n": "name",
    "u": "url",
    "d": "domain",
    "r": "referrer",
    "p": "props",
    "m": "props",
    "meta": "props",
    "$": "revenue",
    "i": "interactive",
    "h": "hash_mode",
    "w": "screen_width",
    "sd": "scroll_depth",
    "e": "engagement_time",
}


@dataclass
class PlausibleEvent:
    domains: list[str]
    name: str
    url: str
    referrer: str = ""
    props: dict = field(default_factory=dict)
    revenue_amount: Decimal | None = None
    revenue_currency: str = ""
    interactive: bool = True
    hash_mode: bool = False
    screen_width: int | None = None
    scroll_depth: int | None = None
    engagement_time: int | None = None
    # How many props past the first 30 were discarded (reported, never an error).
    props_discarded: int = 0


class PlausibleError(Exception):
    """A 400 with Plausible's body: ``{"errors": {field: [message]}}``."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _maybe_json(value):
    """An object given as a JSON string, decoded into storable text (the body's strings
    already are: ``tracking.http.storable_text``); None when it does not decode."""
    if isinstance(value, str):
        try:
            return storable_text(json.loads(value))
        except (ValueError, RecursionError):
            return None
    return value


def _decodable(data: dict, field_name: str, errors: dict[str, list[str]]) -> None:
    """A 400 for a JSON-string field nested beyond what the decoder can follow."""
    value = data.get(field_name)
    if isinstance(value, str):
        try:
            json.loads(value)
        except RecursionError:
            errors[field_name] = [TOO_DEEP]
        except ValueError:
            pass


def _truthy(value) -> bool:
    return value in (True, 1, "1", "true", "True")


def _int_or_none(value, lo: int, hi: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(float(value))
    except (ValueError, OverflowError):
        return None
    return number if lo <= number <= hi else None


def clean_props(value) -> tuple[dict, int]:
    """The first 30 scalar pairs as strings and how many scalar pairs came after them.

    Objects, lists, nulls and blank keys or values are dropped (upstream does the same);
    a kept key over 300 or value over 2,000 UTF-8 bytes raises ``PlausibleError``.
    """
    value = _maybe_json(value)
    if not isinstance(value, dict):
        return {}, 0
    scalars: list[tuple[str, str]] = []
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float) and item == item:  # not NaN
            item = str(item)
        if not isinstance(key, str) or not key.lstrip():
            continue
        if not isinstance(item, str) or not item.lstrip():
            continue
        scalars.append((key, item))
    props = dict(scalars[:MAX_PROPS])
    for key, item in props.items():
        if len(key.encode("utf-8")) > MAX_PROP_KEY or len(item.encode("utf-8")) > MAX_PROP_VALUE:
            raise PlausibleError({"props": [PROPS_TOO_LONG]})
    return props, max(0, len(scalars) - MAX_PROPS)


def clean_revenue(value) -> tuple[Decimal | None, str]:
    """Amount and currency, or ``(None, "")`` when invalid (the event is still recorded)."""
    value = _maybe_json(value)
    if not isinstance(value, dict):
        return None, ""
    currency = value.get("currency")
    amount = value.get("amount")
    if not isinstance(currency, str) or currency.upper() not in ISO_4217:
        return None, ""
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        return None, ""
    try:
        decimal = Decimal(str(amount).strip())
    except InvalidOperation:
        return None, ""
    if not decimal.is_finite() or abs(decimal) >= Decimal("1e14"):
        return None, ""
    return decimal.quantize(Decimal("0.0001")), currency.upper()


def parse_event(payload) -> PlausibleEvent:
    """Validate a decoded JSON body; raises ``PlausibleError`` with Plausible's messages."""
    if not isinstance(payload, dict):
        raise PlausibleError({"request": ["must be a JSON object"]})
    data: dict = {}
    for key, value in payload.items():
        data.setdefault(ALIASES.get(key, key), value)
    errors: dict[str, list[str]] = {}
    name, url, domain = data.get("name"), data.get("url"), data.get("domain")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["can't be blank"]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"should be at most {MAX_NAME} character(s)"]
    if not isinstance(domain, str) or not domain.strip():
        errors["domain"] = ["can't be blank"]
    if not isinstance(url, str) or not url.strip():
        errors["url"] = ["can't be blank"]
    else:
        try:
            validate_page_url(url)
        except InvalidUrl as exc:
            errors["url"] = [str(exc)]
    referrer = data.get("referrer")
    if referrer is not None and not isinstance(referrer, str):
        errors["referrer"] = ["is invalid"]
    _decodable(data, "props", errors)
    _decodable(data, "revenue", errors)
    if errors:
        raise PlausibleError(errors)
    # Without errors the checks above found all three to be non-blank strings.
    assert isinstance(name, str) and isinstance(url, str) and isinstance(domain, str)
    props, discarded = clean_props(data.get("props"))
    amount, currency = clean_revenue(data.get("revenue"))
    domains = [d.strip().lower() for d in domain.split(",") if d.strip()][:10]
    return PlausibleEvent(
        domains=domains,
        name=name.strip(),
        url=url.strip(),
        referrer=referrer or "",
        props=props,
        props_discarded=discarded,
        revenue_amount=amount,
        revenue_currency=currency,
        interactive=data.get("interactive", True) not in (False, 0, "0", "false"),
        hash_mode=_truthy(data.get("hash_mode")),
        screen_width=_int_or_none(data.get("screen_width"), 1, 100_000),
        scroll_depth=_int_or_none(data.get("scroll_depth"), 0, 100),
        engagement_time=_int_or_none(data.get("engagement_time"), 0, 30 * 86400 * 1000),
    )


def to_hit(
    event: PlausibleEvent, site: SiteConfig, *, user_agent: str, ip: str, accept_language: str
) -> Hit:
    """One site's hit for a parsed event."""
    if event.name == "pageview":
        kind = Kind.PAGEVIEW
    elif event.name == "engagement":
        kind = Kind.ENGAGEMENT
    else:
        kind = Kind.CUSTOM
    hit = Hit(
        site=site,
        protocol=Protocol.PLAUSIBLE,
        kind=kind,
        name=event.name,
        url=event.url,
        referrer=event.referrer,
        user_agent=user_agent,
        ip=ip,
        accept_language=accept_language,
        screen_width=event.screen_width,
        props=event.props,
        revenue_amount=event.revenue_amount,
        revenue_currency=event.revenue_currency,
        interactive=event.interactive,
        # Hash mode: the fragment is the route of a hash-based single-page app (the
        # pipeline drops it otherwise).
        keep_fragment=event.hash_mode,
    )
    if kind == Kind.ENGAGEMENT:
        hit.scroll_depth = event.scroll_depth
        hit.duration_ms = event.engagement_time
    return hit
