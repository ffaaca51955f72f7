"""The dashboard's Funnels pages (``/sites/<public_id>/funnels…``): list, create, edit,
delete, the chart of a funnel's steps, the sessions that dropped off at a step, and one
session's events.

Members who may view statistics see funnels; Owners and Admins create, edit and delete
them (``sites.permissions``: ``MANAGE_SETTINGS``). Anonymous visitors are sent to log in;
signed-in users without access get 404. The range and filters are the dashboard's
(``stats.dashboard.dashboard_state``); numbers come from ``stats.funnels.selectors``.
"""

from __future__ import annotations

import dataclasses

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sites.models import Site
from sites.permissions import Action, can
from stats import pirsch_selectors as ps
from stats import query as q
from stats.dashboard import FILTER_LABELS, PERIODS, dashboard_state
from stats.funnels import selectors as fs
from stats.funnels.services import funnel_create, funnel_delete, funnel_update
from stats.funnels.steps import StepError, cli_step, parse_cli_step, parse_window
from stats.models import Funnel, Goal
from stats.selectors import (
    public_session_id,
    public_visitor_id,
    session_id_from_public,
    visitor_id_from_public,
)

WINDOWS = (
    ("5m", "5 minutes"),
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("6h", "6 hours"),
    ("1d", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
)


def _site_for(request: HttpRequest, public_id: str) -> Site:
    site = Site.objects.filter(public_id=public_id).first()
    if site is None or not can(request.user, Action.VIEW_STATS, site):
        raise Http404("No such site.")
    return site


def _funnel_for(site: Site, funnel_id: str) -> Funnel:
    funnel = (
        Funnel.objects.filter(site=site, pk=int(funnel_id)).first()
        if (funnel_id.isdigit() and len(funnel_id) <= 18)
        else None
    )
    if funnel is None:
        raise Http404("No such funnel.")
    return funnel


def _managed(request: HttpRequest, site: Site) -> None:
    if not can(request.user, Action.MANAGE_SETTINGS, site):
        raise PermissionDenied("Only Owners and Admins manage funnels.")


def _state(request: HttpRequest, site: Site):
    params = request.GET
    if "period" not in params and params.get("from") and params.get("to"):
        params = params.copy()
        params["period"] = "custom"
    return dashboard_state(params, site)


def _window_label(seconds: int) -> str:
    for value, label in WINDOWS:
        if parse_window(value) == seconds:
            return label
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


@require_GET
@login_required
def funnels_index(request: HttpRequest, public_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    funnels = [
        {"funnel": f, "steps": len(f.steps), "window": _window_label(f.window_seconds)}
        for f in Funnel.objects.filter(site=site)
    ]
    return render(
        request,
        "stats/funnels.html",
        {
            "site": site,
            "funnels": funnels,
            "may_manage": can(request.user, Action.MANAGE_SETTINGS, site),
        },
    )


def _form_data(request: HttpRequest) -> dict:
    lines = [line.strip() for line in request.POST.get("steps", "").splitlines() if line.strip()]
    return {
        "name": request.POST.get("name", ""),
        "steps": [parse_cli_step(line) for line in lines],
        "window": request.POST.get("window", "1d"),
        "order": request.POST.get("order", "sequential"),
        "scope": request.POST.get("scope", "visitor"),
        "open": request.POST.get("open") == "on",
    }


def _form(request, site: Site, funnel: Funnel | None, error: str = "", status: int = 200):
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "steps": request.POST.get("steps", ""),
            "window": request.POST.get("window", "1d"),
            "order": request.POST.get("order", "sequential"),
            "scope": request.POST.get("scope", "visitor"),
            "open": request.POST.get("open") == "on",
        }
    elif funnel is not None:
        window = next(
            (v for v, _ in WINDOWS if parse_window(v) == funnel.window_seconds),
            f"{funnel.window_seconds}s",
        )
        values = {
            "name": funnel.name,
            "steps": "\n".join(cli_step(s) for s in funnel.steps),
            "window": window,
            "order": funnel.order,
            "scope": funnel.scope,
            "open": funnel.open,
        }
    else:
        values = {
            "name": "",
            "steps": "page:/pricing\nevent:Signup",
            "window": "1d",
            "order": "sequential",
            "scope": "visitor",
            "open": False,
        }
    windows = list(WINDOWS)
    if values["window"] not in dict(windows):
        windows.append((values["window"], values["window"]))
    return render(
        request,
        "stats/funnel_form.html",
        {
            "site": site,
            "funnel": funnel,
            "values": values,
            "windows": windows,
            "goals": Goal.objects.filter(site=site),
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def funnel_new(request: HttpRequest, public_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    _managed(request, site)
    if request.method == "POST":
        try:
            funnel = funnel_create(site, _form_data(request))
        except StepError as error:
            return _form(request, site, None, error.message, status=400)
        return redirect("funnel_detail", site.public_id, funnel.pk)
    return _form(request, site, None)


@require_http_methods(["GET", "POST"])
@login_required
def funnel_edit(request: HttpRequest, public_id: str, funnel_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    funnel = _funnel_for(site, funnel_id)
    _managed(request, site)
    if request.method == "POST":
        try:
            funnel_update(funnel, _form_data(request))
        except StepError as error:
            funnel.refresh_from_db()
            return _form(request, site, funnel, error.message, status=400)
        return redirect("funnel_detail", site.public_id, funnel.pk)
    return _form(request, site, funnel)


@require_POST
@login_required
def funnel_remove(request: HttpRequest, public_id: str, funnel_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    funnel = _funnel_for(site, funnel_id)
    _managed(request, site)
    funnel_delete(funnel)
    return redirect("funnels", site.public_id)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


@require_GET
@login_required
def funnel_detail(request: HttpRequest, public_id: str, funnel_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    funnel = _funnel_for(site, funnel_id)
    state = _state(request, site)
    breakdown = request.GET.get("breakdown") or None
    if breakdown not in q.FILTER_FIELDS:
        breakdown = None
    report = fs.funnel_report(
        funnel, state.query(site.pk), breakdown=breakdown, compare=state.compare
    )
    first = report["steps"][0]["visitors"] or 1
    previous = {s["step"]: s for s in report.get("previous", {}).get("steps", [])}
    steps = [
        {
            **step,
            "width": round(100 * step["visitors"] / first, 1),
            "median": _duration((step["time_to_convert"] or {}).get("median_seconds")),
            "mean": _duration((step["time_to_convert"] or {}).get("mean_seconds")),
            "previous": previous.get(step["step"]),
            "conversion_pct": round(100 * step["conversion_from_first"], 1),
            "previous_pct": round(100 * step["conversion_from_previous"], 1),
            "drop_pct": round(100 * step["drop_off"], 1),
        }
        for step in report["steps"]
    ]
    return render(
        request,
        "stats/funnel_detail.html",
        {
            "site": site,
            "funnel": funnel,
            "report": report,
            "steps": steps,
            "state": state,
            "periods": PERIODS,
            "base": f"/sites/{site.public_id}/funnels/{funnel.pk}",
            "range_qs": state.querystring(),
            "breakdown": breakdown,
            "dimensions": [(k, FILTER_LABELS.get(k, k)) for k in q.FILTER_FIELDS],
            "window": _window_label(funnel.window_seconds),
            "may_manage": can(request.user, Action.MANAGE_SETTINGS, site),
            "conversion_pct": round(100 * report["conversion_rate"], 1),
        },
    )


@require_GET
@login_required
def funnel_dropped(request: HttpRequest, public_id: str, funnel_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    funnel = _funnel_for(site, funnel_id)
    step = request.GET.get("step", "")
    if not step.isdigit() or not 2 <= int(step) <= len(funnel.steps):
        raise Http404("No such step.")
    state = _state(request, site)
    result = fs.dropped_sessions(funnel, state.query(site.pk), int(step))
    sessions = [
        {
            **row,
            "public_visitor": public_visitor_id(row["visitor_id"]),
            "public_session": public_session_id(row["session_id"]),
        }
        for row in result["sessions"]
    ]
    return render(
        request,
        "stats/funnel_dropped.html",
        {
            "site": site,
            "funnel": funnel,
            "step": int(step),
            "step_name": funnel.steps[int(step) - 1].get("name", ""),
            "previous_name": funnel.steps[int(step) - 2].get("name", ""),
            "total": result["total"],
            "sessions": sessions,
            "range_qs": state.querystring(),
        },
    )


@require_GET
@login_required
def session_detail(
    request: HttpRequest, public_id: str, visitor_id: str, session_id: str
) -> HttpResponse:
    """One session's page views and events in the range, in order."""
    site = _site_for(request, public_id)
    visitor, session = visitor_id_from_public(visitor_id), session_id_from_public(session_id)
    if visitor is None or session is None:
        raise Http404("No such session.")
    state = _state(request, site)
    query = dataclasses.replace(state.query(site.pk), filters={})
    steps = ps.session_steps(query, visitor, session)
    if not steps:
        raise Http404("No such session.")
    return render(
        request,
        "stats/funnel_session.html",
        {
            "site": site,
            "steps": steps,
            "visitor_id": visitor_id,
            "session_id": session_id,
            "range_qs": state.querystring(),
        },
    )
