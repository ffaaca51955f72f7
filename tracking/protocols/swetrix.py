"""Swetrix's Events API (``/log``, ``/log/custom``, ``/log/hb``, ``/log/error``) and its
no-JavaScript pixel (``GET /log/noscript?pid=…``): request → hit.

Swetrix is a NestJS service: its errors read ``{"statusCode", "message", "error"}``, and a
path it does not serve answers Nest's ``404 "Cannot <METHOD> <path>"`` in that shape.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, urlsplit

from tracking.hits import Hit, Kind, Protocol, SiteConfig

EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,62}$")
MAX_META_KEYS = 20
MAX_META_LENGTH = 1000
PERF_FIELDS = ("dns", "tls", "conn", "response", "render", "dom_load", "page_load", "ttfb")
MAX_TEXT = 2048
MAX_SOURCE = 300  # as the snippet's error collector
MAX_POSITION = 10**8
REASONS = {
    400: "Bad Request",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


# A 1×1 transparent GIF: what Swetrix's noscript pixel answers.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class SwetrixError(Exception):
    def __init__(self, status: int, message: str | list[str]):
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict:
        return {
            "statusCode": self.status,
            "message": self.message,
            "error": REASONS.get(self.status, "Error"),
        }


def _text(payload: dict, key: str, limit: int = MAX_TEXT) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SwetrixError(400, [f"{key} must be a string"])
    return value[:limit]


def _flag(payload: dict, key: str) -> bool:
    value = payload.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise SwetrixError(400, [f"{key} must be a boolean value"])
    return value


def check_site(site: SiteConfig | None) -> SiteConfig:
    """Swetrix's project rules: unknown or disabled → 400, over quota or inactive → 402."""
    if site is None:
        raise SwetrixError(400, "The provided Project ID (pid) is incorrect")
    if site.tracking_state == "disabled":
        raise SwetrixError(400, "This project is disabled")
    if site.tracking_state in ("over_quota", "inactive"):
        raise SwetrixError(
            402,
            "You have exceeded the available monthly request limit for your account. Please upgrade your account plan if you need more requests.",
        )
    return site


def require_pid(payload) -> str:
    if not isinstance(payload, dict):
        raise SwetrixError(400, "Request body must be a JSON object")
    pid = payload.get("pid")
    if not isinstance(pid, str) or not pid.strip():
        raise SwetrixError(400, ["pid should not be empty", "pid must be a string"])
    return pid.strip()


def _meta(payload: dict) -> dict:
    meta = payload.get("meta")
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise SwetrixError(400, ["meta must be an object"])
    if len(meta) > MAX_META_KEYS:
        raise SwetrixError(400, f"Event metadata object can't have more than {MAX_META_KEYS} keys")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise SwetrixError(400, "Event metadata values must be strings")
    if sum(len(v) for v in meta.values()) >= MAX_META_LENGTH:
        raise SwetrixError(
            400, f"Event metadata values must be less than {MAX_META_LENGTH} characters combined"
        )
    return dict(meta)


def _perf(payload: dict) -> dict:
    perf = payload.get("perf")
    if not isinstance(perf, dict):
        return {}
    clean = {}
    for key in PERF_FIELDS:
        value = perf.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 10**9:
            clean[key] = value
    return clean


