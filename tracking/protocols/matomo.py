"""Matomo's Tracking HTTP API (``/matomo.php``, ``/piwik.php``): parameters → hit.

Parameters come from the query string, a form body, or both (the body wins, as in
Matomo); the literal ``undefined`` and empty values mean "not set". Percent-decoding
follows ``cs`` (the page's charset, UTF-8 by default). Parameters that need
``token_auth`` are honoured only when the caller's token is an Owner's or Admin's key
for the site (``authorized``); the rest are ignored without it.

``build_hit`` answers a ``Hit``, or a ``DropReason`` for a plugin request (``ca=1``)
Footfall has no place for, or raises ``MatomoError`` for a request Matomo refuses.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from tracking import visitors
from tracking.enrichment.pageurl import parse_page_url
from tracking.hits import DropReason, Hit, Kind, Protocol, SiteConfig

HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
RESOLUTION = re.compile(r"^\s*(\d{1,5})\s*[x×X*]\s*(\d{1,5})\s*$")
MAX_FIELD = 2048
MAX_PARAMETERS = 500
ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
FUTURE_SKEW = timedelta(minutes=10)
HTTP_ERROR_TITLE = re.compile(r"^([1-5][0-9]{2})/URL = ")
# Matomo keeps an action's URL only when it looks like one: an optional scheme, then
# ``//`` and something (mobile apps send ``app://screen``); script schemes never count.
LOOKS_LIKE_URL = re.compile(r"^(?:([a-z][a-z0-9+.-]*):)?//\S", re.IGNORECASE)
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})
# Matomo's browser plugin flags → the names stored (sorted) in props ``plugins``.
PLUGINS = {
    "fla": "flash",
    "java": "java",
    "dir": "director",
    "qt": "quicktime",
    "realp": "realplayer",
    "pdf": "pdf",
    "wma": "windowsmedia",
    "gears": "gears",
    "ag": "silverlight",
    "cookie": "cookie",
}


class MatomoError(Exception):
    """The request tracks nothing: Matomo answers 400 with the reason."""


def _charset(name: str) -> str:
    """The codec for a ``cs`` value: a text encoding Python knows, else UTF-8."""
    try:
        b"".decode(name.strip())  # LookupError for unknown names and for rot13, base64…
        return codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        return "utf-8"


def _decode(text: str, charset: str) -> str:
    data = text.encode("latin-1")
    try:
        return data.decode(charset, "replace")
    except (UnicodeError, ValueError):  # a codec that refuses the "replace" handler (idna)
        return data.decode("utf-8", "replace")


def _parse_parts(parts: tuple[bytes, ...], encoding: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for part in parts:
        try:
            pairs += parse_qsl(
                part.decode(encoding, "replace"),
                keep_blank_values=True,
                max_num_fields=MAX_PARAMETERS,
                encoding=encoding,
                errors="replace",
            )
        except ValueError as exc:
            raise MatomoError(f"At most {MAX_PARAMETERS} parameters per request.") from exc
    return pairs


def decode_query(*parts: bytes) -> tuple[list[tuple[str, str]], str]:
    """Query strings or form bodies (raw bytes, later parts win) → (pairs, charset).

    Values are percent-decoded to bytes first, then decoded from the charset named by
    the last ``cs`` parameter (UTF-8 without one, or for a charset Python does not know):
    ``action_name=%E9t%E9&cs=ISO-8859-1`` is "été". Raises ``MatomoError`` on more than
    ``MAX_PARAMETERS`` parameters.
    """
    if not any(b"cs=" in part for part in parts):  # the usual case: UTF-8, one pass
        return _parse_parts(parts, "utf-8"), "utf-8"
    raw = _parse_parts(parts, "latin-1")  # one character per byte: nothing is lost yet
    charset = "utf-8"
    for key, value in raw:
        if key == "cs" and value.strip():
            charset = _charset(value)
    return [(_decode(k, charset), _decode(v, charset)) for k, v in raw], charset


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Request:
    """A single tracking request's parameters, cleaned of ``undefined`` and empty values."""

    params: dict[str, str]
    charset: str = "utf-8"

    @classmethod
    def from_query(cls, *parts: bytes) -> Request:
        pairs, charset = decode_query(*parts)
        return cls.from_pairs(pairs, charset)

    @classmethod
    def from_pairs(cls, pairs, charset: str = "utf-8") -> Request:
        params: dict[str, str] = {}
        for key, value in pairs:
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            value = value.strip().replace("\x00", "")  # PostgreSQL text cannot hold NUL
            if not value.isascii():  # lone surrogates from JSON bulk bodies
                value = value.encode("utf-8", "replace").decode("utf-8")
            if value and value != "undefined" and len(key) <= 64:
                params[key] = value[: MAX_FIELD * 4]
        return cls(params, charset)

    def get(self, key: str, limit: int = MAX_FIELD) -> str:
        return self.params.get(key, "")[:limit]

    def flag(self, key: str) -> bool:
        return self.params.get(key) == "1"

    def number(self, key: str) -> Decimal | None:
        value = self.params.get(key)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() and abs(number) < Decimal("1e14") else None


