"""Funnel APIs (issue #15), with the Pirsch OAuth tokens and Pirsch's error shape.

- ``GET /api/v1/statistics/funnel?id=&from=&to=&funnel_id=``: Pirsch's funnel endpoint,
  ``{"definition": …, "data": [{step, visitors, relative_visitors, previous_visitors,
  relative_previous_visitors, dropped, drop_off}]}``.
- Footfall's own (docs/api.md, "Funnels"): ``/api/v1/funnels`` (``GET ?id=`` lists,
  ``POST`` creates), ``/api/v1/funnels/<id>`` (``GET``, ``PUT``/``PATCH``, ``DELETE``),
  ``/api/v1/funnels/<id>/report`` (steps with times, revenue, comparison, breakdown) and
  ``/api/v1/funnels/<id>/dropped?step=N`` (the sessions that dropped off before step N).

Reading needs ``statistics:read``; writing ``site:manage`` held by a client whose creator
is Owner or Admin of the site. Another tenant's site or funnel is 404.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api.auth import pirsch_principal
from accounts.models import Scope
from analytics_project.api_errors import pirsch_error
from sites.permissions import principal_may, principal_sites
from stats import query as q
from stats.api import pirsch
from stats.funnels import selectors as fs
from stats.funnels.services import funnel_create, funnel_delete, funnel_update
from stats.funnels.steps import StepError, glob_regex
from stats.models import Funnel
from stats.selectors import public_session_id, public_visitor_id

REPORT_FLAGS = frozenset({"funnel_id", "breakdown", "compare", "step"})
MAX_DROPPED = 100


def _errors(view):
    """Parameter and definition errors as Pirsch's 400 naming the field."""

    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (pirsch.ParamError, q.QueryError, StepError) as error:
            return pirsch_error(400, validation={error.field: error.message})
        except RequestDataTooBig:
            return pirsch_error(413, error=["the request body is too large"])

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return csrf_exempt(wrapper)


def _funnel(
    principal, funnel_id: str | int, scope: str
) -> tuple[Funnel | None, JsonResponse | None]:
    """The funnel if the principal may ``scope`` its site: another tenant's is not found,
    one the client may read but not change is forbidden."""
    text = str(funnel_id)
    if not text.isdigit() or len(text) > 18:
        return None, pirsch_error(404, error=["funnel not found"])
    funnel = (
        Funnel.objects.select_related("site")
        .filter(pk=int(text), site__in=principal_sites(principal))
        .first()
    )
    if funnel is None:
        return None, pirsch_error(404, error=["funnel not found"])
    if principal_may(principal, scope, funnel.site):
        return funnel, None
    if scope == Scope.READ_STATISTICS or not principal_may(
        principal, Scope.READ_STATISTICS, funnel.site
    ):
        return None, pirsch_error(404, error=["funnel not found"])
    return None, pirsch_error(403, error=["the client may not do this for this domain"])


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise pirsch.ParamError("body", "the request body must be JSON") from exc
    if not isinstance(body, dict):
        raise pirsch.ParamError("body", "the request body must be a JSON object")
    return body


def pirsch_definition(funnel: Funnel) -> dict:
    """Pirsch's ``Funnel`` object: steps with a ``filter`` each (paths, patterns, events)."""
    steps = []
    for number, step in enumerate(fs.definition_of(funnel).steps, 1):
        filters: dict = {}
        for alternative in step.alternatives:
            if alternative.type == "page" and "*" in alternative.value:
                filters.setdefault("pattern", []).append(glob_regex(alternative.value))
            elif alternative.type == "page":
                filters.setdefault("path", []).append(alternative.value)
            elif alternative.type == "event":
                filters.setdefault("event", []).append(alternative.value)
                if alternative.props:
                    filters.setdefault("event_meta", {}).update(dict(alternative.props))
            else:
                filters.setdefault("goal", []).append(int(alternative.value))
        steps.append(
            {"funnel_id": str(funnel.pk), "name": step.name, "step": number, "filter": filters}
        )
    return {
        "id": str(funnel.pk),
        "def_time": funnel.created_at.isoformat().replace("+00:00", "Z"),
        "mod_time": funnel.updated_at.isoformat().replace("+00:00", "Z"),
        "domain_id": funnel.site.public_id,
        "name": funnel.name,
        "steps": steps,
    }


@_errors
def statistics_funnel(request: HttpRequest) -> HttpResponse:
    """Pirsch's ``GET /api/v1/statistics/funnel``."""
    if request.method != "GET":
        return pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.READ_STATISTICS)
    if isinstance(principal, JsonResponse):
        return principal
    site, refusal = pirsch.domain_for(
        request, principal, request.GET.get("id", ""), Scope.READ_STATISTICS
    )
    if refusal:
        return refusal
    funnel_id = request.GET.get("funnel_id", "")
    if not funnel_id:
        raise pirsch.ParamError("funnel_id", "funnel_id is required")
    funnel = (
        Funnel.objects.filter(site=site, pk=int(funnel_id)).first()
        if funnel_id.isdigit() and len(funnel_id) <= 18
        else None
    )
    if funnel is None:
        return pirsch_error(404, error=["funnel not found"])
    query = pirsch.stats_query_for(request, site, REPORT_FLAGS)
    return JsonResponse(
        {"definition": pirsch_definition(funnel), "data": fs.funnel_pirsch(funnel, query)}
    )


