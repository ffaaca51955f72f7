"""DRF throttling on ``analytics_project.ratelimit``'s fixed windows, with its headers.

``RateLimitThrottle`` counts one request against a bucket in the cache (Redis in
production: one count shared by every worker, unlike DRF's own ``SimpleRateThrottle``
history lists) and leaves the count on the Django request as ``rate_limit``; every answer
of a counted request, 200s and refusals alike, then carries ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset``, and a refusal ``Retry-After`` (``ApiView`` in
``accounts.api.drf`` sets them, ``RateLimitHeadersMiddleware`` too for plain views).

A subclass names the bucket (``None``: the request is not limited) and the limit; the
window is ``window_seconds``. Limits are read from settings at each call, never at import.
"""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle

from analytics_project.ratelimit import RateLimit, check_rate_limit


class RateLimitThrottle(BaseThrottle):
    window_seconds = 60

    def bucket(self, request, view) -> str | None:
        """The counter this request is counted against; None: not limited."""
        raise NotImplementedError

    def limit(self, request, view) -> int:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        key = self.bucket(request, view)
        if key is None:
            return True
        self.result: RateLimit = check_rate_limit(
            key, int(self.limit(request, view)), self.window_seconds
        )
        # On the Django request: the view and the middleware put the headers on the answer.
        getattr(request, "_request", request).rate_limit = self.result
        return self.result.allowed

    def wait(self) -> float | None:
        result = getattr(self, "result", None)
        return result.retry_after() if result else None