def _custom_variables(value: str) -> dict:
    """``{"1":["OS","iphone 5.0"],…}`` → ``{"OS": "iphone 5.0"}``; invalid JSON is ignored."""
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    pairs = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    props = {}
    for pair in pairs:
        if (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, str | int | float) for p in pair)
        ):
            props[str(pair[0])[:200]] = str(pair[1])[:200]
    return props


CDT_PADDED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def parse_cdt(value: str) -> datetime | None:
    """``2011-04-05 00:11:42`` (UTC) or a UNIX timestamp."""
    try:
        if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if CDT_PADDED.fullmatch(value):  # what trackers send: read in C (strptime ~30 us)
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


# Parameters that change between two sendings of the same hit (cache busters, credentials).
NOT_THE_HIT = frozenset({"token_auth", "rand", "r", "_", "debug", "send_image", "queuedtracking"})


def replay_key(site_id: int, request: Request) -> str:
    """What identifies a back-dated hit (``cdt`` and ``cip``, an Admin's token): the same log
    line sent again by Matomo's log importer gives the same key, so the same event id."""
    kept = sorted((k, v) for k, v in request.params.items() if k not in NOT_THE_HIT)
    return f"matomo-replay:{site_id}:{json.dumps(kept, ensure_ascii=False)}"


def idsite_of(request: Request) -> str:
    return request.get("idsite", 32)


# Plugin requests (``ca=1`` without ``e_c``): Media Analytics and Form Analytics
# parameters → props of a behaviour signal.
MEDIA_PROPS = {
    "ma_id": "media_id",
    "ma_ti": "title",
    "ma_re": "resource",
    "ma_mt": "media_type",
    "ma_pn": "player",
    "ma_st": "seconds_watched",
    "ma_le": "length",
    "ma_ps": "position",
    "ma_ttp": "time_to_play",
    "ma_w": "width",
    "ma_h": "height",
    "ma_fs": "fullscreen",
}
FORM_PROPS = {
    "fa_id": "form_id",
    "fa_name": "form_name",
    "fa_vid": "form_view_id",
    "fa_fv": "viewed",
    "fa_st": "started",
    "fa_su": "submitted",
    "fa_co": "converted",
    "fa_ts": "time_spent_ms",
    "fa_ht": "hesitation_ms",
    "fa_fp": "fields",
}


# --- ecommerce (docs/ecommerce.md) --------------------------------------------------------

ORDER_EVENT = "Ecommerce Order"
CART_EVENT = "Cart Update"
MAX_ITEMS_TEXT = 64_000  # of ``ec_items`` read at all
ITEMS_LIMIT = 8000  # characters of the stored items' JSON: whole items only, never cut JSON
MAX_CATEGORIES = 5  # as Matomo: an item or a product view has up to five categories
PRODUCT_VIEW = {"_pks": "product_sku", "_pkn": "product_name", "_pkc": "product_category"}


