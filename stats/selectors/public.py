"""How stored values are named on the read APIs: opaque public visitor and session ids
(``v_`` / ``ses_`` and 16 hex digits of the stored 64-bit ids), the salted fingerprint
hash, epoch milliseconds, event type names and country and region names. Raw IP
addresses do not exist anywhere to be exposed."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pycountry
from django.conf import settings


def public_visitor_id(visitor_id: int) -> str:
    return f"v_{visitor_id & 0xFFFFFFFFFFFFFFFF:016x}"


def public_session_id(session_id: int) -> str:
    return f"ses_{session_id & 0xFFFFFFFFFFFFFFFF:016x}"


def _internal(public: str, prefix: str) -> int | None:
    if not isinstance(public, str) or not public.startswith(prefix):
        return None
    try:
        value = int(public[len(prefix) :], 16)
    except ValueError:
        return None
    if not 0 <= value < 2**64:
        return None
    return value - 2**64 if value >= 2**63 else value


def visitor_id_from_public(public: str) -> int | None:
    return _internal(public, "v_")


def session_id_from_public(public: str) -> int | None:
    return _internal(public, "ses_")


def fingerprint_hash(site_id: int, visitor_id: int) -> str:
    """A salted hash standing in for a fingerprint (never reversible to an IP)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{site_id}:{visitor_id}".encode()).hexdigest()[:40]


def country_name(code: str) -> str | None:
    if not code:
        return None
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def epoch_ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def event_type_name(kind: str, name: str) -> str:
    """identity-js calls page views ``page_view``; other names are kept as sent."""
    return "page_view" if kind == "pageview" else name


def region_name(code: str) -> str:
    """ISO 3166-2 code → the subdivision's name (``DE-BE`` → Berlin); the code if unknown."""
    if not code:
        return ""
    subdivision = pycountry.subdivisions.get(code=code)
    return subdivision.name if subdivision else code
