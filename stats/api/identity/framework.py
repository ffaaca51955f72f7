"""What the identity-js-style API reads from a request that DRF has no class for: the
documented limits, the requested date range and the site an account-wide key names.

The DRF pieces (authentication, the site permission, the throttle, the pagination and
the error answers) are in ``stats.api.identity.drf``; they raise ``IdentityError`` and
read these functions and limits at each request (never at import, so tests may change
``RATE_LIMIT``).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

from accounts.authentication import Principal
from accounts.models import Scope
from analytics_project.api_errors import identity_error
from sites.models import Site
from sites.permissions import principal_may, principal_sites
from stats.ranges import EARLIEST_DAY, RangeError, check_day, check_range
from stats.selectors import Period

RATE_LIMIT = 60  # requests a minute per key (docs/api.md)
DEFAULT_DAYS = 30
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Deeper pages than this are refused: the offset would overflow the database's integers
# long before (page 1e20 was a 500), and no one pages a million rows by hand.
MAX_PAGE = 100_000
# The query parameter naming the site when the key is account-wide (``site`` is kept as
# an alias for clients written before it was documented).
SITE_PARAMETER = "site_id"


class IdentityError(exceptions.APIException):
    """A refusal in identity-js's terms: its HTTP status, ``code`` and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(detail=message, code=code)
        self.status_code, self.code, self.message = status, code, message


def _date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str):
    raise IdentityError(400, "invalid_date", f"Invalid date format for {name}. Use YYYY-MM-DD.")


def positive(value: str | None, default: int, maximum: int | None = None) -> int:
    """A lenient count: garbage is the default, below 1 is 1, above ``maximum`` is it."""
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        number = default
    number = max(1, number)
    return min(number, maximum) if maximum else number


def requested_page(value: str | None) -> int:
    page = positive(value, 1)
    if page > MAX_PAGE:
        raise IdentityError(400, "invalid_parameter", f"page must be between 1 and {MAX_PAGE}.")
    return page


def requested_site(request: HttpRequest, principal: Principal) -> Site:
    """The site a key reads: a site key's own; an account key's ``site_id`` (or, when the
    account reads exactly one site, that one). Another account's site and a site the key
    may not read look alike: 404."""
    sites = principal_sites(principal)
    if principal.site_id is None:
        wanted = request.GET.get(SITE_PARAMETER) or request.GET.get("site", "")
        if wanted:
            sites = sites.filter(public_id=wanted)
        elif sites[:2].count() != 1:
            raise IdentityError(
                404,
                "not_found",
                f"Project not found: an account-wide key names its site with {SITE_PARAMETER}.",
            )
    site = sites.first()
    if site is None or not principal_may(principal, Scope.READ_VISITORS, site):
        raise IdentityError(404, "not_found", "Project not found for this API key.")
    return site


def requested_period(request: HttpRequest, tz: str) -> Period:
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
        message = f"{exc.message[0].upper()}{exc.message[1:]}."
        raise IdentityError(400, "invalid_date", message) from None
    return Period.of_days(start, end, tz)


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Every path under ``/api/v1/`` no route claims (mounted last in the root URLconf, so
    it never shadows a Pirsch, token or identity route): identity-js's 404 envelope."""
    return identity_error(404, "not_found", "Resource or endpoint not found.")