def _amount(value) -> str | None:
    """A price as Matomo reads it (a number, or a string of one), as exact decimal text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e14"):
        return None
    return format(number, "f")


def _categories(value) -> list[str]:
    """An item's category: a string, or an array of up to five (Matomo's JS tracker sends
    the array itself in ``ec_items``, and as JSON text in ``_pkc``)."""
    if isinstance(value, str) and value.startswith("["):
        with contextlib.suppress(ValueError, RecursionError):
            value = json.loads(value)
    values = value if isinstance(value, list) else [value]
    names = [str(v).strip()[:200] for v in values if isinstance(v, str | int | float)]
    return [name for name in names if name][:MAX_CATEGORIES]


def ecommerce_items(text: str) -> str:
    """``ec_items`` (``[[sku, name, category, price, quantity], …]``) → the stored JSON text
    of ``[sku, name, [categories], price, quantity]`` per item, or "".

    As Matomo: an item needs a SKU; a missing name or category is empty, a missing price 0,
    a missing quantity 1; a quantity is a whole number. Items that do not fit
    ``ITEMS_LIMIT`` are left out whole, so the text is always valid JSON."""
    if not text:
        return ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return ""
    if isinstance(data, dict):  # an object keyed by position, as some trackers send
        data = list(data.values())
    if not isinstance(data, list):
        return ""
    items = []
    for raw in data:
        if not isinstance(raw, list) or not raw or raw[0] in (None, "", [], {}):
            continue
        sku, name, category, price, quantity = (list(raw) + [None] * 5)[:5]
        if not isinstance(sku, str | int | float) or isinstance(sku, bool):
            continue
        amount = _amount(price) or "0"
        count = _amount(quantity)
        items.append(
            [
                str(sku).strip()[:200],
                str(name).strip()[:200] if isinstance(name, str | int | float) else "",
                _categories(category),
                amount,
                max(0, min(int(Decimal(count)), 1_000_000)) if count is not None else 1,
            ]
        )
    kept = ""
    for end in range(len(items), 0, -1):
        kept = json.dumps(items[:end], ensure_ascii=False, separators=(",", ":"))
        if len(kept) <= ITEMS_LIMIT:
            return kept
    return ""


def _product_view(request: Request, props: dict) -> None:
    """Matomo's product or category page (``setEcommerceView``): ``_pks``/``_pkn``/``_pkc``/
    ``_pkp`` as parameters (Matomo 4+) or page custom variables (older trackers) → props
    ``product_sku``/``product_name``/``product_category``/``product_price``."""
    for key, name in PRODUCT_VIEW.items():
        value = request.get(key, 2000) or str(props.pop(key, "") or "")
        props.pop(key, None)
        if key == "_pkc":
            value = ", ".join(_categories(value)) if value else ""
        if value.strip():
            props[name] = value.strip()[:200]
    price = request.get("_pkp", 64) or str(props.pop("_pkp", "") or "")
    props.pop("_pkp", None)
    if price and (amount := _amount(price)) is not None:
        props["product_price"] = amount


def _plugin_signal(request: Request) -> tuple[Kind, str, dict, bool] | None:
    """A plugin request as a behaviour signal, or None when Footfall has no place for it."""
    for name, mapping in (("media", MEDIA_PROPS), ("form", FORM_PROPS)):
        props = {
            prop: request.get(param, 4000 if param == "fa_fp" else 500)
            for param, prop in mapping.items()
            if request.get(param)
        }
        if props:
            return Kind.BEHAVIOUR, name, props, False
    return None


Tracked = tuple[Kind, str, dict, bool]


def _kind_and_name(request: Request) -> Tracked | None:
    """What the request tracks: (kind, name, props, interactive); None for a plugin
    request (``ca=1``) Footfall has no place for."""
    if request.flag("ping"):
        return Kind.HEARTBEAT, "heartbeat", {}, False
    if request.get("e_c") or request.get("e_a"):
        return _event(request)
    if request.get("c_n"):
        return _content(request)
    if request.get("link"):
        return Kind.CUSTOM, "Outbound Link: Click", {"url": request.get("link")}, True
    if request.get("download"):
        return Kind.CUSTOM, "File Download", {"url": request.get("download")}, True
    if request.get("search"):
        return _site_search(request)
    idgoal = request.get("idgoal", 12)
    if idgoal == "0":
        return _order(request) if request.get("ec_id") else _cart(request)
    if idgoal.isdigit():
        return Kind.CUSTOM, f"Goal {idgoal}", {"goal_id": idgoal}, True
    if request.flag("ca"):
        # Matomo's "custom action": a plugin's request, never a page view.
        return _plugin_signal(request)
    return Kind.PAGEVIEW, "pageview", {}, True


def _event(request: Request) -> Tracked:
    """A Matomo event (``e_c`` category and ``e_a`` action, both required)."""
    if not request.get("e_c") or not request.get("e_a"):
        raise MatomoError("Events require both a category (e_c) and an action (e_a).")
    props = {"category": request.get("e_c", 200), "action": request.get("e_a", 200)}
    if request.get("e_n"):
        props["name"] = request.get("e_n", 500)
    if (value := request.number("e_v")) is not None:
        props["value"] = str(value)
    return Kind.CUSTOM, request.get("e_c", 200), props, True


def _content(request: Request) -> Tracked:
    """A content impression, or an interaction with it (``c_i``)."""
    props = {
        k: request.get(p, 500)
        for k, p in (("name", "c_n"), ("piece", "c_p"), ("target", "c_t"))
        if request.get(p)
    }
    if request.get("c_i"):
        props["interaction"] = request.get("c_i", 200)
        return Kind.CUSTOM, "Content Interaction", props, True
    return Kind.CUSTOM, "Content Impression", props, False


def _site_search(request: Request) -> Tracked:
    props = {"keyword": request.get("search", 500)}
    if request.get("search_cat"):
        props["category"] = request.get("search_cat", 200)
    if request.get("search_count").isdigit():
        props["count"] = request.get("search_count", 12)
    return Kind.CUSTOM, "Site Search", props, True


def _order(request: Request) -> Tracked:
    """An ecommerce order (``idgoal=0`` with ``ec_id``)."""
    props: dict = {"order_id": request.get("ec_id", 200)}
    for key, name in (
        ("ec_st", "subtotal"),
        ("ec_tx", "tax"),
        ("ec_sh", "shipping"),
        ("ec_dt", "discount"),
    ):
        if (value := request.number(key)) is not None:
            props[name] = str(value)
    if items := ecommerce_items(request.get("ec_items", MAX_ITEMS_TEXT)):
        props["items"] = items
    if request.number("revenue") is None:
        raise MatomoError(
            "An ecommerce order (idgoal=0 with ec_id) requires revenue, its grand total."
        )
    return Kind.CUSTOM, ORDER_EVENT, props, True


def _cart(request: Request) -> Tracked:
    """A cart update: its revenue is the cart's value, not revenue (docs/ecommerce.md)."""
    props: dict = {}
    if (total := request.number("revenue")) is not None:
        props["cart_total"] = str(total)
    if items := ecommerce_items(request.get("ec_items", MAX_ITEMS_TEXT)):
        props["items"] = items
    return Kind.CUSTOM, CART_EVENT, props, True


