"""Realistic demo traffic, sent through the real ingestion path (``ingest.accept``).

Page views and goals are built as hits; the behaviour signals (clicks, errors, forms,
web vitals, reading, SEO) are built as the snippet's ``POST /api/collect`` bodies and
decoded by the protocol adapter the endpoint uses (``parse_collection`` → ``to_hit``),
so the demo shows exactly what a site running ``footfall.behaviour.js`` would. Only the
timestamp is set afterwards: the endpoint stamps "now", the demo spreads over 30 days.
A few visits go on to a shop tracked with Matomo's JavaScript tracker (ecommerce
orders and abandoned carts), decoded by the Matomo adapter. Returning visitors reuse an identity (address, browser, language) on later days; two
months of growing traffic give the default 30-day dashboard a populated month to compare
with, and the behaviour collectors report for the last 30 days only, to keep
``make run`` quick.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sites import site_lookup
from sites.models import Site
from stats.demo_history import history_import
from tracking import ingest, snippet
from tracking.hits import Hit, Kind, Protocol
from tracking.protocols import matomo
from tracking.protocols.footfall import parse_collection, to_hit

PAGES = [
    ("/", "Home", 30),
    ("/pricing", "Pricing", 12),
    ("/blog", "Blog", 10),
    ("/blog/privacy-first-analytics", "Privacy-first analytics", 8),
    ("/blog/matomo-migration", "Moving from Matomo", 5),
    ("/docs", "Documentation", 9),
    ("/docs/install", "Install", 6),
    ("/about", "About", 4),
    ("/contact", "Contact", 3),
    ("/signup", "Sign up", 5),
]
REFERRERS = [
    ("", 35),
    ("https://www.google.com/", 25),
    ("https://duckduckgo.com/", 6),
    ("https://www.bing.com/", 4),
    ("https://news.ycombinator.com/item?id=1", 5),
    ("https://www.reddit.com/r/selfhosted/", 5),
    ("https://twitter.com/", 3),
    ("https://www.linkedin.com/feed/", 3),
    ("https://github.com/footfall", 4),
]
CAMPAIGNS = [
    ("", "", "", 85),
    ("newsletter", "email", "november", 10),
    ("google", "cpc", "brand", 5),
]
USER_AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
        1920,
        35,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        1440,
        15,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0", 1536, 10),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        390,
        20,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
        412,
        15,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        820,
        5,
    ),
]
LANGUAGES = [
    ("en-US,en;q=0.9", 45),
    ("de-DE,de;q=0.9", 20),
    ("fr-FR,fr;q=0.9", 10),
    ("es-ES,es;q=0.9", 8),
    ("ja-JP", 5),
    ("pt-BR", 7),
    ("nl-NL", 5),
]
TIMEZONES = {
    "en": "America/New_York",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
    "es": "Europe/Madrid",
    "ja": "Asia/Tokyo",
    "pt": "America/Sao_Paulo",
    "nl": "Europe/Amsterdam",
}


def _pick(rng: random.Random, options):
    return rng.choices(options, weights=[o[-1] for o in options])[0]


# Behaviour the demo pages "have": which elements frustrate, which scripts fail.
RAGE_TARGETS = {
    "/pricing": "button.plan-toggle",
    "/signup": "button#submit",
    "/docs/install": "a.copy-button",
}
DEAD_TARGETS = {"/": "img.hero", "/pricing": "span.badge", "/about": "div.team-photo"}
PHANTOM_TARGETS = {"/blog": "a.read-more", "/docs": "button.search-toggle"}
ERRORS = [
    (
        "js_exception",
        "TypeError: Cannot read properties of undefined (reading 'price')",
        "https://demo.footfall.local/static/pricing.js",
        42,
        5,
    ),
    (
        "promise_rejection",
        "Failed to fetch /api/plans",
        "https://demo.footfall.local/static/pricing.js",
        0,
        3,
    ),
    (
        "console_error",
        "Newsletter widget failed to load",
        "https://demo.footfall.local/static/app.js",
        310,
        2,
    ),
    ("console_warning", "Image without dimensions causes layout shift", "", 0, 4),
]
FORMS = {
    "/signup": ("form#signup", "input#company"),
    "/contact": ("form.contact", "textarea#message"),
}
SEO = {
    "/": ["missing_meta_description"],
    "/blog": ["missing_h1", "images_without_alt"],
    "/about": ["images_without_alt"],
    "/docs/install": ["multiple_h1"],
    "/contact": [],
    "/pricing": [],
}
SPIKE_DAY = 9  # days ago: a Hacker News post
LIVE_VISITS = 6
SHOP_SHARE = 0.03  # visits that go on to the Matomo-tracked shop
RETURNING_SHOP_SHARE = 0.25  # returning visitors are customers: they come back to the shop
FUNNEL_PATHS = ("/", "/pricing", "/signup")
PAGE_TITLES = {path: title for path, title, _weight in PAGES}
PLAN_PRICES = {"free": None, "team": Decimal("49.00"), "business": Decimal("199.00")}
BEHAVIOUR_DAYS = 30  # the demo switched its behaviour collectors on a month ago
# Customers pay in their currency (the site reports in EUR: revenue is converted at ingest).
LOCAL_PRICES = {
    "USD": {"team": Decimal("55.00"), "business": Decimal("219.00")},
    "GBP": {"team": Decimal("42.00"), "business": Decimal("169.00")},
}


def _price(plan: str, language: str, visit: int) -> tuple[Decimal | None, str]:
    """A plan's price and currency for a visitor: USD for American English, GBP for every
    fourth other visit, else EUR (no random draw, so the demo's traffic stays the same)."""
    if PLAN_PRICES[plan] is None:
        return None, ""
    currency = "USD" if language.startswith("en-US") else "GBP" if visit % 4 == 0 else "EUR"
    return LOCAL_PRICES.get(currency, PLAN_PRICES)[plan], currency


def _collect(config, public_key: str, identity: dict, page: dict, events: list, at) -> list[Hit]:
    """One snippet request, decoded by the collect endpoint's adapter, stamped ``at``."""
    allowed = snippet.collectors_for_site(config.id)
    collection = parse_collection({"k": public_key, **page, "e": events})
    hits = []
    for signal in collection.signals:
        if signal.spec.collector is not None and signal.spec.collector not in allowed:
            continue  # the endpoint drops signals of a collector the site switched off
        hit = to_hit(collection, signal, config, do_not_track=False, **identity)
        hit.timestamp = at
        hits.append(hit)
    return hits


def _matomo(config, identity: dict, at: datetime, params: dict, visitor_id: str = "") -> Hit:
    """One Matomo tracker request (an ecommerce shop's), decoded by the Matomo adapter.

    ``cdt`` back-dates it as Matomo's log importer does, which needs a token: ``authorized``.
    """
    request = matomo.Request.from_pairs(
        {
            "rec": "1",
            "idsite": str(config.id),
            "cdt": str(int(at.timestamp())),
            "ua": identity["user_agent"],
            "lang": identity["accept_language"],
            **({"_id": visitor_id} if visitor_id else {}),
            **params,
        }.items()
    )
    hit = matomo.build_hit(
        config,
        request,
        authorized=True,
        header_user_agent=identity["user_agent"],
        header_language=identity["accept_language"],
        ip=identity["ip"],
        now=at,
        cdt_max_age=timedelta(days=365),
    )
    if not isinstance(hit, Hit):
        raise ValueError(f"the Matomo adapter dropped a demo request: {hit}")
    return hit


def _shop(rng: random.Random, config, identity: dict, at: datetime, visitor_id: str) -> list[Hit]:
    """A visit to the shop: the cart, then an order or (one in three) an abandoned cart.

    A returning customer's ``visitor_id`` (Matomo's ``_id``) makes their visits on
    several days one visitor, as the site keeps site-supplied ids (long-lived ids on)."""
    item = rng.choice([("SKU-TEAM", "Team plan", 49), ("SKU-BIZ", "Business plan", 199)])
    quantity = rng.randint(1, 3)
    total = item[2] * quantity
    items = f'[["{item[0]}","{item[1]}","Plans",{item[2]},{quantity}]]'
    shop = f"https://{config.hostname}/shop"
    hits = [
        _matomo(config, identity, at, {"url": shop, "action_name": "Shop"}, visitor_id),
        _matomo(
            config,
            identity,
            at + timedelta(seconds=40),
            {"url": shop, "idgoal": "0", "revenue": str(total), "ec_items": items},
            visitor_id,
        ),
    ]
    if rng.random() < 0.66:
        order = {"idgoal": "0", "ec_id": f"demo-{rng.randrange(10**8)}", "ec_items": items}
        order.update(revenue=f"{total * 1.19:.2f}", ec_st=str(total), ec_tx=f"{total * 0.19:.2f}")
        later = at + timedelta(seconds=95)
        hits.append(_matomo(config, identity, later, {"url": shop, **order}, visitor_id))
    return hits


def _behaviour(
    rng: random.Random, path: str, visible_ms: int, *, collectors_on: bool
) -> list[dict]:
    """The signals the snippet would send for one page view: the core snippet's reading
    report always, the behaviour collectors' signals once they were switched on."""
    events: list[dict] = []
    scroll = rng.randint(20, 100) if path.startswith(("/blog/", "/docs")) else rng.randint(5, 90)
    events.append(
        {
            "t": "reading_behavior",
            "p": {
                "visible_ms": visible_ms,
                "active_ms": int(visible_ms * rng.uniform(0.4, 0.9)),
                "scroll_depth": scroll,
                "scroll_velocity": round(rng.uniform(50, 900), 1),
                "page_height": rng.choice([1800, 2600, 4200, 6400]),
            },
        }
    )
    if not collectors_on:
        return events
    if rng.random() < 0.5:
        slow = path in ("/pricing", "/blog")
        events.append(
            {
                "t": "web_vitals",
                "p": {
                    "lcp": int(rng.uniform(1200, 5200 if slow else 3000)),
                    "cls": round(rng.uniform(0, 0.35 if slow else 0.12), 3),
                    "inp": int(rng.uniform(40, 450)),
                    "ttfb": int(rng.uniform(80, 1200)),
                },
            }
        )
    if path in RAGE_TARGETS and rng.random() < 0.15:
        clicks = rng.randint(4, 9)
        events.append({"t": "rage_click", "p": {"selector": RAGE_TARGETS[path], "clicks": clicks}})
    if path in DEAD_TARGETS and rng.random() < 0.12:
        events.append({"t": "dead_click", "p": {"selector": DEAD_TARGETS[path]}})
    if path in PHANTOM_TARGETS and rng.random() < 0.08:
        events.append({"t": "phantom_click", "p": {"selector": PHANTOM_TARGETS[path]}})
    if path in ("/pricing", "/") and rng.random() < 0.1:
        kind, message, source, line, _ = _pick(rng, ERRORS)
        events.append(
            {"t": kind, "p": {"message": message, "source": source, "line": line, "column": 7}}
        )
    if path in FORMS and rng.random() < 0.3:
        form, field = FORMS[path]
        events.append(
            {
                "t": "form_hesitation",
                "p": {"form": form, "field": field, "hesitation_ms": rng.randint(3000, 20000)},
            }
        )
        if rng.random() < 0.5:
            events.append(
                {
                    "t": "form_abandon",
                    "p": {"form": form, "fields_touched": rng.randint(1, 4), "last_field": field},
                }
            )
    if path in SEO and rng.random() < 0.3:
        issues = SEO[path]
        events.append(
            {
                "t": "seo_diagnostics",
                "p": {
                    "issues": issues,
                    "h1_count": 2
                    if "multiple_h1" in issues
                    else 0
                    if "missing_h1" in issues
                    else 1,
                    "images_without_alt": 3 if "images_without_alt" in issues else 0,
                    "title_length": 42,
                    "description_length": 0 if "missing_meta_description" in issues else 140,
                },
            }
        )
    return events


def _visitor(rng: random.Random, returning: list[tuple]) -> tuple:
    """(user agent, width, language, ip, shop id) of a visit: a returning visitor's, or a
    new one's (who comes back later three times in ten)."""
    if returning and rng.random() < 0.3:
        return rng.choice(returning)
    ua, width, _ = _pick(rng, USER_AGENTS)
    language, _ = _pick(rng, LANGUAGES)
    ip = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if rng.random() < 0.3:
        # The shop's Matomo tracker keeps a first-party id (``_id``) across days.
        returning.append((ua, width, language, ip, f"{rng.getrandbits(64):016x}"))
    return ua, width, language, ip, ""


def demo_traffic_send(
    site_id: int,
    *,
    days: int = 60,
    visits_per_day: int = 60,
    seed: int = 7,
    history_months: int = 6,
) -> int:
    """Send ``days`` of visits for a site through the pipeline; returns the hits sent."""
    config = site_lookup.site_by_id(site_id)
    if config is None:
        raise ValueError(f"no site {site_id}")
    # The snippet's key, which the collect endpoint looks the site up by.
    public_key = Site.objects.values_list("public_key", flat=True).get(pk=site_id)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    hits: list[Hit] = []
    returning: list[tuple] = []
    for day in range(days, -1, -1):
        # A growing site: the default 30-day dashboard compares with a populated month.
        growth = 0.8 + 0.4 * (days - day) / days
        daily = int(visits_per_day * growth * rng.uniform(0.7, 1.3))
        if day == SPIKE_DAY:
            daily *= 3
        visits = daily if day else max(1, daily // 3)
        for visit in range(visits):
            start = now - timedelta(days=day, seconds=rng.randint(0, 86_399 if day else 3_600))
            if not day and visit >= visits - LIVE_VISITS:
                # Visitors still on the site: the Live page has someone to show at start.
                start = now - timedelta(seconds=rng.randint(20, 90))
            ua, width, language, ip, shop_id = _visitor(rng, returning)
            referrer, _ = _pick(rng, REFERRERS)
            if day == SPIKE_DAY and rng.random() < 0.6:
                referrer = "https://news.ycombinator.com/item?id=1"
            utm_source, utm_medium, utm_campaign, _ = _pick(rng, CAMPAIGNS)
            base = {
                "site": config,
                "protocol": Protocol.FOOTFALL,
                "user_agent": ua,
                "ip": ip,
                "accept_language": language,
                "visitor_timezone": TIMEZONES[language[:2]],
                "screen_width": width,
            }
            identity = {"user_agent": ua, "ip": ip, "accept_language": language}
            at = start
            # Some visits walk the demo funnel (home → pricing → sign-up); the rest browse.
            journey = FUNNEL_PATHS if rng.random() < 0.12 else None
            length = len(journey) if journey else rng.choice([1, 1, 1, 2, 2, 3, 4, 6])
            for index in range(length):
                if at > now:
                    break  # a visit of the last hour is still going on
                if journey:
                    path, title = journey[index], PAGE_TITLES[journey[index]]
                else:
                    path, title, _ = _pick(rng, PAGES)
                query = (
                    f"?utm_source={utm_source}&utm_medium={utm_medium}&utm_campaign={utm_campaign}"
                    if utm_source and index == 0
                    else ""
                )
                hits.append(
                    Hit(
                        kind=Kind.PAGEVIEW,
                        name="pageview",
                        url=f"https://{config.hostname}{path}{query}",
                        referrer=referrer if index == 0 else "",
                        title=title,
                        timestamp=at,
                        **base,
                    )
                )
                if path == "/signup" and rng.random() < 0.4:
                    plan = rng.choice(["free", "team", "business"])
                    amount, currency = _price(plan, language, visit)
                    hits.append(
                        Hit(
                            kind=Kind.CUSTOM,
                            name="Signup",
                            url=f"https://{config.hostname}{path}",
                            props={"plan": plan},
                            revenue_amount=amount,
                            revenue_currency=currency,
                            timestamp=at,
                            **base,
                        )
                    )
                stay = rng.randint(10, 240)
                page = {"u": f"https://{config.hostname}{path}", "t": title, "w": width}
                hits += _collect(
                    config,
                    public_key,
                    identity,
                    page,
                    _behaviour(rng, path, stay * 1000, collectors_on=day <= BEHAVIOUR_DAYS),
                    min(now, at + timedelta(seconds=min(stay - 1, rng.randint(2, 60)))),
                )
                at += timedelta(seconds=stay)
            shop_share = RETURNING_SHOP_SHARE if shop_id else SHOP_SHARE
            if rng.random() < shop_share and at < now - timedelta(minutes=2):
                hits += _shop(rng, config, identity, at, shop_id)
    hits.sort(key=lambda h: h.timestamp)
    for start in range(0, len(hits), 500):
        ingest.accept(hits[start : start + 500])
    if history_months:
        demo_history_import(site_id, days=days, months=history_months)
    return len(hits)


def demo_history_import(site_id: int, *, days: int = 60, months: int = 6):
    """The months before the demo's own days as a Plausible CSV export, imported with the
    real import (issue #16): the dashboard shows the history merged before the first day."""
    site = Site.objects.get(pk=site_id)
    last = (datetime.now(UTC) - timedelta(days=days + 1)).astimezone(ZoneInfo(site.timezone))
    first = last.date() - timedelta(days=30 * months)
    return history_import(site, first=first, last=last.date(), pages=PAGES)
