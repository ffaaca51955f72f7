"""Plausible's Stats API: ``/api/v1/stats/*`` (v1) and ``POST /api/v2/query`` (v2).

Thin views: read the parameters (``query`` turns them into a ``StatsQuery``), ask the query
layer once per question, render Plausible's shapes. Every refusal is ``{"error": "..."}``.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from sites.permissions import Action
from stats.api.plausible import periods
from stats.api.plausible import query as pq
from stats.api.plausible.authentication import (
    INVALID_KEY_OR_SITE,
    MISSING_SITE_ID,
    HasScope,
    PlausibleKeyAuthentication,
    site_for_principal,
)
from stats.api.plausible.filters import FilterError, known_property, parse_v1, parse_v2
from stats.api.plausible.query import PlausibleError
from stats.api.plausible.throttling import PlausibleKeyThrottle, limit_message

MAX_BREAKDOWN_LIMIT = 1000
DEFAULT_BREAKDOWN_LIMIT = 100
V2_METRICS = (*pq.METRICS, *pq.REVENUE_METRICS)
V2_DEFAULT_LIMIT = 10_000
TIME_DIMENSIONS = {"time": None, "time:hour": "hour", "time:day": "day", "time:month": "month"}


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with too deeply nested JSON a 400 rather than a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON nested too deeply") from exc


class PlausibleView(APIView):
    """JSON only (never the browsable HTML API), Plausible's error body for every refusal."""

    authentication_classes = [PlausibleKeyAuthentication]
    permission_classes = [HasScope]
    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser, FormParser]
    throttle_classes = [PlausibleKeyThrottle]
    required_scope = "stats"
    # Not introspected by drf-spectacular: these views answer in Plausible's wire shapes,
    # not from serializers; openapi.yaml describes each operation exactly.
    schema = None

    def check_permissions(self, request):
        # Plausible counts a valid key against its limit before it checks the key's scope.
        APIView.check_throttles(self, request)
        super().check_permissions(request)

    def check_throttles(self, request):
        pass  # done first thing in check_permissions

    def throttled(self, request, wait):
        raise PlausibleError(limit_message(int(settings.PLAUSIBLE_API_RATE_LIMIT)), status=429)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A NUL character cannot reach PostgreSQL in a text value (it would be a 500).
        values = [*request.query_params.values(), *kwargs.values()]
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            values.append(request.data)
        if any(_has_nul(value) for value in values):
            raise PlausibleError("Parameters must not contain NUL characters.")

    def handle_exception(self, exc):
        if isinstance(exc, PlausibleError):
            response = Response({"error": exc.message}, status=exc.status)
            limit = getattr(self.request._request, "rate_limit", None)
            if exc.status == 429 and limit is not None:
                response["Retry-After"] = str(limit.retry_after())
            return response
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = Response({"error": str(exc.detail)}, status=401)
            response["WWW-Authenticate"] = "Bearer"
            return response
        if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            return Response({"error": f"Invalid request body: {exc.detail}"}, status=400)
        if isinstance(exc, exceptions.APIException):
            return Response({"error": str(exc.detail)}, status=exc.status_code)
        return super().handle_exception(exc)

    def stats_site(self, site_id):
        if site_id in (None, ""):
            raise PlausibleError(MISSING_SITE_ID)
        site = site_for_principal(self.request.auth, site_id, Action.VIEW_STATS)
        if site is None:
            raise PlausibleError(INVALID_KEY_OR_SITE, status=401)
        return site


