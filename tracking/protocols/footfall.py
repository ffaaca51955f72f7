"""The Footfall snippet's collection protocol (``POST /api/collect``): payload → hits.

One request describes one page (key, URL, referrer, title, width) and carries a list
of signals that happened on it (``docs/protocols.md`` has the full table). Validation
is strict and all-or-nothing: the snippet itself never sends anything these rules
refuse, so a refused request is a broken or hand-made client, and it learns why
(``{"error": {"status", "code", "message", "field"}}``). Typed signals accept only
their documented props: no free-form data (text content, input values) can ride along.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

from tracking.enrichment.pageurl import InvalidUrl, validate_page_url
from tracking.hits import Hit, Kind, Protocol, SiteConfig
from tracking.protocols.plausible import clean_revenue

MAX_EVENTS = 50
MAX_KEY = 48
MAX_URL = 2000
MAX_REFERRER = 2000
MAX_TITLE = 500
MAX_NAME = 120
MAX_PROPS = 30
MAX_PROP_KEY = 300
MAX_PROP_VALUE = 2000
MAX_SELECTOR = 200
MAX_MESSAGE = 500
MAX_SOURCE = 300
DAY_MS = 86_400_000
MAX_VITAL_MS = 600_000

# tag, then either #id or up to two classes and an optional :nth-of-type(n).
SELECTOR = re.compile(
    r"^[a-z][a-z0-9-]{0,40}"
    r"(?:#[A-Za-z][\w-]{0,63}|(?:\.[A-Za-z_-][\w-]{0,39}){0,2}(?::nth-of-type\(\d{1,5}\))?)$"
)
SEO_ISSUES = (
    "missing_title",
    "missing_meta_description",
    "missing_h1",
    "multiple_h1",
    "images_without_alt",
    "missing_canonical",
)


class CollectError(Exception):
    """A refused request: ``{"error": {"status", "code", "message", "field"?}}``."""

    def __init__(self, status: int, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict:
        error = {"status": self.status, "code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def _invalid(where: str, message: str) -> CollectError:
    return CollectError(400, "invalid_field", f"{where}: {message}", where)


# Validators for typed props: (value, where) → cleaned value, or raise.
Check = Callable[[object, str], object]
TextCheck = Callable[[object, str], str]


def integer(lo: int, hi: int) -> Check:
    def check(value, where):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _invalid(where, f"must be an integer from {lo} to {hi}")
        return value

    return check


def number(lo: float, hi: float) -> Check:
    def check(value, where):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not lo <= value <= hi
        ):
            raise _invalid(where, f"must be a number from {lo:g} to {hi:g}")
        return value

    return check


def text(limit: int, *, empty: bool = True) -> TextCheck:
    def check(value: object, where: str) -> str:
        if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
            blank = "" if empty else "non-empty "
            raise _invalid(where, f"must be a {blank}string of at most {limit} characters")
        return value

    return check


def selector(*, empty: bool = False) -> Check:
    def check(value, where):
        if empty and value == "":
            return value
        if not isinstance(value, str) or len(value) > MAX_SELECTOR or not SELECTOR.match(value):
            raise _invalid(
                where, "must be a short selector (tag, #id or .classes, :nth-of-type(n))"
            )
        return value

    return check


def issue_codes(value, where):
    if (
        not isinstance(value, list)
        or len(value) > len(SEO_ISSUES)
        or any(code not in SEO_ISSUES for code in value)
        or len(set(value)) != len(value)
    ):
        raise _invalid(where, f"must be a list of distinct codes among {', '.join(SEO_ISSUES)}")
    return value


@dataclass(frozen=True)
class SignalType:
    """One allowed ``t``: how it is stored and which props it takes."""

    kind: Kind
    collector: str | None  # None: core signal, always allowed
    schema: dict[str, tuple[Check, object]] = field(default_factory=dict)  # prop → (check, default)
    REQUIRED = object()


R = SignalType.REQUIRED
CLICK = {"selector": (selector(), R)}
ERROR = {
    "message": (text(MAX_MESSAGE, empty=False), R),
    "source": (text(MAX_SOURCE), ""),
    "line": (integer(0, 10**8), 0),
    "column": (integer(0, 10**8), 0),
}
OPTIONAL = None  # a prop stored only when sent
VITAL_MS = integer(0, MAX_VITAL_MS)

SIGNALS: dict[str, SignalType] = {
    "pageview": SignalType(Kind.PAGEVIEW, None),
    "custom": SignalType(Kind.CUSTOM, None),
    "reading_behavior": SignalType(
        Kind.ENGAGEMENT,
        None,
        {
            "visible_ms": (integer(0, DAY_MS), R),
            "active_ms": (integer(0, DAY_MS), R),
            "scroll_depth": (integer(0, 100), R),
            "scroll_velocity": (number(0, 1e6), R),
            "page_height": (integer(0, 10**7), R),
        },
    ),
    "rage_click": SignalType(Kind.BEHAVIOUR, "clicks", {**CLICK, "clicks": (integer(4, 1000), R)}),
    "dead_click": SignalType(Kind.BEHAVIOUR, "clicks", CLICK),
    "phantom_click": SignalType(Kind.BEHAVIOUR, "clicks", CLICK),
    "js_exception": SignalType(Kind.ERROR, "errors", ERROR),
    "promise_rejection": SignalType(Kind.ERROR, "errors", ERROR),
    "console_error": SignalType(Kind.ERROR, "errors", ERROR),
    "console_warning": SignalType(Kind.ERROR, "errors", ERROR),
    "form_abandon": SignalType(
        Kind.BEHAVIOUR,
        "forms",
        {
            "form": (selector(), R),
            "fields_touched": (integer(0, 1000), R),
            "last_field": (selector(empty=True), ""),
        },
    ),
    "form_hesitation": SignalType(
        Kind.BEHAVIOUR,
        "forms",
        {
            "form": (selector(), R),
            "field": (selector(), R),
            "hesitation_ms": (integer(0, DAY_MS), R),
        },
    ),
    "web_vitals": SignalType(
        Kind.BEHAVIOUR,
        "vitals",
        {
            "lcp": (VITAL_MS, OPTIONAL),
            "cls": (number(0, 100), OPTIONAL),
            "inp": (VITAL_MS, OPTIONAL),
            "fid": (VITAL_MS, OPTIONAL),
            "ttfb": (VITAL_MS, OPTIONAL),
        },
    ),
    "seo_diagnostics": SignalType(
        Kind.BEHAVIOUR,
        "seo",
        {
            "issues": (issue_codes, R),
            "h1_count": (integer(0, 100_000), R),
            "images_without_alt": (integer(0, 1_000_000), R),
            "title_length": (integer(0, 1_000_000), R),
            "description_length": (integer(0, 1_000_000), R),
        },
    ),
}
# Names a custom event may not take: they are the snippet's own signals.
RESERVED_NAMES = frozenset(SIGNALS) | {"engagement", "page_view"}


@dataclass
class Signal:
    type: str
    name: str
    props: dict
    revenue_amount: Decimal | None = None
    revenue_currency: str = ""

    @property
    def spec(self) -> SignalType:
        return SIGNALS[self.type]


@dataclass
class Collection:
    """One decoded request: the page and the signals that happened on it."""

    key: str
    url: str
    referrer: str
    title: str
    screen_width: int | None
    hash_mode: bool
    signals: list[Signal]


def custom_props(value, where: str) -> dict:
    """Free props of page views and custom events: at most 30 string pairs."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(where, "must be an object")
    if len(value) > MAX_PROPS:
        raise CollectError(
            400, "too_many_props", f"{where}: at most {MAX_PROPS} props per event", where
        )
    props: dict[str, str] = {}
    for key, item in value.items():
        at = f"{where}.{key[:40]}"
        if not key or len(key) > MAX_PROP_KEY:
            raise _invalid(where, f"keys must have 1 to {MAX_PROP_KEY} characters")
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float) and math.isfinite(item):
            item = str(item)
        if not isinstance(item, str) or len(item) > MAX_PROP_VALUE:
            raise _invalid(
                at, f"must be a string, number or boolean of at most {MAX_PROP_VALUE} characters"
            )
        props[key] = item
    return props


