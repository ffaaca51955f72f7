"""Visitor identity: a keyed hash of site, IP and user agent with a daily salt.

The salt rotates every UTC day and is deleted after two days, so a hash cannot
be linked to an IP address once its salt is gone. The previous day's salt is
tried too (see ``tracking.sessions``) so a visit across midnight stays one visit.
Ids the site supplies itself (Matomo ``uid``/``_id``/``cid``) are hashed with a
per-site key instead, so they stay stable across days.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError

from tracking.models import VisitorSalt

SALT_RETENTION_DAYS = 2

_salts: dict[date, bytes] = {}
_lock = threading.Lock()


def _to_int64(digest: bytes) -> int:
    return int.from_bytes(digest, "big", signed=True)


def salt_for_day(day: date) -> bytes:
    """The salt of a UTC day, created on first use (safe under concurrent creators)."""
    salt = _salts.get(day)
    if salt is not None:
        return salt
    value = VisitorSalt.objects.filter(day=day).values_list("salt", flat=True).first()
    if value is None:
        try:
            value = VisitorSalt.objects.create(day=day, salt=secrets.token_hex(32)).salt
        except IntegrityError:
            value = VisitorSalt.objects.get(day=day).salt
    salt = bytes.fromhex(value)
    with _lock:
        if len(_salts) > 8:
            _salts.clear()
        _salts[day] = salt
    return salt


def visitor_hash(salt: bytes, site_id: int, ip: str, user_agent: str) -> int:
    """A signed 64-bit visitor id; without the salt it reveals nothing about the IP."""
    digest = hashlib.blake2b(
        f"{site_id}\x1f{ip}\x1f{user_agent}".encode("utf-8", "surrogatepass"),
        key=salt,
        digest_size=8,
    ).digest()
    return _to_int64(digest)


def supplied_visitor_id(site_id: int, visitor_key: str) -> int:
    """A stable visitor id for an id the site supplies (never the daily salt)."""
    key = hashlib.sha256(f"footfall-visitor\x1f{settings.SECRET_KEY}".encode()).digest()[:32]
    digest = hashlib.blake2b(
        f"{site_id}\x1f{visitor_key}".encode("utf-8", "surrogatepass"), key=key, digest_size=8
    ).digest()
    return _to_int64(digest)


def rotate_salts(today: date) -> int:
    """Make sure today's and tomorrow's salts exist; delete those older than two days."""
    for day in (today, today + timedelta(days=1)):
        salt_for_day(day)
    deleted, _ = VisitorSalt.objects.filter(
        day__lt=today - timedelta(days=SALT_RETENTION_DAYS - 1)
    ).delete()
    with _lock:
        for day in [d for d in _salts if d < today - timedelta(days=SALT_RETENTION_DAYS - 1)]:
            del _salts[day]
    return deleted


def forget_cached_salts() -> None:
    """Drop the in-process salt cache (tests; a process that outlived a rotation)."""
    with _lock:
        _salts.clear()
