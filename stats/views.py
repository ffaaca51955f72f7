"""The site dashboard: the page, its HTMX panels, live visitors, CSV export, shared links.

Access (``sites.sharing.dashboard_access``): members by role; anyone on a public site and
holders of a shared link, read-only. Without access: anonymous visitors are sent to log
in, signed-in users get 404 (other tenants' sites do not exist for them).

Panels are fetched in parallel by HTMX (``hx-trigger="load"``); a panel that fails shows a
friendly message inside itself (answered with 200 so HTMX swaps it in) and is logged.
"""

from __future__ import annotations

import functools
import logging
from math import ceil

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from analytics_project.client_ip import client_ip, ip_digest
from sites.models import Site
from sites.sharing import (
    DashboardAccess,
    dashboard_access,
    shared_link_grant,
    shared_link_password_attempt,
    shared_link_resolve,
)
from stats import dashboard as d
from stats import dashboard_chart as charts
from stats import revenue, selectors
from stats.query import daily_metrics
from stats.query.sources import imported as imported_data

logger = logging.getLogger(__name__)

DETAILS_PAGE_SIZE = 50
PANEL_ROWS = 10
MAX_LIVE_SECONDS = 3600


def dashboard_view(view):
    """Resolve the site and the request's access; log-in redirect or 404 without access."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, public_id: str, *args, **kwargs):
        site = Site.objects.filter(public_id=public_id).first()
        access = dashboard_access(request, site) if site is not None else None
        if access is None:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise Http404("No such site.")
        return view(request, access, *args, **kwargs)

    return require_GET(wrapper)


def site_base(site: Site) -> str:
    return f"/sites/{site.public_id}/"


def _live_seconds(site: Site) -> int:
    return min(max(site.active_visitors_seconds or 300, 60), MAX_LIVE_SECONDS)


def _base_context(request, access: DashboardAccess, state: d.DashboardState | None = None):
    site = access.site
    return {
        "site": site,
        "access": access,
        "read_only": access.read_only,
        "state": state,
        "base": f"/sites/{site.public_id}/",
    }


# --- the page ----------------------------------------------------------------------------


KPI_LABELS = [
    ("visitors", "Unique visitors"),
    ("visits", "Total visits"),
    ("views", "Page views"),
    ("views_per_visit", "Views per visit"),
    ("bounce_rate", "Bounce rate"),
    ("visit_duration", "Visit duration"),
]


def duration_text(seconds: int | float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def kpi_cards(kpis: dict) -> list[dict]:
    cards = []
    for key, label in KPI_LABELS:
        figure = kpis[key]
        value = figure["value"]
        if key == "bounce_rate":
            shown = f"{value * 100:.0f}%"
        elif key == "visit_duration":
            shown = duration_text(value)
        elif key == "views_per_visit":
            shown = f"{value:.2f}"
        else:
            shown = f"{value:,}"
        change = figure["change"]
        if change is None or change == 0:
            direction, good = "flat", None
        else:
            direction = "up" if change > 0 else "down"
            good = (change < 0) if key == "bounce_rate" else (change > 0)
        cards.append(
            {
                "key": key,
                "label": label,
                "value": shown,
                "change": None if change is None else f"{abs(change) * 100:.0f}%",
                "direction": direction,
                "tone": "flat" if good is None else ("up" if good else "down"),
                "arrow": {"up": "↑", "down": "↓", "flat": ""}[direction],
            }
        )
    return cards


def revenue_card(money: dict) -> dict:
    """The Revenue KPI card (``stats.revenue.revenue_kpi``), shown when the period or the
    previous one has revenue; amounts in the site's reporting currency."""
    value, previous = money["value"], money["previous"]
    change = float((value - previous) / previous) if previous else None
    direction = "flat" if not change else ("up" if change > 0 else "down")
    return {
        "key": "revenue",
        "label": f"Revenue ({money['currency']})",
        "value": f"{value:,.2f}",
        "change": None if change is None else f"{abs(change) * 100:.0f}%",
        "direction": direction,
        "tone": direction,
        "arrow": {"up": "↑", "down": "↓", "flat": ""}[direction],
    }