@_errors
def funnels(request: HttpRequest) -> HttpResponse:
    """``GET /api/v1/funnels?id=<domain>`` lists; ``POST`` with ``{"id": <domain>, "name",
    "steps", "scope", "order", "window", "open"}`` creates (201)."""
    if request.method == "GET":
        principal = pirsch_principal(request, Scope.READ_STATISTICS)
        if isinstance(principal, JsonResponse):
            return principal
        site, refusal = pirsch.domain_for(
            request, principal, request.GET.get("id", ""), Scope.READ_STATISTICS
        )
        if refusal:
            return refusal
        rows = Funnel.objects.filter(site=site).select_related("site").order_by("pk")
        return JsonResponse([fs.definition_json(f) for f in rows], safe=False)
    if request.method != "POST":
        return pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.MANAGE_SITE)
    if isinstance(principal, JsonResponse):
        return principal
    body = _body(request)
    domain = body.get("id")
    site, refusal = pirsch.domain_for(
        request, principal, domain if isinstance(domain, str) else "", Scope.MANAGE_SITE
    )
    if refusal:
        return refusal
    funnel = funnel_create(site, body)
    return JsonResponse(fs.definition_json(funnel), status=201)


@_errors
def funnel_detail(request: HttpRequest, funnel_id: str) -> HttpResponse:
    """``GET``, ``PUT``/``PATCH`` (the fields to change) or ``DELETE`` one funnel."""
    if request.method == "GET":
        principal = pirsch_principal(request, Scope.READ_STATISTICS)
        if isinstance(principal, JsonResponse):
            return principal
        funnel, refusal = _funnel(principal, funnel_id, Scope.READ_STATISTICS)
        return refusal or JsonResponse(fs.definition_json(funnel))
    if request.method not in ("PUT", "PATCH", "DELETE"):
        return pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.MANAGE_SITE)
    if isinstance(principal, JsonResponse):
        return principal
    funnel, refusal = _funnel(principal, funnel_id, Scope.MANAGE_SITE)
    if refusal:
        return refusal
    if request.method == "DELETE":
        funnel_delete(funnel)
        return HttpResponse(status=204)
    return JsonResponse(fs.definition_json(funnel_update(funnel, _body(request))))


def _read(request: HttpRequest, funnel_id: str):
    if request.method != "GET":
        return None, None, pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.READ_STATISTICS)
    if isinstance(principal, JsonResponse):
        return None, None, principal
    funnel, refusal = _funnel(principal, funnel_id, Scope.READ_STATISTICS)
    if refusal:
        return None, None, refusal
    return funnel, pirsch.stats_query_for(request, funnel.site, REPORT_FLAGS), None


@_errors
def funnel_report(request: HttpRequest, funnel_id: str) -> HttpResponse:
    """Footfall's report: ``from``, ``to``, ``tz``, every filter, ``breakdown=<filter
    name>`` (e.g. ``country``), ``compare=previous``."""
    funnel, query, refusal = _read(request, funnel_id)
    if refusal:
        return refusal
    breakdown = request.GET.get("breakdown") or None
    if breakdown is not None and breakdown not in q.FILTER_FIELDS:
        raise pirsch.ParamError("breakdown", "breakdown must be a filter name such as country")
    compare = request.GET.get("compare", "")
    if compare not in ("", "previous", "true", "false"):
        raise pirsch.ParamError("compare", "compare must be previous")
    report = fs.funnel_report(
        funnel, query, breakdown=breakdown, compare=compare in ("previous", "true")
    )
    return JsonResponse(report)


@_errors
def funnel_dropped(request: HttpRequest, funnel_id: str) -> HttpResponse:
    """The sessions counted in step ``step``'s ``dropped`` (``step`` ≥ 2), newest first."""
    funnel, query, refusal = _read(request, funnel_id)
    if refusal:
        return refusal
    step = request.GET.get("step", "")
    steps = len(funnel.steps)
    if not step.isdigit() or not 2 <= int(step) <= steps:
        raise pirsch.ParamError("step", f"step must be a number from 2 to {steps}")
    limit_text = request.GET.get("limit", "") or str(MAX_DROPPED)
    if not limit_text.isdigit() or not 1 <= int(limit_text[:6]) <= MAX_DROPPED:
        raise pirsch.ParamError("limit", f"limit must be a number from 1 to {MAX_DROPPED}")
    limit = int(limit_text)
    result = fs.dropped_sessions(funnel, query, int(step), limit)
    return JsonResponse(
        {
            "step": int(step),
            "total": result["total"],
            "sessions": [
                {
                    "visitor_id": public_visitor_id(row["visitor_id"]),
                    "session_id": public_session_id(row["session_id"]),
                    "entered_at": row["entered_at"].isoformat(),
                    "last_step_at": row["last_step_at"].isoformat(),
                    "last_step": row["last_step"],
                }
                for row in result["sessions"]
            ],
        }
    )
