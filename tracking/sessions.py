"""Session state for the hot path, kept in Redis in production (the cache otherwise).

A session ends after 30 minutes without activity. Every attribute that describes the
visit is session-scoped: the entry page, the acquisition fields (referrer, source,
channel, UTM) and the visit attributes (browser, OS, device, screen, language,
country/region/city) are fixed by the session's first hit that has them, filled in by a
later hit when the session lacked them, and carried by every event of the session. So a
heartbeat or a custom event without a language still counts under the visit's language,
and a breakdown counts each visit once (see docs/statistics.md, "Session scope").
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

import orjson
import redis
from django.conf import settings
from django.core.cache import cache

from analytics_project.redis_client import redis_client
from tracking.errors import BufferUnavailable

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
# Visit attributes kept by the session, in groups: a group is fixed (all its fields at once,
# so a city never comes from another hit than its country) by the first hit whose first
# field is non-empty. ``stats.query.SESSION_SCOPE`` reads stored events by the same groups.
VISIT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("browser", "browser_version"),
    ("os", "os_version"),
    ("device_type",),
    ("screen_class", "screen_width", "screen_height"),
    ("language",),
    ("country_code", "region", "city"),
)
VISIT_FIELDS = tuple(name for group in VISIT_GROUPS for name in group)


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
    # Added after ``acquisition``: a cached state written before it existed still loads (the
    # session's next hits fill its visit attributes in), a longer one makes a new session.
    visit: dict = field(default_factory=dict)

    def lacks(self, group: tuple[str, ...]) -> bool:
        """Whether no hit of the session has brought this group of visit attributes yet."""
        return not self.visit.get(group[0])

    def fill_in(self, values: dict) -> None:
        """Take each group of ``values`` the session lacks (and ``values`` has)."""
        for group in VISIT_GROUPS:
            if self.lacks(group) and values.get(group[0]):
                for name in group:
                    self.visit[name] = values.get(name)

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
            self.visit,
        )

    @classmethod
    def from_cache(cls, value) -> SessionState | None:
        """A cached state, or None (start a new session) when it cannot be read: written by
        another version with more fields, or not a tuple at all."""
        if not isinstance(value, list | tuple):
            return None
        try:
            state = cls(*value)
        except TypeError:
            return None
        if not isinstance(state.visit, dict) or not isinstance(state.acquisition, dict):
            return None
        return state


def _dumps(value: tuple) -> bytes:
    # orjson (docs/decisions.md); the standard library for what it refuses (lone
    # surrogates in a tracked string, integers beyond 64 bits), as it always wrote them.
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def _loads(value: bytes):
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def _key(site_id: int, visitor_id: int) -> str:
    return f"ses:{site_id}:{visitor_id}"


key = _key


def read(keys: list[str]) -> dict[str, bytes | None]:
    """What Redis holds under ``keys`` (None: absent), in one round trip."""
    return dict(zip(keys, _mget(keys), strict=True)) if keys else {}


def utc_day(at: float) -> int:
    """The UTC day of an epoch time, as a day number."""
    return int(at // 86400)


def timeout_seconds() -> int:
    return settings.SESSION_TIMEOUT_SECONDS


def new_session_id() -> int:
    return int.from_bytes(secrets.token_bytes(8), "big", signed=True)


def _redis():
    """The ingest path's Redis client (tests read and write session keys through it)."""
    return redis_client()


def _mget(keys: list[str]) -> list:
    try:
        return redis_client().mget(keys)
    except redis.RedisError as exc:
        # Without session state nothing can be accepted safely: the client must retry.
        raise BufferUnavailable(f"session store unavailable: {exc}") from exc


# The sessions this process wrote last, as written (Redis value, monotonic expiry): an
# optimistic store's guess of what Redis holds. A wrong guess costs a second round trip,
# never a wrong session (the write checks every guess, see ``SessionStore``).
_recent: dict[str, tuple[bytes, float]] = {}
RECENT_MAX = 20_000


def _recent_get(key: str) -> bytes:
    found = _recent.get(key)
    if found is None or found[1] < time.monotonic():
        return b""
    return found[0]


def remember_written(values: dict[str, bytes]) -> None:
    """Note what this process just wrote (after the write succeeded)."""
    if len(_recent) + len(values) > RECENT_MAX:
        _recent.clear()  # cheap and rare: a forgotten guess only costs a round trip
    expires = time.monotonic() + timeout_seconds()
    for key, value in values.items():
        _recent[key] = (value, expires)


