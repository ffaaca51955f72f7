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

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.drf import HasScope
from accounts.models import Scope
from sites.api import DomainRole, pirsch_site
from sites.permissions import principal_may, principal_sites
from stats import query as q
from stats.api import pirsch
from stats.api import pirsch_schema as doc
from stats.funnels import selectors as fs
from stats.funnels.services import funnel_create, funnel_delete, funnel_update
from stats.funnels.steps import StepError, glob_regex
from stats.models import Funnel
from stats.selectors import public_session_id, public_visitor_id

REPORT_FLAGS = frozenset({"funnel_id", "breakdown", "compare", "step"})
MAX_DROPPED = 100
FUNNEL_NOT_FOUND = "funnel not found"


class FunnelAPIView(pirsch.PirschReadView):
    """Parameter and definition errors are Pirsch's 400 naming the field; the site comes
    from the funnel or the request body, so only the scope is a permission class."""

    validation_errors = (pirsch.ParamError, q.QueryError, StepError)
    late_permission_classes = [HasScope]
    openapi_tag = "Funnels"
    error_statuses = {
        "*": (400, 401, 403, 404, 405, 429),
        **dict.fromkeys(("POST", "PUT", "PATCH"), (400, 401, 403, 404, 405, 413, 429)),
    }


def _funnel(principal, funnel_id: str | int, scope: str) -> Funnel:
    """The funnel if the principal may ``scope`` its site: another tenant's is not found,
    one the client may read but not change is forbidden."""
    text = str(funnel_id)
    if not text.isdigit() or len(text) > 18:
        raise exceptions.NotFound(FUNNEL_NOT_FOUND)
    funnel = (
        Funnel.objects.select_related("site")
        .filter(pk=int(text), site__in=principal_sites(principal))
        .first()
    )
    if funnel is None:
        raise exceptions.NotFound(FUNNEL_NOT_FOUND)
    if principal_may(principal, scope, funnel.site):
        return funnel
    if scope == Scope.READ_STATISTICS or not principal_may(
        principal, Scope.READ_STATISTICS, funnel.site
    ):
        raise exceptions.NotFound(FUNNEL_NOT_FOUND)
    raise exceptions.PermissionDenied("the client may not do this for this domain")


def _body(request: Request) -> dict:
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


class StatisticsFunnel(FunnelAPIView):
    """Pirsch's ``GET /api/v1/statistics/funnel``."""

    late_permission_classes = [HasScope, DomainRole]  # the domain: the query's id
    openapi_tag = "Pirsch statistics"

    def get(self, request) -> Response:
        funnel_id = request.GET.get("funnel_id", "")
        if not funnel_id:
            raise pirsch.ParamError("funnel_id", "funnel_id is required")
        funnel = (
            Funnel.objects.filter(site=self.site, pk=int(funnel_id)).first()
            if funnel_id.isdigit() and len(funnel_id) <= 18
            else None
        )
        if funnel is None:
            raise exceptions.NotFound(FUNNEL_NOT_FOUND)
        query = pirsch.stats_query_for(request, self.site, REPORT_FLAGS)
        return Response(
            {"definition": pirsch_definition(funnel), "data": fs.funnel_pirsch(funnel, query)}
        )


class Funnels(FunnelAPIView):
    """``GET /api/v1/funnels?id=<domain>`` lists; ``POST`` with ``{"id": <domain>, "name",
    "steps", "scope", "order", "window", "open"}`` creates (201)."""

    required_scopes = {"GET": Scope.READ_STATISTICS, "POST": Scope.MANAGE_SITE}

    @doc.funnel_list
    def get(self, request) -> Response:
        site = pirsch_site(request.auth, request.GET.get("id", ""), Scope.READ_STATISTICS)
        rows = Funnel.objects.filter(site=site).select_related("site").order_by("pk")
        return Response([fs.definition_json(f) for f in rows])

    @doc.funnel_create
    def post(self, request) -> Response:
        body = _body(request)
        domain = body.get("id")
        site = pirsch_site(
            request.auth, domain if isinstance(domain, str) else "", Scope.MANAGE_SITE
        )
        funnel = funnel_create(site, body)
        return Response(fs.definition_json(funnel), status=201)


