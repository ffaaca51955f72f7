"""The dashboard's Ecommerce page (``/sites/<public_id>/ecommerce``, issue #15): KPIs,
products, categories, abandoned carts and the order log of Matomo ecommerce tracking.

Members who may view statistics see it; anonymous visitors are sent to log in, signed-in
users without access get 404. The range and filters are the dashboard's
(``stats.dashboard.dashboard_state``); numbers come from ``stats.ecommerce.selectors``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sites.models import Site
from sites.permissions import Action, can
from stats.dashboard import PERIODS, dashboard_state
from stats.ecommerce import selectors as es

ORDERS_PER_PAGE = 25


def _site_for(request: HttpRequest, public_id: str) -> Site:
    site = Site.objects.filter(public_id=public_id).first()
    if site is None or not can(request.user, Action.VIEW_STATS, site):
        raise Http404("No such site.")
    return site


def _page(value: str) -> int:
    return int(value) if value.isdigit() and 0 < len(value) <= 6 and int(value) > 0 else 1


@require_GET
@login_required
def ecommerce(request: HttpRequest, public_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    params = request.GET
    if "period" not in params and params.get("from") and params.get("to"):
        params = params.copy()
        params["period"] = "custom"
    state = dashboard_state(params, site)
    query = state.query(site.pk)
    currency = getattr(site, "reporting_currency", "") or ""
    report = es.ecommerce_report(query, currency, compare=state.compare)
    page = _page(request.GET.get("page", ""))
    log = es.order_log(query, page=page, limit=ORDERS_PER_PAGE)
    summary = report["summary"]
    for row in (*report["abandoned_carts"], *log["orders"]):
        row["local"] = _local(row["time"], state.tz)
    previous = report.get("previous", {}).get("summary")
    kpis = [
        {"key": key, "label": label, "value": _kpi(key, summary, currency)}
        | ({"previous": _kpi(key, previous, currency)} if previous else {})
        for key, label in KPIS
    ]
    empty = not summary["orders"] and not summary["cart_updates"] and not report["product_views"]
    pages = max(1, -(-log["total"] // ORDERS_PER_PAGE))
    return render(
        request,
        "stats/ecommerce.html",
        {
            "site": site,
            "state": state,
            "periods": PERIODS,
            "base": f"/sites/{site.public_id}/ecommerce",
            "range_qs": state.querystring(),
            "report": report,
            "summary": summary,
            "kpis": kpis,
            "compare_qs": state.querystring(compare=None if state.compare else "previous"),
            "currency": currency,
            "empty": empty,
            "log": log,
            "page": page,
            "pages": pages,
            "has_prev": page > 1,
            "has_next": page < pages,
            "may_manage": can(request.user, Action.MANAGE_SETTINGS, site),
        },
    )


KPIS = (
    ("orders", "Orders"),
    ("conversion_rate", "Conversion rate"),
    ("revenue", "Revenue"),
    ("average_order_value", "Average order"),
    ("abandoned_carts", "Abandoned carts"),
    ("abandoned_value", "Abandoned value"),
)
AMOUNTS = frozenset({"revenue", "average_order_value", "abandoned_value"})


def _kpi(key: str, summary: dict, currency: str) -> str:
    if key == "conversion_rate":
        return f"{100 * summary[key]:.1f} %"
    if key in AMOUNTS:
        return _amount(summary[key], currency)
    return str(summary[key])


def _local(iso: str, tz: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _amount(value: str | None, currency: str) -> str:
    return "–" if value is None else f"{value} {currency}".strip()
