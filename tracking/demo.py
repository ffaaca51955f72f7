"""Realistic demo traffic, sent through the real ingestion path (``ingest.accept``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tracking import ingest, site_lookup
from tracking.hits import Hit, Kind, Protocol

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


def demo_traffic_send(
    site_id: int, *, days: int = 30, visits_per_day: int = 60, seed: int = 7
) -> int:
    """Send ``days`` of visits for a site through the pipeline; returns the hits sent."""
    config = site_lookup.site_by_id(site_id)
    if config is None:
        raise ValueError(f"no site {site_id}")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    hits: list[Hit] = []
    for day in range(days, -1, -1):
        daily = int(visits_per_day * rng.uniform(0.7, 1.3))
        for _visit in range(daily if day else max(1, daily // 3)):
            start = now - timedelta(days=day, seconds=rng.randint(0, 86_399 if day else 3_600))
            ua, width, _ = _pick(rng, USER_AGENTS)
            language, _ = _pick(rng, LANGUAGES)
            referrer, _ = _pick(rng, REFERRERS)
            utm_source, utm_medium, utm_campaign, _ = _pick(rng, CAMPAIGNS)
            ip = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            base = {
                "site": config,
                "protocol": Protocol.FOOTFALL,
                "user_agent": ua,
                "ip": ip,
                "accept_language": language,
                "visitor_timezone": TIMEZONES[language[:2]],
                "screen_width": width,
            }
            at = start
            for index in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 6])):
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
                    hits.append(
                        Hit(
                            kind=Kind.CUSTOM,
                            name="Signup",
                            url=f"https://{config.hostname}{path}",
                            props={"plan": rng.choice(["free", "team", "business"])},
                            timestamp=at,
                            **base,
                        )
                    )
                at += timedelta(seconds=rng.randint(10, 240))
    hits.sort(key=lambda h: h.timestamp)
    for start in range(0, len(hits), 500):
        ingest.accept(hits[start : start + 500])
    return len(hits)
