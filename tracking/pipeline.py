"""The enrichment pipeline: one ``Hit`` in, one event row (or a drop reason) out.

Steps, in order:
0. ``check_collector`` the snippet's collector switches         → DropReason
1. ``check_policy``   excluded IPs, Do Not Track, bots        → DropReason
2. ``identify``       visitor id (daily-salted hash or a site-supplied id)
3. ``sessionize``     find or start the session (30 minutes), Swetrix ``unique``
4. ``acquire``        referrer, source, channel, UTM
5. ``describe``       user agent, geography, language, screen
and ``build_row`` lays the result out as ``tracking.models.Event`` columns (``revenue``
also in the site's reporting currency).

Steps 4 and 5 are session-scoped: the session's first hit that has a value fixes it, a
later hit brings a value only where the session lacked it, and every row carries the
session's values, not its hit's (``tracking.sessions``). The user agent is parsed and the
IP located only while the session still lacks what they would give.

The raw IP address and user agent are used here and never leave this module.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypedDict, cast

from django.conf import settings

from analytics_project.ids import uuid7
from sites.exchange_rates import convert
from tracking import sessions, snippet, visitors
from tracking.enrichment.bots import bot_reason
from tracking.enrichment.geo import (
    country_from_accept_language,
    country_from_timezone,
    get_locator,
)
from tracking.enrichment.pageurl import EMPTY, parse_page_url
from tracking.enrichment.referrers import classify_referrer
from tracking.enrichment.useragent import parse_user_agent
from tracking.hits import DropReason, EventRow, Hit, Kind, Protocol
from tracking.revenue import unconverted

# Kinds that keep a session alive but never start one.
KEEP_ALIVE_KINDS = frozenset({Kind.HEARTBEAT, Kind.ENGAGEMENT})
UNKNOWN_PAGE = replace(EMPTY, path="")


class Acquisition(TypedDict):
    """The acquisition columns of ``EventRow`` (``acquire``)."""

    referrer: str
    referrer_host: str
    source: str
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str


class Visit(TypedDict):
    """The visit columns of ``EventRow``: ``sessions.VISIT_FIELDS`` (``describe``)."""

    browser: str
    browser_version: str
    os: str
    os_version: str
    device_type: str
    screen_class: str
    screen_width: int | None
    screen_height: int | None
    language: str
    country_code: str
    region: str
    city: str


class Revenue(TypedDict):
    """The revenue columns of ``EventRow`` (``revenue``)."""

    revenue_amount: str | None
    revenue_currency: str
    revenue_reporting: str | None
    revenue_reporting_currency: str


def keeps_alive_only(hit: Hit) -> bool:
    """Whether ``hit`` may only extend a live session (a keep-alive kind, or flagged so)."""
    return hit.kind in KEEP_ALIVE_KINDS or not hit.starts_session


@dataclass(slots=True)
class Context:
    """What the steps learn about a hit as it goes through the pipeline."""

    hit: Hit
    at: datetime
    received_at: datetime
    visitor_id: int = 0
    session: sessions.SessionState | None = None
    session_start: bool = False

    @property
    def state(self) -> sessions.SessionState:
        """The session, for the steps after ``sessionize`` (which always sets it)."""
        state = self.session
        assert state is not None, "step run before sessionize"
        return state


def screen_class(width: int | None) -> str:
    """Pirsch's screen classes by width in CSS pixels."""
    if not width or width <= 0:
        return ""
    for minimum, name in (
        (2560, "UHD"),
        (1920, "XXL"),
        (1280, "XL"),
        (1024, "L"),
        (768, "M"),
        (415, "S"),
    ):
        if width >= minimum:
            return name
    return "XS"


def language_code(explicit: str, accept_language: str) -> str:
    """The primary language subtag (``en-US`` → ``en``) from ``lc``/``lang`` or Accept-Language."""
    value = explicit or accept_language.split(",", 1)[0].split(";", 1)[0]
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else ""


def _ip_excluded(ip: str, networks: tuple) -> bool:
    if not networks or not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in networks)


def check_collector(hit: Hit) -> DropReason | None:
    """A snippet signal of a collector the site turned off is dropped, whatever the tag
    asked (a stale or hand-edited tag cannot collect more than the owner allowed)."""
    if hit.collector and hit.collector not in snippet.collectors_for_site(hit.site.id):
        return DropReason.COLLECTOR_OFF
    return None


def check_policy(hit: Hit) -> DropReason | None:
    site = hit.site
    if _ip_excluded(hit.ip, site.excluded_networks):
        return DropReason.EXCLUDED_IP
    if hit.do_not_track and site.respect_dnt:
        return DropReason.DO_NOT_TRACK
    if site.bot_filter and not hit.allow_bots and bot_reason(hit.user_agent):
        return DropReason.BOT
    return None