def typed_props(spec: SignalType, value, where: str) -> dict:
    """The documented props of a typed signal, checked; anything else is refused."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _invalid(where, "must be an object")
    unknown = sorted(set(value) - set(spec.schema))
    if unknown:
        raise _invalid(f"{where}.{unknown[0][:40]}", "is not a prop of this event type")
    props = {}
    for name, (check, default) in spec.schema.items():
        if name in value:
            props[name] = check(value[name], f"{where}.{name}")
        elif default is SignalType.REQUIRED:
            raise _invalid(f"{where}.{name}", "is required")
        elif default is not OPTIONAL:
            props[name] = default
    if spec.schema and not props:
        raise _invalid(where, "must hold at least one measurement")
    return props


def parse_signal(value, where: str) -> Signal:
    if not isinstance(value, dict):
        raise _invalid(where, "must be an object")
    signal_type = value.get("t")
    if signal_type not in SIGNALS:
        raise CollectError(
            400,
            "unknown_event_type",
            f"{where}.t: must be one of {', '.join(SIGNALS)}",
            f"{where}.t",
        )
    spec = SIGNALS[signal_type]
    if signal_type == "custom":
        name = value.get("n")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise _invalid(f"{where}.n", f"must be a name of 1 to {MAX_NAME} characters")
        name = name.strip()
        if name in RESERVED_NAMES:
            raise _invalid(f"{where}.n", "is reserved for the snippet's own signals")
        signal = Signal(signal_type, name, custom_props(value.get("p"), f"{where}.p"))
        if value.get("$") is not None:
            amount, currency = clean_revenue(value["$"])
            if amount is None:
                raise _invalid(f"{where}.$", "must be {amount: number, currency: ISO 4217 code}")
            signal.revenue_amount, signal.revenue_currency = amount, currency
        return signal
    if signal_type == "pageview":
        return Signal(signal_type, "pageview", custom_props(value.get("p"), f"{where}.p"))
    return Signal(signal_type, signal_type, typed_props(spec, value.get("p"), f"{where}.p"))


def _optional(payload: dict, key: str, check: Check, default):
    value = payload.get(key)
    return default if value is None else check(value, key)


def parse_collection(payload) -> Collection:
    """Validate a decoded body; raises ``CollectError`` (400) naming the first bad field."""
    if not isinstance(payload, dict):
        raise CollectError(400, "invalid_body", "the body must be a JSON object")
    key = payload.get("k")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise _invalid("k", "must be the site's public key (pk_live_…)")
    url = text(MAX_URL, empty=False)(payload.get("u"), "u")
    try:
        validate_page_url(url)
        scheme = urlsplit(url.strip()).scheme.lower()
    except InvalidUrl as exc:
        raise _invalid("u", str(exc)) from exc
    if scheme not in ("http", "https"):
        raise _invalid("u", "must be an http or https URL")
    referrer = _optional(payload, "r", text(MAX_REFERRER), "")
    title = _optional(payload, "t", text(MAX_TITLE), "")
    width = _optional(payload, "w", integer(0, 100_000), 0) or None
    hash_mode = payload.get("h") in (1, True)
    events = payload.get("e")
    if not isinstance(events, list) or not events:
        raise _invalid("e", "must be a non-empty list of events")
    if len(events) > MAX_EVENTS:
        raise CollectError(
            400, "too_many_events", f"e: at most {MAX_EVENTS} events per request", "e"
        )
    signals = [parse_signal(event, f"e[{index}]") for index, event in enumerate(events)]
    return Collection(
        key=key,
        url=url.strip(),
        referrer=referrer,
        title=title,
        screen_width=width,
        hash_mode=hash_mode,
        signals=signals,
    )


def to_hit(
    collection: Collection,
    signal: Signal,
    site: SiteConfig,
    *,
    user_agent: str,
    ip: str,
    accept_language: str,
    do_not_track: bool,
) -> Hit:
    """The hit for one signal of a collection."""
    kind = signal.spec.kind
    hit = Hit(
        site=site,
        protocol=Protocol.FOOTFALL,
        kind=kind,
        name=signal.name,
        url=collection.url,
        referrer=collection.referrer,
        title=collection.title,
        user_agent=user_agent,
        ip=ip,
        accept_language=accept_language,
        screen_width=collection.screen_width,
        props=signal.props,
        revenue_amount=signal.revenue_amount,
        revenue_currency=signal.revenue_currency,
        do_not_track=do_not_track,
        keep_fragment=collection.hash_mode,
        # Signals about a page already viewed never open a session of their own.
        starts_session=kind in (Kind.PAGEVIEW, Kind.CUSTOM),
        collector=signal.spec.collector or "",
    )
    if kind == Kind.ENGAGEMENT:
        hit.duration_ms = signal.props["active_ms"]
        hit.scroll_depth = signal.props["scroll_depth"]
    return hit