class FunnelDetail(FunnelAPIView):
    """``GET``, ``PUT``/``PATCH`` (the fields to change) or ``DELETE`` one funnel."""

    required_scopes = {
        "GET": Scope.READ_STATISTICS,
        "PUT": Scope.MANAGE_SITE,
        "PATCH": Scope.MANAGE_SITE,
        "DELETE": Scope.MANAGE_SITE,
    }

    @doc.funnel_get
    def get(self, request, funnel_id: str) -> Response:
        return Response(fs.definition_json(_funnel(request.auth, funnel_id, Scope.READ_STATISTICS)))

    @doc.funnel_change("Put")
    def put(self, request, funnel_id: str) -> Response:
        return self._update(request, funnel_id)

    @doc.funnel_change("")
    def patch(self, request, funnel_id: str) -> Response:
        return self._update(request, funnel_id)

    def _update(self, request, funnel_id: str) -> Response:
        funnel = _funnel(request.auth, funnel_id, Scope.MANAGE_SITE)
        return Response(fs.definition_json(funnel_update(funnel, _body(request))))

    @doc.funnel_delete
    def delete(self, request, funnel_id: str) -> HttpResponse:
        funnel_delete(_funnel(request.auth, funnel_id, Scope.MANAGE_SITE))
        return HttpResponse(status=204)


class FunnelReport(FunnelAPIView):
    """Footfall's report: ``from``, ``to``, ``tz``, every filter, ``breakdown=<filter
    name>`` (e.g. ``country``), ``compare=previous``."""

    @doc.funnel_report
    def get(self, request, funnel_id: str) -> Response:
        funnel = _funnel(request.auth, funnel_id, Scope.READ_STATISTICS)
        query = pirsch.stats_query_for(request, funnel.site, REPORT_FLAGS)
        breakdown = request.GET.get("breakdown") or None
        if breakdown is not None and breakdown not in q.FILTER_FIELDS:
            raise pirsch.ParamError("breakdown", "breakdown must be a filter name such as country")
        compare = request.GET.get("compare", "")
        if compare not in ("", "previous", "true", "false"):
            raise pirsch.ParamError("compare", "compare must be previous")
        report = fs.funnel_report(
            funnel, query, breakdown=breakdown, compare=compare in ("previous", "true")
        )
        return Response(report)


class FunnelDropped(FunnelAPIView):
    """The sessions counted in step ``step``'s ``dropped`` (``step`` ≥ 2), newest first."""

    @doc.funnel_dropped
    def get(self, request, funnel_id: str) -> Response:
        funnel = _funnel(request.auth, funnel_id, Scope.READ_STATISTICS)
        query = pirsch.stats_query_for(request, funnel.site, REPORT_FLAGS)
        step = request.GET.get("step", "")
        steps = len(funnel.steps)
        if not step.isdigit() or not 2 <= int(step) <= steps:
            raise pirsch.ParamError("step", f"step must be a number from 2 to {steps}")
        limit_text = request.GET.get("limit", "") or str(MAX_DROPPED)
        if not limit_text.isdigit() or not 1 <= int(limit_text[:6]) <= MAX_DROPPED:
            raise pirsch.ParamError("limit", f"limit must be a number from 1 to {MAX_DROPPED}")
        result = fs.dropped_sessions(funnel, query, int(step), int(limit_text))
        return Response(
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


statistics_funnel = StatisticsFunnel.as_view()
funnels = Funnels.as_view()
funnel_detail = FunnelDetail.as_view()
funnel_report = FunnelReport.as_view()
funnel_dropped = FunnelDropped.as_view()
