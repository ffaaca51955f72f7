"""The credential check every Pirsch-style endpoint starts with.

Reading APIs (statistics, domains: every scope but the write scopes) are limited per
client to ``PIRSCH_API_RATE_LIMIT`` calls a minute; the count is left on
``request.rate_limit`` so every answer carries the ``X-RateLimit-*`` headers
(``RateLimitHeadersMiddleware``), and a client over the limit gets Pirsch's error shape
with 429 and ``Retry-After``. Writers (one request per hit) are not limited here.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from accounts.models import WRITE_SCOPES
from analytics_project.api_errors import pirsch_error
from analytics_project.ratelimit import check_rate_limit, with_rate_limit_headers


def pirsch_principal(request: HttpRequest, scope: str) -> Principal | JsonResponse:
    """The request's principal holding ``scope``, or the Pirsch-shaped 401/403 to answer.

    ``pa_`` access keys only ever pass for write scopes.
    """
    try:
        principal = authenticate_bearer(
            request.headers.get("Authorization", ""), allowed_kinds={"oauth", "key"}
        )
    except AuthenticationFailed as exc:
        return pirsch_error(401, error=[str(exc)])
    if principal.kind == "key" and scope not in WRITE_SCOPES:
        return pirsch_error(
            403, error=["access keys (pa_) can only send data; use an oAuth client to read"]
        )
    if scope not in WRITE_SCOPES:
        limit = check_rate_limit(
            f"pirsch-api:{principal.client.pk}", settings.PIRSCH_API_RATE_LIMIT, 60
        )
        request.rate_limit = limit
        if not limit.allowed:
            return with_rate_limit_headers(
                pirsch_error(429, error=["too many requests, retry later"]), limit
            )
    if scope not in principal.scopes:
        return pirsch_error(403, error=[f"the client is missing the scope {scope}"])
    return principal
