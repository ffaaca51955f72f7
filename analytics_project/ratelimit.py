"""Fixed-window rate limits and failure backoff counted in the cache (Redis in production).

Keys are built by the callers from ids or keyed digests (``analytics_project.client_ip.
ip_digest``), never from an address in clear.

A view that counts a request against a limit can leave it on ``request.rate_limit``;
``RateLimitHeadersMiddleware`` then puts ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset`` on whatever the view answers (200s too, not only the 429).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    allowed: bool

    def retry_after(self) -> int:
        return max(1, self.reset - int(time.time()))


def check_rate_limit(key: str, limit: int, window_seconds: int) -> RateLimit:
    """Count one request against ``key``; atomic (``add`` then ``incr``)."""
    now = int(time.time())
    window = now - now % window_seconds
    cache_key = f"rl:{key}:{window}"
    if cache.add(cache_key, 1, window_seconds + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, window_seconds + 5)
            count = 1
    reset = window + window_seconds
    return RateLimit(
        limit=limit, remaining=max(0, limit - count), reset=reset, allowed=count <= limit
    )


def with_rate_limit_headers(response: HttpResponse, limit: RateLimit) -> HttpResponse:
    response["X-RateLimit-Limit"] = str(limit.limit)
    response["X-RateLimit-Remaining"] = str(limit.remaining)
    response["X-RateLimit-Reset"] = str(limit.reset)
    if not limit.allowed:
        response["Retry-After"] = str(limit.retry_after())
    return response


class RateLimitHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        limit = getattr(request, "rate_limit", None)
        if isinstance(limit, RateLimit) and "X-RateLimit-Limit" not in response:
            with_rate_limit_headers(response, limit)
        return response


def failure_count(key: str) -> int:
    """Failures recorded against ``key`` in its current lock window (0 when none)."""
    return int(cache.get(f"fail:{key}") or 0)


def record_failure(key: str, window_seconds: int) -> int:
    """Count one failure; the window starts at the first failure and is not extended."""
    cache_key = f"fail:{key}"
    if cache.add(cache_key, 1, window_seconds):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, window_seconds)
        return 1


def clear_failures(key: str) -> None:
    cache.delete(f"fail:{key}")


def failure_retry_after(key: str, window_seconds: int) -> int:
    """Seconds until the failure window of ``key`` ends (the whole window when unknown)."""
    ttl = getattr(cache, "ttl", None)
    if ttl is not None:
        remaining = ttl(f"fail:{key}")
        if isinstance(remaining, int) and remaining > 0:
            return remaining
    return window_seconds


# --- exponential backoff ---------------------------------------------------------------
# Failures of one (target, caller) pair: the ``lock_after``-th failure locks the pair for
# ``base_seconds``, and each further one for twice as long as the one before (up to
# ``max_seconds``). A caller who keeps failing waits longer and longer; other callers are
# never affected.


def backoff_retry_after(key: str) -> int:
    """Seconds until ``key`` may try again; 0 when it is not locked."""
    unlock_at = cache.get(f"lock:{key}")
    if unlock_at is None:
        return 0
    return max(0, int(unlock_at) - int(time.time()))


def backoff_failure(
    key: str,
    *,
    lock_after: int,
    base_seconds: int,
    max_seconds: int,
    memory_seconds: int = 24 * 3600,
) -> int:
    """Count one failure of ``key``; returns the lock it earned in seconds (0 = none).

    The count is forgotten ``memory_seconds`` after the last failure (or on success).
    """
    count_key = f"bo:{key}"
    if cache.add(count_key, 1, memory_seconds):
        count = 1
    else:
        try:
            count = cache.incr(count_key)
            cache.touch(count_key, memory_seconds)
        except ValueError:  # expired between add and incr
            cache.add(count_key, 1, memory_seconds)
            count = 1
    if count < lock_after:
        return 0
    delay = min(max_seconds, base_seconds * 2 ** min(count - lock_after, 30))
    # The stored unlock time decides; the entry outlives it a little (clocks, slow callers).
    cache.set(f"lock:{key}", int(time.time()) + delay, delay + 60)
    return delay


def backoff_clear(key: str) -> None:
    cache.delete_many([f"bo:{key}", f"lock:{key}"])
