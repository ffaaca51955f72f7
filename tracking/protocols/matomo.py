"""Matomo's Tracking HTTP API (``/matomo.php``, ``/piwik.php``): parameters → hit.

Parameters come from the query string, a form body, or both (the body wins, as in
Matomo); the literal ``undefined`` and empty values mean "not set". Parameters that
need ``token_auth`` are honoured only when the caller's token is an Owner's or
Admin's key for the site (``authorized``); the rest are ignored without it.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from tracking.hits import Hit, Kind, Protocol, SiteConfig

HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
RESOLUTION = re.compile(r"^\s*(\d{1,5})\s*[x×X*]\s*(\d{1,5})\s*$")
MAX_FIELD = 2048
FUTURE_SKEW = timedelta(minutes=10)


class MatomoError(Exception):
    """The request tracks nothing: Matomo answers 400 with the reason."""


@dataclass(frozen=True, slots=True)
class Request:
    """A single tracking request's parameters, cleaned of ``undefined`` and empty values."""

    params: dict[str, str]

    @classmethod
    def from_pairs(cls, pairs) -> Request:
        params: dict[str, str] = {}
        for key, value in pairs:
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            value = value.strip().replace("\x00", "")  # PostgreSQL text cannot hold NUL
            if not value.isascii():  # lone surrogates from JSON bulk bodies
                value = value.encode("utf-8", "replace").decode("utf-8")
            if value and value != "undefined" and len(key) <= 64:
                params[key] = value[: MAX_FIELD * 4]
        return cls(params)

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


def parse_cdt(value: str) -> datetime | None:
    """``2011-04-05 00:11:42`` (UTC) or a UNIX timestamp."""
    try:
        if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), tz=UTC)
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def idsite_of(request: Request) -> str:
    return request.get("idsite", 32)


def _kind_and_name(request: Request) -> tuple[Kind, str, dict, bool]:
    """What the request tracks: (kind, name, props, interactive)."""
    if request.flag("ping"):
        return Kind.HEARTBEAT, "heartbeat", {}, False
    if request.get("e_c") or request.get("e_a"):
        if not request.get("e_c") or not request.get("e_a"):
            raise MatomoError("Events require both a category (e_c) and an action (e_a).")
        props = {"category": request.get("e_c", 200), "action": request.get("e_a", 200)}
        if request.get("e_n"):
            props["name"] = request.get("e_n", 500)
        if (value := request.number("e_v")) is not None:
            props["value"] = str(value)
        return Kind.CUSTOM, request.get("e_c", 200), props, True
    if request.get("c_n"):
        props = {
            k: request.get(p, 500)
            for k, p in (("name", "c_n"), ("piece", "c_p"), ("target", "c_t"))
            if request.get(p)
        }
        if request.get("c_i"):
            props["interaction"] = request.get("c_i", 200)
            return Kind.CUSTOM, "Content Interaction", props, True
        return Kind.CUSTOM, "Content Impression", props, False
    if request.get("link"):
        return Kind.CUSTOM, "Outbound Link: Click", {"url": request.get("link")}, True
    if request.get("download"):
        return Kind.CUSTOM, "File Download", {"url": request.get("download")}, True
    if request.get("search"):
        props = {"keyword": request.get("search", 500)}
        if request.get("search_cat"):
            props["category"] = request.get("search_cat", 200)
        if request.get("search_count").isdigit():
            props["count"] = request.get("search_count", 12)
        return Kind.CUSTOM, "Site Search", props, True
    idgoal = request.get("idgoal", 12)
    if idgoal == "0":
        if request.get("ec_id"):
            props = {"order_id": request.get("ec_id", 200)}
            for key, name in (
                ("ec_st", "subtotal"),
                ("ec_tx", "tax"),
                ("ec_sh", "shipping"),
                ("ec_dt", "discount"),
            ):
                if (value := request.number(key)) is not None:
                    props[name] = str(value)
            items = request.get("ec_items", 8000)
            if items:
                with contextlib.suppress(ValueError, RecursionError):
                    props["items"] = json.dumps(json.loads(items))[:4000]
            return Kind.CUSTOM, "Ecommerce Order", props, True
        return Kind.CUSTOM, "Cart Update", {}, True
    if idgoal.isdigit():
        return Kind.CUSTOM, f"Goal {idgoal}", {"goal_id": idgoal}, True
    return Kind.PAGEVIEW, "pageview", {}, True


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
) -> Hit:
    """Validate one tracking request and map it onto a hit; raises ``MatomoError``."""
    if request.get("rec") != "1":
        raise MatomoError("The rec parameter must be set to 1 to track a request.")
    url = request.get("url")
    if not url:
        raise MatomoError("The url parameter is required.")
    kind, name, props, interactive = _kind_and_name(request)
    for scope in ("_cvar", "cvar"):
        if request.get(scope):
            props.update(_custom_variables(request.get(scope, 8000)))
    if request.get("gt_ms").isdigit():
        props["gt_ms"] = request.get("gt_ms", 12)
    if request.get("_idvc").isdigit():
        props["visit_count"] = request.get("_idvc", 12)
    action_name = request.get("action_name", 512)
    if kind == Kind.PAGEVIEW and "/" in action_name:
        props["action_category"] = action_name.rsplit("/", 1)[0].strip()

    timestamp = None
    if cdt := request.get("cdt", 64):
        timestamp = parse_cdt(cdt)
        if timestamp is None:
            raise MatomoError("The cdt parameter is not a valid date and time.")
        if timestamp > now + FUTURE_SKEW:
            timestamp = now
        if timestamp < now - cdt_max_age and not authorized:
            raise MatomoError(
                "Custom timestamp is older than the allowed age: a valid token_auth is required."
            )

    revenue = request.number("revenue") if request.get("idgoal") else None
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
    )
    if authorized:
        hit.country_code = request.get("country", 2).upper()
        hit.region = request.get("region", 16)
        hit.city = request.get("city", 128)
    return hit
