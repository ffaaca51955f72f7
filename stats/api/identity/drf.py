"""The identity-js-style API on Django REST framework (issue #19).

Every endpoint is an ``IdentityView`` (``accounts.api.drf.ApiView``: JSON written as
Django's ``JsonResponse`` writes it, whatever the ``Accept`` header). A request goes,
in today's order:

1. the method: anything but ``GET`` is identity-js's 404 (the API is read-only), before
   any credential is looked at;
2. ``IdentityKeyAuthentication``: a ``Bearer sk_live_…`` read key, else 401 ``unauthorized``;
3. ``IdentityThrottle``: ``framework.RATE_LIMIT`` requests a minute per key, else 429
   ``rate_limited``; from here every answer carries ``X-RateLimit-*``;
4. ``ReadsRequestedSite``: the key's site (or the account key's ``site_id``) with the
   ``visitors:read`` scope and a role that may read it, else 404 ``not_found``;
5. the date range and ``IdentityPagination``'s ``page``/``limit`` (400 on a bad date or
   a page too deep), then the view.

Every refusal is answered by the views' exception handler in identity-js's shape,
``{"error": {"status", "message", "code"}}`` (``analytics_project.api_errors``): never
DRF's ``{"detail": …}``, never an HTML page; an unexpected failure is logged and answered
as identity-js's 500 ``internal_error``.
"""

from __future__ import annotations

import logging
import math

from django.http import Http404, HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.api.drf import ApiView, BearerAuthentication
from analytics_project.api_errors import identity_error
from analytics_project.throttling import RateLimitThrottle
from stats.api.identity import framework
from stats.api.identity.framework import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    IdentityError,
    positive,
    requested_page,
    requested_period,
    requested_site,
)

logger = logging.getLogger(__name__)

# The codes of the statuses DRF itself may refuse with (the views raise IdentityError).
CODES = {400: "invalid_parameter", 401: "unauthorized", 404: "not_found", 429: "rate_limited"}
READ_ONLY = "Endpoint not found. The API is read-only (GET)."


class IdentityKeyAuthentication(BearerAuthentication):
    """``Authorization: Bearer sk_live_…`` (a read key) → (its creator, the principal)."""

    allowed_kinds = frozenset({"read"})


class IdentityKeyScheme(OpenApiAuthenticationExtension):
    target_class = "stats.api.identity.drf.IdentityKeyAuthentication"
    name = "identityKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A secret read key `sk_live_…` (`pk_live_` keys are refused).",
        }


class IdentityThrottle(RateLimitThrottle):
    """``framework.RATE_LIMIT`` requests a minute per key, counted in the cache."""

    window_seconds = 60

    def bucket(self, request, view) -> str:
        return f"identity:{request.auth.client.pk}"

    def limit(self, request, view) -> int:
        return framework.RATE_LIMIT


class ReadsRequestedSite(BasePermission):
    """The key may read visitors (scope ``visitors:read``, a role that may view stats) on
    the site it names; the site is left on ``view.site``. A site it may not read is "not
    found", as a site that does not exist (``framework.requested_site``)."""

    def has_permission(self, request, view) -> bool:
        view.site = requested_site(request, request.auth)
        return True


PAGINATION_SCHEMA = {
    "type": "object",
    "required": ["total", "page", "limit", "total_pages", "has_next", "has_prev"],
    "properties": {
        **{name: {"type": "integer"} for name in ("total", "page", "limit", "total_pages")},
        "has_next": {"type": "boolean"},
        "has_prev": {"type": "boolean"},
    },
}


