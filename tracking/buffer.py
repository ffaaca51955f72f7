"""The durable hand-off between the request and the database.

With Redis configured, accepted rows are appended to a Redis stream (one entry per
request) and ``tracking.consumer`` writes them to PostgreSQL in batches. Redis runs
with the append-only file in production, so a 2xx means the event survives a crash
of the web process, the consumer or Redis itself (within ``appendfsync``'s window).
Without Redis (the embedded default) rows are written straight to the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis
from django.conf import settings
from django.db import DatabaseError

from analytics_project.redis_client import on_reset, redis_client, reset_clients
from tracking import writer
from tracking.errors import BacklogFull, BufferUnavailable, SessionsChanged
from tracking.sessions import ttl_seconds as sessions_ttl

__all__ = [
    "BacklogFull",
    "BufferUnavailable",
    "SessionsChanged",
    "backlog_size",
    "decode",
    "encode",
    "enqueue",
    "redis_client",
    "reset_clients",
]

ROWS_FIELD = "rows"
_backlog_checked: dict[str, tuple[float, int | None]] = {}
BACKLOG_CHECK_INTERVAL = 1.0


# Writes an optimistic request's sessions and appends its events in one round trip, only
# if every guessed session key still holds what the request guessed; otherwise writes
# nothing and answers what those keys hold (tracking.sessions.SessionStore).
# KEYS: the stream, the guessed keys, the keys to write.
# ARGV: ttl, how many guessed, how many to write, the rows ("" for none), each guess
# ("" for absent), each value to write.
SESSIONS_AND_EVENTS = """
local guessed = tonumber(ARGV[2])
local written = tonumber(ARGV[3])
local current = {}
local changed = false
for i = 1, guessed do
  local value = redis.call('GET', KEYS[1 + i])
  if not value then value = '' end
  current[i] = value
  if value ~= ARGV[4 + i] then changed = true end
end
if changed then
  return {0, unpack(current)}
end
for i = 1, written do
  redis.call('SET', KEYS[1 + guessed + i], ARGV[4 + guessed + i], 'EX', ARGV[1])
end
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[1], '*', 'rows', ARGV[4])
end
return {1}
"""
_scripts: dict[int, Any] = {}


def _forget_client_state() -> None:
    _backlog_checked.clear()
    _scripts.clear()


on_reset(_forget_client_state)


def encode(rows: Sequence[Mapping[str, Any]]) -> bytes:
    # orjson: an event row is written in ~1 us instead of ~25-30 us and read in ~5 us
    # instead of ~12-18 us (docs/decisions.md), on every request and in the consumer. It
    # refuses integers beyond 64 bits, which the standard library writes (and strings
    # neither can encode: the standard library then raises as it always did).
    try:
        return orjson.dumps(rows)
    except TypeError:
        return json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()


def decode(payload: bytes) -> list[dict]:
    try:
        rows = orjson.loads(payload)
    except orjson.JSONDecodeError:
        rows = json.loads(payload)  # what orjson refuses and json reads (big integers)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("stream entry does not hold a list of rows")
    return rows


def backlog_size(client: redis.Redis | None = None) -> int | None:
    """Entries waiting in the stream (None without Redis)."""
    if not settings.REDIS_URL:
        return None
    return int((client or redis_client()).xlen(settings.EVENT_STREAM_KEY))


def _backlog_exceeded(client: redis.Redis) -> bool:
    # XLEN is cheap, but once a second per process is enough.
    now = time.monotonic()
    checked = _backlog_checked.get(settings.REDIS_URL)
    if checked is None or now - checked[0] > BACKLOG_CHECK_INTERVAL:
        checked = (now, backlog_size(client))
        _backlog_checked[settings.REDIS_URL] = checked
    return (checked[1] or 0) > settings.EVENT_BACKLOG_LIMIT


def enqueue(rows: Sequence[Mapping[str, Any]], sessions=None) -> None:
    """Make ``rows`` durable or raise ``BufferUnavailable``; never returns having lost them.

    ``sessions`` (a ``tracking.sessions.SessionStore``) are written in the same round trip.
    """
    optimistic = sessions is not None and sessions.optimistic and bool(settings.REDIS_URL)
    # Guesses a drop may rest on are checked even when nothing is written.
    unchecked = optimistic and sessions.checked and bool(sessions.expected)
    if not rows and (sessions is None or not sessions.pending) and not unchecked:
        return
    if not settings.REDIS_URL:
        try:
            if rows:
                writer.write_rows(rows)
        except DatabaseError as exc:
            raise BufferUnavailable(f"database unavailable: {exc}") from exc
        if sessions is not None:
            sessions.write_to_cache()
        return
    client = redis_client()
    try:
        if rows and _backlog_exceeded(client):
            raise BacklogFull("event backlog is over its limit", retry_after=30)
        if optimistic:
            _write_checked(client, rows, sessions)
            return
        pipe = client.pipeline(transaction=False)
        if sessions is not None:
            ttl = sessions_ttl()
            for key, value in sessions.dump().items():
                pipe.set(key, value, ex=ttl)
        if rows:
            pipe.xadd(settings.EVENT_STREAM_KEY, {ROWS_FIELD: encode(rows)})
        pipe.execute()
    except redis.RedisError as exc:
        raise BufferUnavailable(f"event buffer unavailable: {exc}") from exc


def _write_checked(client: redis.Redis, rows: Sequence[Mapping[str, Any]], sessions) -> None:
    """One round trip: check the guessed sessions, write the changed ones and the rows."""
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(SESSIONS_AND_EVENTS)
    values = sessions.dump()
    guessed = list(sessions.expected) if sessions.checked else []
    answer = script(
        keys=[settings.EVENT_STREAM_KEY, *guessed, *values],
        args=[
            sessions_ttl(),
            len(guessed),
            len(values),
            encode(rows) if rows else b"",
            *(sessions.expected[k] for k in guessed),
            *values.values(),
        ],
    )
    if answer[0] != 1:
        raise SessionsChanged({k: v or None for k, v in zip(guessed, answer[1:], strict=True)})