@dashboard_view
def dashboard(request, access: DashboardAccess):
    site = access.site
    if "fk" in request.GET:
        return _apply_filter_form(request, site)
    state = d.dashboard_state(request.GET, site)
    asked_custom = request.GET.get("period") == "custom"
    if not asked_custom and ("from" in request.GET or "to" in request.GET):
        # The range picker also sends its (hidden) custom dates: keep URLs canonical.
        return redirect(f"{site_base(site)}?{state.querystring()}")
    stats_query = state.query(site.pk)
    # Each period's per-day metrics are read once and shared by the KPIs and the chart.
    current_days = daily_metrics(stats_query)
    previous_days = daily_metrics(stats_query.previous())
    points = charts.series_points(state, site.pk, current_days, previous_days)
    context = _base_context(request, access, state)
    kpis = kpi_cards(selectors.dashboard_kpis(stats_query, current_days, previous_days))
    money = revenue.revenue_kpi(stats_query, site.reporting_currency)
    if money:
        kpis.append(revenue_card(money))
    context.update(
        kpis=kpis,
        revenue_unconverted=money["unconverted"] if money else 0,
        points=points,
        chart=charts.chart(points),
        chips=state.chips(),
        periods=d.PERIODS,
        filter_labels=d.FILTER_LABELS,
        groups=[
            {"name": group, "title": title, "panel": d.FIRST_PANEL[group]}
            for group, title in d.GROUPS.items()
        ],
        live_count=selectors.active_visitor_count(site.pk, _live_seconds(site)),
        compare_qs=state.querystring(compare=None if state.compare else "previous"),
        imports=imported_data.dashboard_note(stats_query),
        imports_qs=state.querystring(imports=None if not state.imports else "0"),
    )
    return render(request, "stats/dashboard.html", context)


def _apply_filter_form(request, site: Site):
    """The add-filter form (``fk``, ``fo``, ``fv``) → the dashboard URL with that filter."""
    state = d.dashboard_state(request.GET, site)
    param = d.filter_param(
        request.GET.get("fk", ""), request.GET.get("fo", ""), request.GET.get("fv", "")
    )
    dashboard_url = reverse("dashboard", args=[site.public_id])
    if param is None:
        return redirect(f"{dashboard_url}?{state.querystring()}")
    key, value = param
    return redirect(f"{dashboard_url}?{state.with_filter(key, value)}")


# --- panels ------------------------------------------------------------------------------


def _rows_with_links(rows: list[dict], state: d.DashboardState, base: str) -> list[dict]:
    top = max([r["visitors"] for r in rows] + [1])
    for row in rows:
        row["bar"] = round(row["visitors"] / top * 100, 1)
        row["href"] = (
            f"{base}?{state.with_filter(row['filter_key'], row['filter_value'])}"
            if row.get("filter_key") and row.get("filter_value")
            else None
        )
    return rows


def _panel_or_404(name: str) -> d.Panel:
    panel = d.PANELS.get(name)
    if panel is None:
        raise Http404("No such panel.")
    return panel


@dashboard_view
def panel(request, access: DashboardAccess, panel_name: str):
    selected = _panel_or_404(panel_name)
    site = access.site
    context = _base_context(request, access)
    context.update(
        panel=selected,
        tabs=[p for p in d.PANELS.values() if p.group == selected.group],
        group_title=d.GROUPS[selected.group],
    )
    try:
        state = d.dashboard_state(request.GET, site)
        stats_query = state.query(site.pk)
        rows = d.panel_rows(selected, stats_query)
        shown = _rows_with_links(rows[:PANEL_ROWS], state, context["base"])
        context.update(state=state, rows=shown, total_rows=len(rows))
    except Exception:
        logger.exception("dashboard panel %s failed for site %s", panel_name, site.pk)
        context.update(failed=True)
    return render(request, "stats/_panel.html", context)


