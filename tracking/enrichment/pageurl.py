"""The page a hit is about: host, path and the campaign parameters in its query."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

MAX_PATH_LENGTH = 2000


class InvalidUrl(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PageUrl:
    hostname: str
    path: str
    query: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    ref: str  # the `ref` or `source` query parameter (Plausible's referral parameters)


EMPTY = PageUrl("", "/", "", "", "", "", "", "", "")


def strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def validate_page_url(url: str) -> None:
    """Plausible's rules: present, not a ``data:`` URI, path at most 2,000 characters."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidUrl("is required")
    if url.strip().lower().startswith("data:"):
        raise InvalidUrl("data URIs are not supported")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise InvalidUrl("is not a valid URL") from exc
    if len(parts.path) > MAX_PATH_LENGTH:
        raise InvalidUrl(f"path must be at most {MAX_PATH_LENGTH} characters")


@functools.lru_cache(maxsize=20_000)
def parse_page_url(url: str, keep_fragment: bool = False) -> PageUrl:
    """Split a page URL; never raises (garbage gives the root path of an unknown host)."""
    if not isinstance(url, str) or not url:
        return EMPTY
    try:
        parts = urlsplit(url.strip())
        hostname = strip_www((parts.hostname or "").lower())
    except ValueError:
        return EMPTY
    path = parts.path or "/"
    if keep_fragment and parts.fragment:
        path = f"{path}#{parts.fragment}"
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        params.setdefault(key.lower(), value.strip()[:200])
    return PageUrl(
        hostname=hostname[:253],
        path=path[:2048],
        query=parts.query[:2048],
        utm_source=params.get("utm_source", ""),
        utm_medium=params.get("utm_medium", ""),
        utm_campaign=params.get("utm_campaign", ""),
        utm_content=params.get("utm_content", ""),
        utm_term=params.get("utm_term", ""),
        ref=params.get("ref", "") or params.get("source", ""),
    )
