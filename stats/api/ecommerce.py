"""Footfall's ecommerce API (issue #15; docs/api.md, "Ecommerce"), with the Pirsch OAuth
tokens and Pirsch's error shape, like the funnel API (``stats.api.funnel``).

- ``GET /api/v1/ecommerce?id=&from=&to=[&filters][&limit=]``: summary (orders, conversion
  rate, revenue, average order value, abandoned carts…), products, categories, abandoned
  carts and the newest orders, amounts in the site's reporting currency;
- ``GET /api/v1/ecommerce/orders?id=&from=&to=[&filters][&page=][&limit=]``: the order log,
  newest first, with items.

Reading needs ``statistics:read``; another tenant's domain is 404.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.api.auth import pirsch_principal
from accounts.models import Scope
from analytics_project.api_errors import pirsch_error
from stats.api import pirsch
from stats.api.funnel import _errors
from stats.ecommerce import selectors as es

FLAGS = frozenset({"limit", "page"})
DEFAULT_LIST = 20


def _number(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    value = request.GET.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or len(value) > 6 or not 1 <= int(value) <= maximum:
        raise pirsch.ParamError(name, f"{name} must be a number from 1 to {maximum}")
    return int(value)


def _read(request: HttpRequest):
    if request.method != "GET":
        return None, None, pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.READ_STATISTICS)
    if isinstance(principal, JsonResponse):
        return None, None, principal
    site, refusal = pirsch.domain_for(
        request, principal, request.GET.get("id", ""), Scope.READ_STATISTICS
    )
    if refusal:
        return None, None, refusal
    return site, pirsch.stats_query_for(request, site, FLAGS), None


def _currency(site) -> str:
    return getattr(site, "reporting_currency", "") or ""


@_errors
def ecommerce(request: HttpRequest) -> HttpResponse:
    """The ecommerce report; ``limit`` (1–500, default 20) caps each list."""
    site, query, refusal = _read(request)
    if refusal:
        return refusal
    limit = _number(request, "limit", DEFAULT_LIST, es.MAX_LIMIT)
    return JsonResponse(es.ecommerce_report(query, _currency(site), limit=limit))


@_errors
def orders(request: HttpRequest) -> HttpResponse:
    """The order log: ``page`` (1-based), ``limit`` (1–500, default 100) per page."""
    site, query, refusal = _read(request)
    if refusal:
        return refusal
    limit = _number(request, "limit", es.DEFAULT_LIMIT, es.MAX_LIMIT)
    page = _number(request, "page", 1, 100_000)
    log = es.order_log(query, page=page, limit=limit)
    return JsonResponse({"currency": _currency(site), **log})