@dashboard_view
def panel_details(request, access: DashboardAccess, panel_name: str):
    selected = _panel_or_404(panel_name)
    site = access.site
    state = d.dashboard_state(request.GET, site)
    stats_query = state.query(site.pk)
    context = _base_context(request, access, state)
    event_name = request.GET.get("event_name", "")
    if selected.name == "events" and event_name:
        rows = d.event_properties(stats_query, event_name)
    else:
        rows = d.panel_rows(selected, stats_query)
        event_name = ""
    # A sortable Revenue column when the range has any revenue (docs/revenue.md).
    currency = site.reporting_currency
    money = revenue.revenue_total(stats_query, currency=currency) if not event_name else None
    show_revenue = bool(money and money.conversions) and selected.name != "exit"
    sort = "revenue" if show_revenue and request.GET.get("sort") == "revenue" else None
    if show_revenue:
        revenue.panel_revenue(selected.name, selected.column, rows, stats_query)
        if sort:
            rows.sort(key=lambda row: -row["revenue"])
    pages = max(1, ceil(len(rows) / DETAILS_PAGE_SIZE))
    try:
        page = min(max(int(request.GET.get("page", "1")), 1), pages)
    except ValueError:
        page = 1
    shown = rows[(page - 1) * DETAILS_PAGE_SIZE : page * DETAILS_PAGE_SIZE]
    if not event_name:
        shown = _rows_with_links(shown, state, context["base"])
    context.update(
        panel=selected,
        rows=shown,
        event_name=event_name,
        page=page,
        pages=pages,
        total_rows=len(rows),
        previous_qs=state.querystring(page=str(page - 1), event_name=event_name or None, sort=sort)
        if page > 1
        else None,
        next_qs=state.querystring(page=str(page + 1), event_name=event_name or None, sort=sort)
        if page < pages
        else None,
        show_revenue=show_revenue,
        revenue_currency=money.currency if money else "",
        sort=sort,
        sort_revenue_qs=state.querystring(sort="revenue", page=None),
        sort_visitors_qs=state.querystring(sort=None, page=None),
    )
    return render(request, "stats/panel_details.html", context)


# --- live --------------------------------------------------------------------------------


@dashboard_view
def live(request, access: DashboardAccess):
    context = _base_context(request, access)
    context.update(live=_live_context(access.site))
    return render(request, "stats/live.html", context)


def _live_context(site: Site) -> dict:
    seconds = _live_seconds(site)
    overview = selectors.live_overview(site.pk, seconds)
    for row in overview["countries"]:
        row["label"] = selectors.country_name(row["country_code"]) or "(unknown)"
    return {**overview, "minutes": seconds // 60}


@dashboard_view
def live_data(request, access: DashboardAccess):
    try:
        context = {"live": _live_context(access.site), "site": access.site}
    except Exception:
        logger.exception("live view failed for site %s", access.site.pk)
        context = {"failed": True, "site": access.site}
    return render(request, "stats/_live_data.html", context)


@dashboard_view
def live_badge(request, access: DashboardAccess):
    site = access.site
    try:
        count = selectors.active_visitor_count(site.pk, _live_seconds(site))
    except Exception:
        logger.exception("live badge failed for site %s", site.pk)
        count = None
    if count is not None and request.GET.get("last") == str(count):
        # Unchanged: 204 makes HTMX keep the badge, so screen readers hear nothing new.
        return HttpResponse(status=204)
    return render(request, "stats/_live_badge.html", {"site": site, "live_count": count})


# --- CSV ---------------------------------------------------------------------------------


@dashboard_view
def export_csv(request, access: DashboardAccess):
    if not access.can_export:
        raise Http404("No such site.")
    site = access.site
    state = d.dashboard_state(request.GET, site)
    names = [n for n in request.GET.getlist("panel") if n]
    unknown = [n for n in names if n != "summary" and n not in d.PANELS]
    if unknown:
        return HttpResponse(
            f"unknown panel: {', '.join(unknown)}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    body = d.export_csv(state, site, names)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"footfall-{site.hostname}-{state.first_day}-{state.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- shared links ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def shared_link_open(request, token: str):
    """``/share/<token>/``: check the link (and its password), remember it, open the dashboard."""
    link = shared_link_resolve(token)
    if link is None:
        raise Http404("No such link.")
    dashboard_url = f"/sites/{link.site.public_id}/"
    if not link.has_password:
        shared_link_grant(request.session, link)
        return redirect(dashboard_url)
    error = ""
    if request.method == "POST":
        # Counted per (link, caller): a stranger with the URL cannot lock other viewers out.
        attempt = shared_link_password_attempt(
            link, request.POST.get("password", ""), caller=ip_digest(client_ip(request))
        )
        if attempt.accepted:
            request.session.cycle_key()
            shared_link_grant(request.session, link)
            return redirect(dashboard_url)
        if attempt.retry_after:
            error = "Too many attempts. Try again in a few minutes."
        else:
            error = "That password is not right."
    return render(
        request,
        "stats/shared_password.html",
        {"link": link, "site": link.site, "error": error},
        status=403 if error else 200,
    )
