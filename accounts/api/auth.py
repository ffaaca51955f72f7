"""The credential check every Pirsch-style endpoint starts with.

Reading APIs (statistics, domains: every scope but the write scopes) are limited per
client to ``PIRSCH_API_RATE_LIMIT`` calls a minute; the count is left on
``request.rate_limit`` so every answer carries the ``X-RateLimit-*`` headers, and a client
over the limit gets Pirsch's error shape with 429 and ``Retry-After``. Writers (one request
per hit) are not limited here.

The reading and configuration endpoints are DRF views on ``PirschAPIView`` (issue #19):
``PirschAuthentication``, ``AccessKeysWriteOnly``, ``PirschThrottle`` and ``HasScope`` in that
order, the same order ``pirsch_principal`` checks them in for the plain ingestion views
(``tracking.views.pirsch``), which stay plain Django on the hot path.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from accounts.api.drf import ApiView, BearerAuthentication, HasScope, required_scope
from accounts.api.openapi import PirschAutoSchema
from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from accounts.models import WRITE_SCOPES
from analytics_project.api_errors import pirsch_error
from analytics_project.ratelimit import check_rate_limit, with_rate_limit_headers
from analytics_project.throttling import RateLimitThrottle

KEYS_WRITE_ONLY = "access keys (pa_) can only send data; use an oAuth client to read"
TOO_MANY = "too many requests, retry later"
METHOD_NOT_ALLOWED = "method not allowed"


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
        return pirsch_error(403, error=[KEYS_WRITE_ONLY])
    if scope not in WRITE_SCOPES:
        limit = check_rate_limit(
            f"pirsch-api:{principal.client.pk}", settings.PIRSCH_API_RATE_LIMIT, 60
        )
        request.rate_limit = limit
        if not limit.allowed:
            return with_rate_limit_headers(pirsch_error(429, error=[TOO_MANY]), limit)
    if scope not in principal.scopes:
        return pirsch_error(403, error=[f"the client is missing the scope {scope}"])
    return principal


class PirschError(Exception):
    """A refusal in Pirsch's shape, raised anywhere below a ``PirschAPIView``."""

    def __init__(
        self,
        status: int,
        *,
        validation: dict | None = None,
        error: list[str] | None = None,
    ):
        super().__init__(error or validation)
        self.status, self.validation, self.error = status, validation, error


class PirschAuthentication(BearerAuthentication):
    """OAuth access tokens (``POST /api/v1/token``) and ``pa_`` access keys."""

    allowed_kinds = frozenset({"oauth", "key"})


class AccessKeysWriteOnly(BasePermission):
    """``pa_`` access keys only ever pass for write scopes (checked before the count)."""

    message = KEYS_WRITE_ONLY

    def has_permission(self, request, view) -> bool:
        principal = request.auth
        scope = required_scope(request, view)
        return not (
            isinstance(principal, Principal)
            and principal.kind == "key"
            and scope not in WRITE_SCOPES
        )


class PirschThrottle(RateLimitThrottle):
    """``PIRSCH_API_RATE_LIMIT`` reading calls a minute per client."""

    def bucket(self, request, view) -> str | None:
        principal = request.auth
        if not isinstance(principal, Principal) or required_scope(request, view) in WRITE_SCOPES:
            return None
        return f"pirsch-api:{principal.client.pk}"

    def limit(self, request, view) -> int:
        return int(settings.PIRSCH_API_RATE_LIMIT)


class PirschAPIView(ApiView):
    """A Pirsch-style endpoint: Bearer OAuth token, scope per method (``required_scopes``),
    the per-client limit, Pirsch's error body ``{"validation", "error", "context"}``.

    ``validation_errors``: exception types with ``field`` and ``message`` answered as a 400
    naming the field (the parameter parsers' own errors)."""

    authentication_classes = [PirschAuthentication]
    permission_classes = [AccessKeysWriteOnly]
    throttle_classes = [PirschThrottle]
    late_permission_classes = [HasScope]
    validation_errors: tuple[type[Exception], ...] = ()
    schema = PirschAutoSchema()
    openapi_tag = "Pirsch statistics"
    # method (or "*") → the statuses the view refuses with, for the OpenAPI document
    error_statuses: dict[str, tuple[int, ...]] = {"*": (400, 401, 403, 404, 405, 429)}

    def error_response(self, status: int, message: str, exc: Exception) -> HttpResponse:
        if isinstance(exc, exceptions.MethodNotAllowed):
            message = METHOD_NOT_ALLOWED
        elif isinstance(exc, exceptions.Throttled):
            message = TOO_MANY
        return pirsch_error(status, error=[message])

    def translate_exception(self, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, PirschError):
            return pirsch_error(exc.status, validation=exc.validation, error=exc.error)
        if isinstance(exc, self.validation_errors):
            return pirsch_error(400, validation={exc.field: exc.message})  # type: ignore[attr-defined]
        return None