class IdentityPagination(BasePagination):
    """identity-js's ``{"data": [...], "pagination": {total, page, limit, total_pages,
    has_next, has_prev}}``. ``page`` and ``limit`` are read for every endpoint before the
    view runs (a page beyond ``MAX_PAGE`` is a 400 everywhere, as before); a garbage or
    non-positive number is 1 (``limit``: 50), a limit above 100 is 100."""

    page = 1
    limit = DEFAULT_LIMIT
    total = 0

    def read(self, request) -> None:
        self.page = requested_page(request.GET.get("page"))
        self.limit = positive(request.GET.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def pagination(self, total: int) -> dict:
        total_pages = math.ceil(total / self.limit) if total else 0
        return {
            "total": total,
            "page": self.page,
            "limit": self.limit,
            "total_pages": total_pages,
            "has_next": self.page < total_pages,
            "has_prev": self.page > 1,
        }

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.total = queryset.count()
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data) -> Response:
        return self.paged(data, self.total)

    def paged(self, data, total: int) -> Response:
        """A page of ``data`` (a list, or an insight's object of lists) out of ``total``."""
        return Response({"data": data, "pagination": self.pagination(total)})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": schema,
                "pagination": PAGINATION_SCHEMA,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                },
            },
        ]


# The query parameters every endpoint reads (the date range is the site's days).
SITE = OpenApiParameter(
    "site_id",
    {"type": "string", "maxLength": 32},
    description="The site's public id, for an account-wide key (`site` is accepted too); "
    "without it an account key reads its only site, or answers 404 `not_found` if it has "
    "several.",
)
START_DATE = OpenApiParameter("start_date", {"type": "string", "format": "date"})
END_DATE = OpenApiParameter("end_date", {"type": "string", "format": "date"})
PAGE = OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE})
LIMIT = OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})
# Every answer after a valid key was counted (all but the 401) has the limit's headers.
COUNTED = [200, 400, 404, 429]
RATE_LIMIT_HEADERS = [
    OpenApiParameter(
        name,
        {"type": "integer", "minimum": 0},
        OpenApiParameter.HEADER,
        required=True,
        description=description,
        response=COUNTED,
    )
    for name, description in (
        ("X-RateLimit-Limit", "Requests a minute per key."),
        ("X-RateLimit-Remaining", "Requests left in this minute."),
        ("X-RateLimit-Reset", "When the minute ends (epoch seconds)."),
    )
] + [
    OpenApiParameter(
        "Retry-After",
        {"type": "integer", "minimum": 1},
        OpenApiParameter.HEADER,
        required=True,
        description="Seconds until the next minute.",
        response=[429],
    )
]


class IdentityView(ApiView):
    """Base of the identity-js endpoints (see the module docstring). A view's ``get``
    reads ``self.site``, ``self.period`` and ``self.paginator``."""

    authentication_classes = [IdentityKeyAuthentication]
    throttle_classes = [IdentityThrottle]
    late_permission_classes = [ReadsRequestedSite]
    pagination_class = IdentityPagination

    @property
    def default_response_headers(self) -> dict:
        # No ``Allow``: identity-js answers other methods with its 404, not a 405.
        return {}

    @property
    def paginator(self) -> IdentityPagination:
        if not hasattr(self, "_paginator"):
            self._paginator = self.pagination_class()
        return self._paginator

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.period = requested_period(request, self.site.timezone)
        self.paginator.read(request)

    def error_response(self, status: int, message: str, exc: Exception) -> HttpResponse:
        return identity_error(status, CODES.get(status, "invalid_parameter"), message)

    def translate_exception(self, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, IdentityError):
            return identity_error(exc.status_code, exc.code, exc.message)
        if isinstance(exc, exceptions.MethodNotAllowed):
            return identity_error(404, "not_found", READ_ONLY)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return identity_error(401, "unauthorized", f"Missing or invalid API key. {exc.detail}")
        if isinstance(exc, exceptions.Throttled):
            limit = framework.RATE_LIMIT
            return identity_error(
                429, "rate_limited", f"Rate limit exceeded. Max {limit} requests per minute."
            )
        if isinstance(exc, Http404 | exceptions.NotFound):
            return identity_error(404, "not_found", "Resource or endpoint not found.")
        return None

    def api_exception_handler(self, exc: Exception, context) -> HttpResponse | None:
        response = super().api_exception_handler(exc, context)
        if response is None:  # a bug: logged, and still answered in identity-js's shape
            logger.exception("identity API %s failed", self.request.path, exc_info=exc)
            response = identity_error(500, "internal_error", "Internal error.")
        return response
