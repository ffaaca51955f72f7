"""Plausible's per-key request limit as a DRF throttle.

Plausible limits every Stats and Sites API request per API key, by default to 600 requests
an hour, and answers ``429 {"error": "Too many API requests. Your API key is limited to N
requests per hour. …"}`` above it (``PlausibleWeb.Plugs.AuthorizePublicAPI``). Here the
limit is ``settings.PLAUSIBLE_API_RATE_LIMIT``, read at each call, counted in the cache
(Redis in production: one count shared by every worker) in fixed hourly windows by
``analytics_project.ratelimit``. Only requests with a valid key are counted (a bad key is
a 401 first, as upstream). Every counted answer, 200s and refusals alike, carries
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (``RateLimitHeadersMiddleware``), the
429 also ``Retry-After``.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from analytics_project.ratelimit import RateLimit, check_rate_limit

WINDOW_SECONDS = 3600


def limit_message(limit: int) -> str:
    return (
        f"Too many API requests. Your API key is limited to {limit} requests per hour. "
        "Please contact us to request more capacity."
    )


class PlausibleKeyThrottle(BaseThrottle):
    """``PLAUSIBLE_API_RATE_LIMIT`` requests an hour per key (its client id)."""

    def allow_request(self, request, view) -> bool:
        principal = request.auth
        if principal is None:
            return True
        limit = int(settings.PLAUSIBLE_API_RATE_LIMIT)
        self.result: RateLimit = check_rate_limit(
            f"plausible-api:{principal.client.public_id}", limit, WINDOW_SECONDS
        )
        request._request.rate_limit = self.result  # headers on every answer (middleware)
        return self.result.allowed

    def wait(self) -> float | None:
        result = getattr(self, "result", None)
        return result.retry_after() if result else None
