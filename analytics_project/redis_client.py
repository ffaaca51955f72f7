"""The process's Redis client for the ingest path (the event stream, sessions, drop counters).

Django's cache builds a client object per call (~0.3 ms); the hot path keeps one per URL
with short timeouts, so an outage answers fast instead of hanging a request. The URL is
read from ``settings.REDIS_URL`` at call time (tests point it elsewhere).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()
_on_reset: list[Callable[[], None]] = []


def redis_client() -> redis.Redis:
    """A per-process client for ``settings.REDIS_URL`` with short timeouts (outages answer fast)."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url) or redis.Redis.from_url(
                url,
                socket_timeout=2,
                socket_connect_timeout=1,
                health_check_interval=30,
                retry_on_timeout=False,
            )
            _clients[url] = client
    return client


def on_reset(forget: Callable[[], None]) -> None:
    """Call ``forget`` whenever the clients are reset (state tied to a client: scripts)."""
    _on_reset.append(forget)


def reset_clients() -> None:
    """Forget pooled connections (tests that restart Redis; after fork)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
    for forget in _on_reset:
        forget()
