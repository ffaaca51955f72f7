"""Session state for the hot path, kept in the cache (Redis in production).

A session ends after 30 minutes without activity. Its first page view fixes the
entry page and the acquisition fields (referrer, source, channel, UTM) that every
later event of the session carries, so statistics need no per-session joins.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

MAX_REMEMBERED_EVENT_NAMES = 50
ACQUISITION_FIELDS = (
    "referrer",
    "referrer_host",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
)


@dataclass(slots=True)
class SessionState:
    id: int
    visitor_id: int
    started: float  # epoch seconds
    last_seen: float
    entry_path: str = ""
    pageviews: int = 0
    event_names: list[str] = field(default_factory=list)
    acquisition: dict = field(default_factory=dict)

    def to_cache(self) -> tuple:
        return (
            self.id,
            self.visitor_id,
            self.started,
            self.last_seen,
            self.entry_path,
            self.pageviews,
            self.event_names,
            self.acquisition,
        )

    @classmethod
    def from_cache(cls, value) -> SessionState | None:
        try:
            return cls(*value)
        except TypeError:
            return None


def _key(site_id: int, visitor_id: int) -> str:
    return f"ses:{site_id}:{visitor_id}"


def timeout_seconds() -> int:
    return settings.SESSION_TIMEOUT_SECONDS


def new_session_id() -> int:
    return int.from_bytes(secrets.token_bytes(8), "big", signed=True)


def find_session(
    site_id: int, visitor_ids: list[int], at: float
) -> tuple[int, SessionState | None]:
    """The live session of the first candidate visitor id that has one, in one cache round trip.

    ``visitor_ids`` is ordered by preference (today's hash first, then yesterday's).
    Returns the visitor id to use and its session (None when a new one must start).
    """
    keys = [_key(site_id, v) for v in visitor_ids]
    found = cache.get_many(keys)
    for visitor_id, key in zip(visitor_ids, keys, strict=True):
        state = SessionState.from_cache(found[key]) if key in found else None
        if state is not None and abs(at - state.last_seen) <= timeout_seconds():
            return visitor_id, state
    return visitor_ids[0], None


def save_session(site_id: int, state: SessionState) -> None:
    cache.set(_key(site_id, state.visitor_id), state.to_cache(), timeout_seconds() + 60)