def identify(ctx: Context) -> list[int]:
    """Candidate visitor ids, most preferred first (today's salt, then yesterday's)."""
    hit = ctx.hit
    if hit.visitor_key and hit.site.long_lived_visitor_ids:
        return [visitors.supplied_visitor_id(hit.site.id, hit.visitor_key)]
    # A site-supplied id replaces IP and user agent, but still lives one day by default.
    ip, agent = ("\x00id", hit.visitor_key) if hit.visitor_key else (hit.ip, hit.user_agent)
    today = ctx.received_at.date()
    return [
        visitors.visitor_hash(visitors.salt_for_day(day), hit.site.id, ip, agent)
        for day in (today, today - timedelta(days=1))
    ]


def session_keys(hit: Hit, received_at: datetime) -> list[str]:
    """The session keys ``enrich`` will look at for ``hit`` (to read a batch's at once)."""
    ctx = Context(hit=hit, at=hit.timestamp or received_at, received_at=received_at)
    return [sessions.key(hit.site.id, visitor_id) for visitor_id in identify(ctx)]


def sessionize(
    ctx: Context, store: sessions.SessionStore, candidates: list[int], path: str
) -> DropReason | None:
    hit = ctx.hit
    at = ctx.at.timestamp()
    # Swetrix's sessions also end at 00:00 UTC (its seed); the others only time out.
    visitor_id, state = store.find(
        hit.site.id, candidates, at, ends_at_midnight=hit.protocol == Protocol.SWETRIX
    )
    if hit.new_visit and not keeps_alive_only(hit):
        state = None
    if state is None:
        if keeps_alive_only(hit):
            return DropReason.NO_SESSION
        state = sessions.SessionState(
            id=sessions.new_session_id(),
            visitor_id=visitor_id,
            started=at,
            last_seen=at,
            entry_path=path,
        )
        ctx.session_start = True
    elif hit.unique and (
        (hit.kind == Kind.PAGEVIEW and state.pageviews > 0)
        or (hit.kind == Kind.CUSTOM and hit.name in state.event_names)
    ):
        return DropReason.NOT_UNIQUE
    state.last_seen = max(state.last_seen, at)
    if hit.kind == Kind.PAGEVIEW:
        if state.pageviews == 0 and not ctx.session_start:
            state.entry_path = state.entry_path or path
        state.pageviews += 1
    elif hit.kind == Kind.CUSTOM and hit.name not in state.event_names:
        state.event_names = [*state.event_names, hit.name][-sessions.MAX_REMEMBERED_EVENT_NAMES :]
    ctx.visitor_id = visitor_id
    ctx.session = state
    return None


def acquired(acquisition: dict) -> bool:
    """Whether the acquisition fields say where the visit came from (not merely direct).

    ``stats.query.SESSION_SCOPE`` reads stored events by the same rule."""
    return acquisition.get("channel") not in (None, "", "Direct")


def acquire(ctx: Context, page) -> Acquisition:
    """Acquisition fields: the session's first hit fixes them, unless it came direct (no
    referrer, no campaign) and a later hit brings where the visit came from."""
    state = ctx.state
    # ``state.acquisition`` is a plain dict (cached as JSON); only this function fills it,
    # always with ``Acquisition``'s keys, hence the casts.
    if state.acquisition and acquired(state.acquisition):
        return cast(Acquisition, state.acquisition)
    hit = ctx.hit
    info = classify_referrer(
        hit.referrer,
        page_host=page.hostname,
        utm_source=hit.utm_source or page.utm_source,
        utm_medium=hit.utm_medium or page.utm_medium,
        utm_campaign=hit.utm_campaign or page.utm_campaign,
        ref_param=page.ref,
    )
    if state.acquisition and info.channel in ("", "Direct"):
        return cast(Acquisition, state.acquisition)  # still direct: the first hit's fields stay
    state.acquisition = {
        "referrer": info.referrer,
        "referrer_host": info.referrer_host,
        "source": info.source,
        "channel": info.channel,
        "utm_source": hit.utm_source or page.utm_source,
        "utm_medium": hit.utm_medium or page.utm_medium,
        "utm_campaign": hit.utm_campaign or page.utm_campaign,
        "utm_content": hit.utm_content or page.utm_content,
        "utm_term": hit.utm_term or page.utm_term,
    }
    return cast(Acquisition, state.acquisition)


AGENT_GROUPS = tuple(g for g in sessions.VISIT_GROUPS if g[0] in ("browser", "os", "device_type"))
GEO_GROUP = next(g for g in sessions.VISIT_GROUPS if g[0] == "country_code")
NO_VALUE = {"screen_width": None, "screen_height": None}


