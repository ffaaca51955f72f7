"""Authentication, rate limits, dates, pagination and errors of the identity-js-style API."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import AuthenticationFailed, authenticate_bearer
from accounts.models import Scope
from analytics_project.api_errors import identity_error
from analytics_project.ratelimit import check_rate_limit, with_rate_limit_headers
from sites.permissions import principal_may, principal_sites
from stats.ranges import EARLIEST_DAY, RangeError, check_day, check_range
from stats.selectors import Period

logger = logging.getLogger(__name__)

RATE_LIMIT = 60
DEFAULT_DAYS = 30
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Deeper pages than this are refused: the offset would overflow the database's integers
# long before (page 1e20 was a 500), and no one pages a million rows by hand.
MAX_PAGE = 100_000
# The query parameter naming the site when the key is account-wide (``site`` is kept as
# an alias for clients written before it was documented).
SITE_PARAMETER = "site_id"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Context:
    site_id: int
    timezone: str
    period: Period
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def paginate(self, queryset, to_json) -> dict:
        """The seed's ``{"data": [...], "pagination": {...}}`` for a queryset."""
        total = queryset.count()
        items = [to_json(item) for item in queryset[self.offset : self.offset + self.limit]]
        return {"data": items, "pagination": self.pagination(total)}

    def pagination(self, total: int) -> dict:
        """The seed's ``pagination`` object for a list of ``total`` rows."""
        total_pages = math.ceil(total / self.limit) if total else 0
        return {
            "total": total,
            "page": self.page,
            "limit": self.limit,
            "total_pages": total_pages,
            "has_next": self.page < total_pages,
            "has_prev": self.page > 1,
        }


def _date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str):
    raise ApiError(400, "invalid_date", f"Invalid date format for {name}. Use YYYY-MM-DD.")


def _positive(value: str | None, default: int, maximum: int | None = None) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        number = default
    number = max(1, number)
    return min(number, maximum) if maximum else number


def _page(value: str | None) -> int:
    page = _positive(value, 1)
    if page > MAX_PAGE:
        raise ApiError(400, "invalid_parameter", f"page must be between 1 and {MAX_PAGE}.")
    return page


def _site(request: HttpRequest, principal):
    """The site a key reads: a site key's own; an account key's ``site_id`` (or, when the
    account reads exactly one site, that one)."""
    sites = principal_sites(principal)
    if principal.site_id is None:
        wanted = request.GET.get(SITE_PARAMETER) or request.GET.get("site", "")
        if wanted:
            sites = sites.filter(public_id=wanted)
        elif sites[:2].count() != 1:
            raise ApiError(
                404,
                "not_found",
                f"Project not found: an account-wide key names its site with {SITE_PARAMETER}.",
            )
    site = sites.first()
    if site is None or not principal_may(principal, Scope.READ_VISITORS, site):
        raise ApiError(404, "not_found", "Project not found for this API key.")
    return site


def _period(request: HttpRequest, tz: str) -> Period:
    """The requested days as a ``Period``, capped like every statistics reader
    (``stats.ranges``: at most ten years, days from 1970 to 2999): without the cap
    ``start_date=0001-01-01`` walks 740,000 days, seconds and hundreds of MB a request."""
    today = timezone.now().astimezone(ZoneInfo(tz)).date()
    end = _date(request.GET.get("end_date"), "end_date") or today
    start = _date(request.GET.get("start_date"), "start_date")
    try:
        if start is None:
            check_day(end, "end_date")
            start = max(end - timedelta(days=DEFAULT_DAYS - 1), EARLIEST_DAY)
        if start > end:
            raise RangeError("start_date", "start_date must not be after end_date")
        check_range(start, end, "start_date", "end_date")
    except RangeError as exc:
        raise ApiError(400, "invalid_date", f"{exc.message[0].upper()}{exc.message[1:]}.") from None
    return Period.of_days(start, end, tz)


def identity_endpoint(view):
    """Wrap ``view(request, ctx)`` returning a dict into a full identity-js endpoint."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        limit = None
        try:
            if request.method != "GET":
                raise ApiError(404, "not_found", "Endpoint not found. The API is read-only (GET).")
            try:
                principal = authenticate_bearer(
                    request.headers.get("Authorization", ""), allowed_kinds={"read"}
                )
            except AuthenticationFailed as exc:
                raise ApiError(401, "unauthorized", f"Missing or invalid API key. {exc}") from exc
            limit = check_rate_limit(f"identity:{principal.client.pk}", RATE_LIMIT, 60)
            if not limit.allowed:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"Rate limit exceeded. Max {RATE_LIMIT} requests per minute.",
                )
            site = _site(request, principal)
            ctx = Context(
                site_id=site.pk,
                timezone=site.timezone,
                period=_period(request, site.timezone),
                page=_page(request.GET.get("page")),
                limit=_positive(request.GET.get("limit"), DEFAULT_LIMIT, MAX_LIMIT),
            )
            response = JsonResponse(view(request, ctx, *args, **kwargs))
        except ApiError as error:
            response = identity_error(error.status, error.code, error.message)
        except Exception:
            logger.exception("identity API %s failed", request.path)
            response = identity_error(500, "internal_error", "Internal error.")
        return with_rate_limit_headers(response, limit) if limit else response

    return wrapper


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Every path under ``/api/v1/`` no route claims (mounted last in the root URLconf, so
    it never shadows a Pirsch, token or identity route): identity-js's 404 envelope."""
    return identity_error(404, "not_found", "Resource or endpoint not found.")
