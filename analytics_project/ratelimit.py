"""Fixed-window rate limits counted in the cache (Redis in production)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpResponse


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