def describe(ctx: Context) -> Visit:
    """The visit attributes for the row: the session's, filled in from this hit where the
    session lacks them."""
    hit, state = ctx.hit, ctx.state
    values: dict = {
        "language": language_code(hit.language, hit.accept_language),
        "screen_class": screen_class(hit.screen_width),
        "screen_width": hit.screen_width,
        "screen_height": hit.screen_height,
    }
    if any(state.lacks(group) for group in AGENT_GROUPS):
        agent = parse_user_agent(
            hit.user_agent,
            sec_ch_ua=hit.sec_ch_ua,
            sec_ch_ua_mobile=hit.sec_ch_ua_mobile,
            sec_ch_ua_platform=hit.sec_ch_ua_platform,
            sec_ch_ua_platform_version=hit.sec_ch_ua_platform_version,
        )
        values.update(
            browser=agent.browser,
            browser_version=agent.browser_version,
            os=agent.os,
            os_version=agent.os_version,
            device_type=agent.device_type,
        )
    if state.lacks(GEO_GROUP):
        values.update(zip(GEO_GROUP, locate(hit), strict=True))
    state.fill_in(values)
    # Built from ``sessions.VISIT_FIELDS``, which are ``Visit``'s keys.
    return cast(
        Visit,
        {name: state.visit.get(name, NO_VALUE.get(name, "")) for name in sessions.VISIT_FIELDS},
    )


def locate(hit: Hit) -> tuple[str, str, str]:
    """Country, region, city: authenticated overrides, then GeoIP, then time zone / language."""
    if hit.country_code:
        return hit.country_code.upper()[:2], hit.region[:16], hit.city[:128]
    locator = get_locator(settings.GEOIP_DATABASE)
    if locator is not None and hit.ip:
        geo = locator.lookup(hit.ip)
        if geo.country_code:
            return geo.country_code, geo.region, geo.city
    country = ""
    if hit.visitor_timezone:
        country = country_from_timezone(hit.visitor_timezone)
    if not country and hit.accept_language:
        country = country_from_accept_language(hit.accept_language)
    return country, "", ""


def enrich(
    hit: Hit, received_at: datetime | None = None, store: sessions.SessionStore | None = None
) -> EventRow | DropReason:
    """Run every step; return the event row to store, or why the hit is dropped.

    Session changes go to ``store``; the caller writes them with the events (one
    store per request). Without a store they are written at once (tests, tools).
    """
    flush = store is None
    store = store or sessions.SessionStore()
    reason = check_collector(hit) or check_policy(hit)
    if reason is not None:
        return reason
    received_at = received_at or datetime.now(UTC)
    at = hit.timestamp or received_at
    ctx = Context(hit=hit, at=at, received_at=received_at)
    # No URL (Matomo keeps events sent without one): the page is unknown, not the root.
    page = parse_page_url(hit.url, hit.keep_fragment) if hit.url else UNKNOWN_PAGE
    reason = sessionize(ctx, store, identify(ctx), page.path)
    if reason is not None:
        return reason
    acquisition = acquire(ctx, page)
    visit = describe(ctx)
    store.save(hit.site.id, ctx.state)
    if flush:
        sessions.save_now(store)
    return build_row(ctx, page, acquisition, visit)


NO_REVENUE: Revenue = {
    "revenue_amount": None,
    "revenue_currency": "",
    "revenue_reporting": None,
    "revenue_reporting_currency": "",
}


def revenue(hit: Hit, at: datetime) -> Revenue:
    """The revenue columns: the amount and currency as sent, and the amount in the site's
    reporting currency at the event day's ECB rate (``sites.exchange_rates``). Without a
    rate the event keeps its original amount and is flagged by an empty reporting
    currency; it is never dropped (docs/revenue.md)."""
    amount = hit.revenue_amount
    if amount is None:
        return NO_REVENUE
    reporting = hit.site.reporting_currency
    converted = convert(amount, hit.revenue_currency, reporting, at.astimezone(UTC).date())
    if converted is None:
        unconverted(hit.site.id, hit.revenue_currency)
    return {
        "revenue_amount": str(amount),
        "revenue_currency": hit.revenue_currency,
        "revenue_reporting": str(converted) if converted is not None else None,
        "revenue_reporting_currency": reporting if converted is not None else "",
    }


def build_row(ctx: Context, page, acquisition: Acquisition, visit: Visit) -> EventRow:
    hit, state = ctx.hit, ctx.state
    return {
        "id": hit.event_id or str(uuid7()),
        "site_id": hit.site.id,
        "timestamp": ctx.at.astimezone(UTC).isoformat(),
        "received_at": ctx.received_at.isoformat(),
        "protocol": str(hit.protocol),
        "kind": str(hit.kind),
        "name": hit.name[:200],
        "visitor_id": ctx.visitor_id,
        "session_id": state.id,
        "session_start": ctx.session_start,
        "hostname": page.hostname[:253],
        "path": page.path[:2048],
        "title": hit.title[:512],
        "entry_path": state.entry_path[:2048],
        **acquisition,
        **visit,
        "props": hit.props,
        **revenue(hit, ctx.at),
        "duration_ms": hit.duration_ms,
        "scroll_depth": hit.scroll_depth,
        "interactive": hit.interactive,
    }