def _has_nul(value, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def _v1_filters(params):
    try:
        return parse_v1(params.get("filters", "") or "")
    except FilterError as exc:
        raise PlausibleError(str(exc)) from exc


class RealtimeVisitors(PlausibleView):
    """``GET /api/v1/stats/realtime/visitors``: a bare number (the last five minutes)."""

    def get(self, request):
        site = self.stats_site(request.query_params.get("site_id"))
        return Response(pq.realtime_visitors(site.pk))


class Aggregate(PlausibleView):
    """``GET /api/v1/stats/aggregate``: ``{"results": {metric: {"value": …}}}``."""

    def get(self, request):
        params = request.query_params
        site = self.stats_site(params.get("site_id"))
        first, last, _period = periods.v1_days(params, site.timezone)
        query, properties, goals = pq.stats_query(site, first, last, _v1_filters(params))
        metrics = pq.parse_metrics(params.get("metrics", "visitors"))
        question = pq.Request(query, metrics, properties, goals=goals)
        pq.check_metrics(question)
        question, _included, skip = pq.with_imports(question, _with_imported(params))
        compare = params.get("compare")
        if compare not in (None, "", "previous_period"):
            raise PlausibleError(
                f"Error parsing `compare` parameter: invalid value `{compare}`. "
                "Footfall supports `previous_period`."
            )
        values = pq.aggregate(question)
        results = {metric: {"value": value} for metric, value in values.items()}
        if compare == "previous_period":
            before = pq.aggregate(pq.previous(question))
            for metric in metrics:
                results[metric]["change"] = pq.percent_change(
                    metric, values[metric], before[metric]
                )
        return Response(_warned({"results": results}, skip))


class Timeseries(PlausibleView):
    """``GET /api/v1/stats/timeseries``: ``{"results": [{"date": …, metric: …}]}``."""

    def get(self, request):
        params = request.query_params
        site = self.stats_site(params.get("site_id"))
        first, last, period = periods.v1_days(params, site.timezone)
        interval = params.get("interval") or None
        if interval == "date":
            interval = "day"
        if interval is not None and interval not in ("day", "month"):
            raise PlausibleError(
                f"Error parsing `interval` parameter: invalid interval `{interval}`. "
                "Valid intervals are `day`, `month`"
            )
        if interval is None:
            interval = {"day": "hour", "6mo": "month", "12mo": "month"}.get(period, "day")
        query, properties, goals = pq.stats_query(site, first, last, _v1_filters(params))
        metrics = pq.parse_metrics(params.get("metrics", "visitors"))
        question = pq.Request(query, metrics, properties, f"time:{interval}", goals)
        pq.check_metrics(question)
        question, _included, skip = pq.with_imports(question, _with_imported(params))
        results = []
        for label, values in pq.series(question, interval):
            if interval == "hour":
                stamp = f"{first.isoformat()} {label:02d}:00:00"
            else:
                stamp = label.isoformat()
            results.append({"date": stamp, **values})
        return Response(_warned({"results": results}, skip))


class Breakdown(PlausibleView):
    """``GET /api/v1/stats/breakdown``: ``{"results": [{<property>: value, metric: …}]}``."""

    def get(self, request):
        params = request.query_params
        site = self.stats_site(params.get("site_id"))
        first, last, _period = periods.v1_days(params, site.timezone)
        prop = params.get("property")
        if not prop:
            raise PlausibleError(
                "The `property` parameter is required. Please provide at least one property "
                "to show a breakdown by."
            )
        if prop == "event:hostname":
            raise PlausibleError(
                "Property 'event:hostname' is currently not supported for breakdowns.  Please "
                "provide a valid property for the breakdown endpoint: "
                "https://plausible.io/docs/stats-api#properties"
            )
        if not known_property(prop):
            raise PlausibleError(
                f"Invalid property '{prop}'. Please provide a valid property for the breakdown "
                "endpoint: https://plausible.io/docs/stats-api#properties"
            )
        query, properties, goals = pq.stats_query(site, first, last, _v1_filters(params))
        metrics = pq.parse_metrics(params.get("metrics", "visitors"))
        question = pq.Request(query, metrics, properties, prop, goals)
        pq.check_metrics(question)
        question, _included, skip = pq.with_imports(question, _with_imported(params))
        limit = _positive(params.get("limit"), DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT)
        page = _positive(params.get("page"), 1, None)
        key = _result_key(prop)
        if question.grouped:  # one visit property: its value is the label's only part
            rows = [(label[0], values) for label, values in pq.grouped_rows(question, None)]
        else:
            rows = pq.breakdown_rows(question)
        window = rows[(page - 1) * limit : page * limit]
        results = [{key: value, **values} for value, values in window]
        return Response(_warned({"results": results}, skip))


def _with_imported(params) -> bool:
    """v1's ``with_imported`` (Plausible: imported data only when ``true``)."""
    return params.get("with_imported") == "true"


def _warned(payload: dict, skip: str | None) -> dict:
    """v1's ``warning`` when imported data was asked for and cannot answer the question."""
    if skip == "unsupported_query":
        payload["warning"] = pq.IMPORTS_WARNING
    return payload


def _result_key(prop: str) -> str:
    """Plausible's v1 key of a breakdown row: the property's short name (``goal``, the
    property's own name for ``event:props:<name>``)."""
    if prop in pq.BREAKDOWNS:
        return pq.BREAKDOWNS[prop][2]
    if prop == "event:goal":
        return "goal"
    return prop.rsplit(":", 1)[1]


def _positive(raw, default: int, maximum: int | None) -> int:
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if maximum is not None and not 0 < number <= maximum:
        raise PlausibleError(f"Please provide limit as a number between 1 and {maximum}.")
    if number <= 0:
        raise PlausibleError("Please provide page as a positive number.")
    return number


# --- v2 ---------------------------------------------------------------------------------


class Query(PlausibleView):
    """``POST /api/v2/query``: ``{"results": [{"metrics": […], "dimensions": […]}], "meta",
    "query"}``."""

    parser_classes = [SafeJSONParser]

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise PlausibleError("#: Invalid request body: expected a JSON object.")
        site = self.stats_site(body.get("site_id"))
        metrics = _v2_metrics(body.get("metrics"))
        if "date_range" not in body:
            raise PlausibleError("#/date_range: Required property date_range was not present.")
        first, last, _range = periods.v2_days(
            body["date_range"], site.timezone, body.get("date"), site.pk
        )
        dimensions = body.get("dimensions", [])
        dimension, interval = _v2_dimensions(dimensions, first, last)
        try:
            tree = parse_v2(body.get("filters", []))
        except FilterError as exc:
            raise PlausibleError(str(exc)) from exc
        query, properties, goals = pq.stats_query(site, first, last, tree, v2=True)
        question = pq.Request(
            query,
            metrics,
            properties,
            dimension=f"time:{interval}" if interval and dimension else dimension,
            goals=goals,
            v2=True,
            dimensions=tuple(dimensions) if len(dimensions) > 1 else (),
        )
        pq.check_metrics(question)
        include = _include(body.get("include", {}))
        if include["time_labels"] and not interval:
            raise PlausibleError("Invalid include.time_labels: requires a time dimension.")
        question, included, skip = pq.with_imports(question, include["imports"])
        order_by = _order_by(body.get("order_by"), metrics, dimensions)
        limit, offset = _pagination(body.get("pagination"))

        meta: dict = {}
        if include["time_labels"]:
            meta["time_labels"] = [
                _time_label(first, label, interval) for label in pq.buckets(query, interval)
            ]
        labelled, warnings = pq.with_revenue(question, _v2_rows(question, interval), interval)
        if warnings:
            meta["metric_warnings"] = warnings
        rows = [
            {
                "metrics": [values[m] for m in metrics],
                "dimensions": [
                    _time_label(first, value, interval) if d.startswith("time") else value
                    for d, value in zip(dimensions, label, strict=True)
                ],
            }
            for label, values in labelled
        ]
        rows = _sorted(rows, order_by, metrics, dimensions)
        total = len(rows)
        rows = rows[offset : offset + limit]
        if include["imports"]:
            _imports_meta(meta, included, skip)
        if include["total_rows"]:
            meta["total_rows"] = total
        echo = {
            "site_id": body["site_id"],
            "metrics": metrics,
            "date_range": [query.start.isoformat(), _last_second(query)],
            "filters": body.get("filters", []),
            "dimensions": dimensions,
            "order_by": [list(o) for o in order_by],
            "include": include,
            "pagination": {"limit": limit, "offset": offset},
        }
        return Response({"results": rows, "meta": meta, "query": echo})


def _v2_metrics(metrics) -> list[str]:
    """The query's metrics: a non-empty list of distinct known names."""
    if not isinstance(metrics, list) or not metrics:
        raise PlausibleError("#/metrics: Expected a non-empty list of metrics.")
    for index, metric in enumerate(metrics):
        if metric not in V2_METRICS:
            raise PlausibleError(f'#/metrics/{index}: Invalid metric "{metric}"')
    if len(set(metrics)) != len(metrics):
        raise PlausibleError("Metrics cannot be queried multiple times.")
    return metrics


def _v2_dimensions(dimensions, first: date, last: date) -> tuple[str | None, str | None]:
    """The query's one dimension (None without, or with several: ``Request.dimensions``)
    and, with a time dimension, its interval."""
    if not isinstance(dimensions, list) or not all(isinstance(d, str) for d in dimensions):
        raise PlausibleError("#/dimensions: Expected a list of dimensions.")
    if len(set(dimensions)) != len(dimensions):
        raise PlausibleError("Some dimensions are listed more than once.")
    interval = None
    for index, dimension in enumerate(dimensions):
        if dimension in TIME_DIMENSIONS:
            interval = TIME_DIMENSIONS[dimension] or (
                "hour" if first == last else "month" if (last - first).days > 180 else "day"
            )
            if interval == "hour" and first != last:
                raise PlausibleError(
                    "Footfall answers `time:hour` for a single day's date_range only."
                )
        elif dimension.startswith("time") or not known_property(dimension):
            raise PlausibleError(f'#/dimensions/{index}: Invalid dimension "{dimension}"')
    return (dimensions[0] if len(dimensions) == 1 else None), interval


def _v2_rows(question: pq.Request, interval: str | None) -> list[tuple[tuple, dict]]:
    """(the row's dimension values, {metric: value}) of the question without its revenue
    metrics (``pq.with_revenue`` adds them); a time dimension's value is its bucket."""
    base = pq.without_revenue(question)
    if question.grouped:
        return pq.grouped_rows(base, interval)
    if not question.all_dimensions:
        return [((), pq.aggregate(base))]
    if interval:  # one row per bucket with data (Plausible lists only those)
        return [
            ((label,), values)
            for label, values in pq.series(base, interval)
            if any(values.values())
        ]
    return [((value,), values) for value, values in pq.breakdown_rows(base)]


def _imports_meta(meta: dict, included: bool, skip: str | None) -> None:
    """Complete Plausible CSV imports (issue #16), where they answer exactly; events
    imported with ``manage.py import events`` are ordinary events, always counted."""
    meta["imports_included"] = included
    if skip is not None:
        meta["imports_skip_reason"] = skip
    if skip == "unsupported_query":
        meta["imports_warning"] = pq.IMPORTS_WARNING


def _last_second(query) -> str:
    return (query.end - timedelta(seconds=1)).isoformat()


def _time_label(first: date, label, interval: str) -> str:
    if interval == "hour":
        return f"{first.isoformat()} {label:02d}:00:00"
    return label.isoformat()


def _include(raw) -> dict:
    if not isinstance(raw, dict):
        raise PlausibleError("#/include: Expected an object.")
    include = {"imports": False, "time_labels": False, "total_rows": False}
    for key, value in raw.items():
        if key not in include:
            raise PlausibleError(f"#/include: Schema does not allow additional properties: {key}")
        if not isinstance(value, bool):
            raise PlausibleError(f"#/include/{key}: Type mismatch. Expected Boolean.")
        include[key] = value
    return include


def _order_by(raw, metrics: list[str], dimensions: list[str]) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PlausibleError("#/order_by: Expected a list.")
    out = []
    for index, item in enumerate(raw):
        if (
            not isinstance(item, list)
            or len(item) != 2
            or item[1] not in ("asc", "desc")
            or not isinstance(item[0], str)
        ):
            raise PlausibleError(f"#/order_by/{index}: Invalid value in order_by")
        if item[0] not in metrics and item[0] not in dimensions:
            raise PlausibleError(
                f"Invalid order_by entry '{item[0]}'. Entry is not a queried metric or dimension."
            )
        out.append((item[0], item[1]))
    return out


def _sorted(rows: list[dict], order_by, metrics, dimensions) -> list[dict]:
    """Stable sorts, last key first; with a time dimension, time ascending by default (the
    rows come ordered by their first metric within it)."""
    times = [d for d in dimensions if d.startswith("time")]
    if not order_by and times:
        order_by = [(times[0], "asc")]
    elif not order_by and dimensions and metrics[0] in pq.REVENUE_METRICS:
        order_by = [(metrics[0], "desc")]  # the first metric, as for the others
    for name, direction in reversed(order_by):
        if name in metrics:
            index = metrics.index(name)
            rows.sort(key=lambda r: _metric_key(r["metrics"][index]), reverse=direction == "desc")
        else:
            index = dimensions.index(name)
            rows.sort(key=lambda r: str(r["dimensions"][index]), reverse=direction == "desc")
    return rows


def _metric_key(value) -> float:
    """A metric's sort key: revenue by its amount, a missing value below every number."""
    if isinstance(value, dict):
        value = value.get("value")
    return float("-inf") if value is None else value


def _pagination(raw) -> tuple[int, int]:
    if raw is None:
        return V2_DEFAULT_LIMIT, 0
    if not isinstance(raw, dict):
        raise PlausibleError("#/pagination: Expected an object.")
    limit = raw.get("limit", V2_DEFAULT_LIMIT)
    offset = raw.get("offset", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= V2_DEFAULT_LIMIT:
        raise PlausibleError(
            f"#/pagination/limit: Expected a number between 1 and {V2_DEFAULT_LIMIT}."
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise PlausibleError("#/pagination/offset: Expected a non-negative number.")
    return limit, offset
