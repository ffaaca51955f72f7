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

from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.drf import HasScope
from sites.api import DomainRole
from stats.api import pirsch
from stats.api import pirsch_schema as doc
from stats.api.funnel import FunnelAPIView
from stats.ecommerce import selectors as es

FLAGS = frozenset({"limit", "page", "compare"})
DEFAULT_LIST = 20


def _number(request: Request, name: str, default: int, maximum: int) -> int:
    value = request.GET.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or len(value) > 6 or not 1 <= int(value) <= maximum:
        raise pirsch.ParamError(name, f"{name} must be a number from 1 to {maximum}")
    return int(value)


def _currency(site) -> str:
    return getattr(site, "reporting_currency", "") or ""


class EcommerceView(FunnelAPIView):
    """Reading on the domain ``id`` names (``statistics:read``)."""

    late_permission_classes = [HasScope, DomainRole]
    openapi_tag = "Ecommerce"
    error_statuses = {"*": (400, 401, 403, 404, 405, 429)}


class Ecommerce(EcommerceView):
    """The ecommerce report; ``limit`` (1–500, default 20) caps each list;
    ``compare=previous`` adds the previous period's summary."""

    @doc.ecommerce_report
    def get(self, request) -> Response:
        query = pirsch.stats_query_for(request, self.site, FLAGS)
        limit = _number(request, "limit", DEFAULT_LIST, es.MAX_LIMIT)
        compare = request.GET.get("compare", "")
        if compare not in ("", "previous"):
            raise pirsch.ParamError("compare", "compare must be previous")
        report = es.ecommerce_report(
            query, _currency(self.site), limit=limit, compare=compare == "previous"
        )
        return Response(report)


class Orders(EcommerceView):
    """The order log: ``page`` (1-based), ``limit`` (1–500, default 100) per page."""

    @doc.ecommerce_orders
    def get(self, request) -> Response:
        query = pirsch.stats_query_for(request, self.site, FLAGS)
        limit = _number(request, "limit", es.DEFAULT_LIMIT, es.MAX_LIMIT)
        page = _number(request, "page", 1, 100_000)
        log = es.order_log(query, page=page, limit=limit)
        return Response({"currency": _currency(self.site), **log})


ecommerce = Ecommerce.as_view()
orders = Orders.as_view()