def _position_number(payload: dict, key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:  # NaN and Infinity are not whole either
        raise SwetrixError(400, [f"{key} must be a number"])
    return int(value) if 0 <= value <= MAX_POSITION else None


def _error_position(payload: dict) -> dict:
    """``filename``/``lineno``/``colno`` under the snippet's keys (``source``/``line``/
    ``column``), so the errors insight shows both alike; like the snippet, the source
    loses its query and fragment (they may carry tokens)."""
    source = re.split(r"[?#]", _text(payload, "filename", MAX_TEXT), maxsplit=1)[0]
    position = {
        "source": source[:MAX_SOURCE] or None,
        "line": _position_number(payload, "lineno"),
        "column": _position_number(payload, "colno"),
    }
    return {key: value for key, value in position.items() if value is not None}


def _page_url(site: SiteConfig, payload: dict) -> str:
    page = _text(payload, "pg") or "/"
    if not page.startswith("/"):
        page = "/" + page
    query = _text(payload, "qs")
    url = f"https://{site.hostname}{quote(page, safe='/%:@!$&()*+,;=~.-_#')}"
    if query:
        url += query if query.startswith("?") else f"?{query}"
    return url


def build_hit(
    site: SiteConfig, payload: dict, kind: Kind, *, user_agent: str, ip: str, accept_language: str
) -> Hit:
    """One hit from a validated body; raises ``SwetrixError`` (400) on wrong field types."""
    props: dict = {}
    name = "pageview"
    if kind == Kind.CUSTOM:
        event = payload.get("ev")
        if not isinstance(event, str) or not EVENT_NAME.match(event):
            raise SwetrixError(
                400,
                "An event name (ev) must start with an English letter, contain only letters (a-z A-Z), numbers (0-9), underscores (_) and dots (.), and be fewer than 64 characters",
            )
        name = event
        props = _meta(payload)
    elif kind == Kind.PAGEVIEW:
        props = _meta(payload)
        if prev := _text(payload, "prev"):
            props["prev"] = prev
        if perf := _perf(payload):
            props["perf"] = perf
    elif kind == Kind.ERROR:
        name = "js_exception"
        message = _text(payload, "message", 1000)
        if not message and not _text(payload, "name", 200):
            raise SwetrixError(400, ["message should not be empty"])
        props = {
            "name": _text(payload, "name", 200),
            "message": message,
            "stack": _text(payload, "stackTrace", 4000),
            **_error_position(payload),
        }
    elif kind == Kind.HEARTBEAT:
        name = "heartbeat"
    unique = _flag(payload, "unique")
    profile = payload.get("profileId")
    return Hit(
        site=site,
        protocol=Protocol.SWETRIX,
        kind=kind,
        name=name,
        url=_page_url(site, payload) if kind != Kind.HEARTBEAT else f"https://{site.hostname}/",
        referrer=_text(payload, "ref"),
        user_agent=user_agent,
        ip=ip,
        accept_language=accept_language,
        language=_text(payload, "lc", 35),
        props=props,
        utm_source=_text(payload, "so", 200),
        utm_medium=_text(payload, "me", 200),
        utm_campaign=_text(payload, "ca", 200),
        utm_term=_text(payload, "te", 200),
        utm_content=_text(payload, "co", 200),
        visitor_timezone=_text(payload, "tz", 64),
        visitor_key=profile[:200] if isinstance(profile, str) and profile.strip() else "",
        unique=unique,
    )


def not_found(method: str, path: str) -> SwetrixError:
    """Nest's answer for a route it does not have (``/log/identify``, ``/log/revenue``…)."""
    return SwetrixError(404, f"Cannot {method} {path}")


def build_noscript_hit(
    site: SiteConfig, *, page_url: str, user_agent: str, ip: str, accept_language: str
) -> Hit:
    """A page view from the ``<noscript>`` pixel. Swetrix's install snippet sets
    ``referrerpolicy="no-referrer-when-downgrade"``, so the Referer is the page that shows
    the pixel: its path (and query) is the page; where the visitor came from is unknown."""
    try:
        page = urlsplit(page_url) if page_url.startswith(("http://", "https://")) else None
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        page = None
    payload = {"pg": page.path or "/", "qs": page.query} if page else {}
    return Hit(
        site=site,
        protocol=Protocol.SWETRIX,
        kind=Kind.PAGEVIEW,
        name="pageview",
        url=_page_url(site, payload),
        user_agent=user_agent,
        ip=ip,
        accept_language=accept_language,
    )