def forget_recent() -> None:
    _recent.clear()


class SessionStore:
    """Sessions read once per request and written back together with the events.

    Hits of one request (a batch) see each other's session changes through
    ``pending``; ``dump`` hands the changed sessions to the buffer, which writes them
    in the same Redis round trip as the events.

    ``optimistic`` (with Redis, on the request path): sessions are not read before the
    hits are enriched. Each key is guessed from what this process last wrote there (or
    absent), the guesses go with the write to a server-side script that writes the
    sessions and appends the events only if every guessed key still holds exactly what
    was guessed, and otherwise answers what the keys hold: ``tracking.ingest`` then runs
    the request again on those values. One round trip for a new visitor or a visitor
    this process served last, two otherwise (as before), and sessions stay exact under
    concurrency: two requests of one visitor can no longer both start a session.
    """

    def __init__(
        self,
        optimistic: bool = False,
        known: dict[str, bytes | None] | None = None,
        *,
        checked: bool = True,
    ) -> None:
        self.pending: dict[str, SessionState] = {}
        # What this request already read (None: no session under that key), so hits of a
        # batch ask Redis once per key, not once per hit (yesterday's key of a visitor is
        # never in ``pending``: it used to cost a round trip for each of the visitor's hits).
        self.loaded: dict[str, SessionState | None] = {}
        self.optimistic = optimistic
        # Optimistic: each key's value as guessed (b"": absent), checked by the write.
        self.expected: dict[str, bytes] = {}
        # Values Redis answered for a previous attempt of the same request.
        self.known = known or {}
        self.dumped: dict[str, bytes] = {}
        # False: write without checking the guesses (the last attempt, see tracking.ingest).
        self.checked = checked

    def find(
        self, site_id: int, visitor_ids: list[int], at: float, *, ends_at_midnight: bool = False
    ) -> tuple[int, SessionState | None]:
        """The live session of the first candidate visitor id that has one.

        ``visitor_ids`` is ordered by preference (today's hash first, then yesterday's).
        Returns the visitor id to use and its session (None when a new one must start).
        ``ends_at_midnight``: a session last seen on an earlier UTC day is over (Swetrix).
        """
        keys = [_key(site_id, v) for v in visitor_ids]
        pending, loaded = self.pending, self.loaded
        missing = [k for k in keys if k not in pending and k not in loaded]
        if missing and self.optimistic:
            for k in missing:
                value = (self.known[k] or b"") if k in self.known else _recent_get(k)
                self.expected[k] = value
                loaded[k] = SessionState.from_cache(_loads(value)) if value else None
        elif missing:
            if settings.REDIS_URL:
                values = dict(zip(missing, _mget(missing), strict=True))
                found = {k: SessionState.from_cache(_loads(v)) for k, v in values.items() if v}
            else:
                found = {k: SessionState.from_cache(v) for k, v in cache.get_many(missing).items()}
            for k in missing:
                loaded[k] = found.get(k)
        states = [pending.get(k) or loaded.get(k) for k in keys]
        for visitor_id, state in zip(visitor_ids, states, strict=True):
            if state is not None and abs(at - state.last_seen) <= timeout_seconds():
                if ends_at_midnight and utc_day(state.last_seen) != utc_day(at):
                    continue
                return visitor_id, state
        return visitor_ids[0], None

    def save(self, site_id: int, state: SessionState) -> None:
        self.pending[_key(site_id, state.visitor_id)] = state

    def dump(self) -> dict[str, bytes]:
        """Changed sessions as Redis values (JSON), keyed by their Redis key."""
        self.dumped = {k: _dumps(v.to_cache()) for k, v in self.pending.items()}
        return self.dumped

    def write_to_cache(self) -> None:
        """Without Redis: store the changed sessions in Django's cache."""
        cache.set_many({k: v.to_cache() for k, v in self.pending.items()}, timeout_seconds() + 60)


def ttl_seconds() -> int:
    return timeout_seconds() + 60


def save_now(store: SessionStore) -> None:
    """Write a store's sessions immediately (outside the request path)."""
    if settings.REDIS_URL:
        pipe = redis_client().pipeline(transaction=False)
        for key, value in store.dump().items():
            pipe.set(key, value, ex=ttl_seconds())
        pipe.execute()
    else:
        store.write_to_cache()