def page_url(value: str) -> str:
    """The action's URL when it looks like one, else "" (the page is unknown)."""
    match = LOOKS_LIKE_URL.match(value)
    if match is None or (match.group(1) or "").lower() in SCRIPT_SCHEMES:
        return ""
    return value


def uid_hash(site_id: int, uid: str) -> str:
    """The stored form of a Matomo ``uid``: the per-site keyed hash used for site-supplied
    visitor ids, as 16 hex digits. Stable across days, so it can be filtered on."""
    return f"{visitors.supplied_visitor_id(site_id, f'uid:{uid}') & (2**64 - 1):016x}"


def _days_since(request: Request, key: str, at: datetime) -> str | None:
    """Whole days between a UNIX timestamp parameter and the hit (Matomo's ``_viewts``/``_idts``)."""
    value = request.get(key, 20)
    if not ASCII_DIGITS.fullmatch(value):  # str.isdigit() also takes "²", which int() refuses
        return None
    seconds = at.timestamp() - int(value)
    return str(int(seconds // 86400)) if 0 <= seconds < 100 * 365 * 86400 else None


def _local_time(request: Request, at: datetime) -> str | None:
    """``h``/``m``/``s`` as ``HH:MM:SS`` (Matomo's rules: a part that is missing or not a
    number is taken from the request's time, one out of range is 0)."""
    if not any(request.get(key) for key in ("h", "m", "s")):
        return None
    parts = []
    for key, default, top in (("h", at.hour, 23), ("m", at.minute, 59), ("s", at.second, 59)):
        value = request.get(key, 12)
        number = int(value) if re.fullmatch(r"-?[0-9]{1,6}", value) else default
        parts.append(number if 0 <= number <= top else 0)
    return "{:02d}:{:02d}:{:02d}".format(*parts)


def _visit_attributes(request: Request, at: datetime) -> dict:
    """Matomo's visit attributes, stored in props under Footfall's own keys."""
    props = {}
    if ASCII_DIGITS.fullmatch(request.get("_idvc", 12)):
        props["visit_count"] = request.get("_idvc", 12)
    for key, param in (("days_since_last_visit", "_viewts"), ("days_since_first_visit", "_idts")):
        if (days := _days_since(request, param, at)) is not None:
            props[key] = days
    if (local_time := _local_time(request, at)) is not None:
        props["local_time"] = local_time
    plugins = sorted(name for param, name in PLUGINS.items() if request.flag(param))
    if plugins:
        props["plugins"] = ",".join(plugins)
    return props


def _timestamp(
    request: Request, *, authorized: bool, now: datetime, cdt_max_age: timedelta
) -> datetime | None:
    """The ``cdt`` override: one in the future is now; an old one needs a token."""
    cdt = request.get("cdt", 64)
    if not cdt:
        return None
    timestamp = parse_cdt(cdt)
    if timestamp is None:
        raise MatomoError("The cdt parameter is not a valid date and time.")
    if timestamp > now + FUTURE_SKEW:
        timestamp = now
    if timestamp < now - cdt_max_age and not authorized:
        raise MatomoError(
            "Custom timestamp is older than the allowed age: a valid token_auth is required."
        )
    return timestamp


def build_hit(
    site: SiteConfig,
    request: Request,
    *,
    authorized: bool,
    header_user_agent: str,
    header_language: str,
    ip: str,
    now: datetime,
    cdt_max_age: timedelta,
) -> Hit | DropReason:
    """Validate one tracking request and map it onto a hit; raises ``MatomoError``.

    A missing URL, or one that does not look like a URL (the React Native tracker sends
    ``undefined``), leaves the page unknown: the hit is kept, as Matomo keeps it.
    """
    if request.get("rec") != "1":
        raise MatomoError("The rec parameter must be set to 1 to track a request.")
    url = page_url(request.get("url"))
    tracked = _kind_and_name(request)
    timestamp = _timestamp(request, authorized=authorized, now=now, cdt_max_age=cdt_max_age)
    if tracked is None:
        return DropReason.PLUGIN_REQUEST
    kind, name, props, interactive = tracked
    for scope in ("_cvar", "cvar"):
        if request.get(scope):
            props.update(_custom_variables(request.get(scope, 8000)))
    if request.get("gt_ms").isdigit():
        props["gt_ms"] = request.get("gt_ms", 12)
    action_name = request.get("action_name", 512)
    if kind == Kind.PAGEVIEW and (error := HTTP_ERROR_TITLE.match(action_name)):
        # Matomo's log importer titles an HTTP error page "404/URL = …/From = …": its
        # category is the status, as in Matomo's page titles report.
        props["action_category"] = error.group(1)
    elif kind == Kind.PAGEVIEW and "/" in action_name:
        props["action_category"] = action_name.rsplit("/", 1)[0].strip()

    if kind == Kind.PAGEVIEW:
        _product_view(request, props)
    props.update(_visit_attributes(request, timestamp or now))
    if uid := request.get("uid", 200):
        props["uid"] = uid_hash(site.id, uid)  # never stored in clear
    # A goal's or an order's revenue; a cart update's value is kept as ``cart_total``.
    revenue = request.number("revenue") if request.get("idgoal") and name != CART_EVENT else None
    width = height = None
    if match := RESOLUTION.match(request.get("res", 32)):
        width, height = int(match.group(1)) or None, int(match.group(2)) or None

    visitor_key = ""
    for key in ("uid", "cid", "_id", "id"):
        value = request.get(key, 200)
        if value and (key == "uid" or HEX16.match(value)):
            visitor_key = f"uid:{value}" if key == "uid" else f"id:{value.lower()}"
            break

    hit = Hit(
        site=site,
        protocol=Protocol.MATOMO,
        kind=kind,
        name=name,
        url=url,
        referrer=request.get("urlref"),
        title=action_name,
        user_agent=request.get("ua", 1000) or header_user_agent,
        ip=ip,
        accept_language=request.get("lang", 200) or header_language,
        screen_width=width,
        screen_height=height,
        props=props,
        revenue_amount=revenue,
        revenue_currency="",  # Matomo sends amounts in the site's currency, never a code
        timestamp=timestamp,
        visitor_key=visitor_key,
        new_visit=request.flag("new_visit"),
        utm_campaign=request.get("_rcn", 200),
        utm_term=request.get("_rck", 200),
        interactive=interactive,
        allow_bots=request.flag("bots"),
        # Plugin signals belong to a visit already under way: they never start one.
        starts_session=kind != Kind.BEHAVIOUR,
    )
    if authorized:
        hit.country_code = request.get("country", 2).upper()
        hit.region = request.get("region", 16)
        hit.city = request.get("city", 128)
    return hit


# --- debug mode --------------------------------------------------------------------------


@dataclass(slots=True)
class Parsed:
    """One tracking request on its way through the endpoint, kept for the debug trace."""

    params: Request
    site: SiteConfig | None = None
    authorized: bool = False
    hit: Hit | None = None
    refused: str = ""  # MatomoError's message: the request tracks nothing
    dropped: str = ""  # a DropReason, from the adapter or the pipeline
    event_id: str = ""


# Parameters whose values are never echoed, even to the site's admins.
SECRET_PARAMETERS = frozenset({"token_auth", "cip"})


def debug_trace(entries: list[Parsed], *, debugged: list[bool]) -> str:
    """Matomo's tracker debug output, Footfall's way: how each request was read, what it
    became and what happened to it. Only requests whose site the token administers are
    detailed; the token itself and the visitor's IP address are never shown."""
    lines = [
        "Footfall: Matomo tracking debug output (debug=1 with an Admin or Owner token_auth).",
        "",
    ]
    for number, (entry, shown) in enumerate(zip(entries, debugged, strict=True), start=1):
        lines.append(f"Request {number}")
        if not shown:
            lines += ["  Not shown: token_auth is not an Admin's or Owner's key for this site.", ""]
            continue
        lines.append(f"  Input parameters (decoded as {entry.params.charset}):")
        for key in sorted(entry.params.params):
            value = entry.params.params[key]
            shown_value = "(hidden)" if key in SECRET_PARAMETERS else value[:300]
            lines.append(f"    {key} = {shown_value}")
        site = entry.site
        assert site is not None  # a parsed entry always names its site
        lines.append(f"  Site: {site.id} ({site.hostname}), token_auth: Admin or Owner")
        if entry.hit is not None:
            lines += _hit_lines(entry.hit)
        if entry.refused:
            lines.append(f"  Result: refused (400): {entry.refused}")
        elif entry.dropped:
            lines.append(f"  Result: dropped ({entry.dropped}), counted for the site")
        else:
            lines.append(f"  Result: stored (event {entry.event_id})")
        lines.append("")
    return "\n".join(lines)


def _hit_lines(hit: Hit) -> list[str]:
    if hit.url:
        parts = parse_page_url(hit.url, hit.keep_fragment)
        page = f"{hit.url} (host {parts.hostname or '(none)'}, path {parts.path})"
    else:
        page = "(none: the page is unknown)"
    visitor = (
        "the uid (hashed)"
        if hit.visitor_key.startswith("uid:")
        else "the 16-hex visitor id (hashed)"
        if hit.visitor_key
        else "IP address and user agent (hashed with the daily salt)"
    )
    return [
        f"  Tracked as: {hit.kind} {json.dumps(hit.name, ensure_ascii=False)}"
        + ("" if hit.interactive else " (non-interactive)"),
        f"  Page URL: {page}",
        f"  Title: {hit.title or '(none)'}",
        f"  Referrer: {hit.referrer or '(none)'}",
        f"  Time: {hit.timestamp.isoformat() if hit.timestamp else 'now (no cdt)'}",
        f"  Visitor identified by: {visitor}; IP address used, never stored or shown",
        f"  New visit forced: {'yes' if hit.new_visit else 'no'}; "
        + ("may start a visit" if hit.starts_session else "only continues a visit under way"),
        f"  User agent: {hit.user_agent or '(none)'}",
        f"  Props: {json.dumps(hit.props, ensure_ascii=False, sort_keys=True)}",
        f"  Revenue: {hit.revenue_amount if hit.revenue_amount is not None else '(none)'}",
    ]
