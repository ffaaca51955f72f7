"""Pirsch's statistics API (``GET /api/v1/statistics/…``): parse, query, answer.

Every endpoint takes ``id`` (the domain id), ``from`` and ``to`` (``YYYY-MM-DD`` or a full
ISO timestamp), ``tz``, ``scale``, ``limit`` (≤ 100), ``offset``, ``search``, ``sort``,
``direction`` and the filters of ``stats.query``. Errors use Pirsch's shape.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api.auth import pirsch_principal
from accounts.authentication import principal_may, principal_sites
from accounts.models import Scope
from analytics_project.api_errors import pirsch_error
from stats import query as q

SCALES = ("day", "week", "month", "year")
MAX_LIMIT = 100
MAX_ACTIVE_SECONDS = 3600
RESERVED = {
    "id",
    "from",
    "to",
    "tz",
    "scale",
    "limit",
    "offset",
    "sort",
    "direction",
    "search",
    "start",
    "include_avg_time_on_page",
    "include_title",
    "include_cr",
}


class ParamError(Exception):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field, self.message = field_name, message


def _day(value: str, name: str) -> date:
    if not value:
        raise ParamError(name, f"{name} is required")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise ParamError(name, f"{name} must be a date (YYYY-MM-DD) or an ISO timestamp") from exc


def _int(request: HttpRequest, name: str, default: int, maximum: int | None = None) -> int:
    value = request.GET.get(name, "")
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ParamError(name, f"{name} must be a number") from exc
    if number < 0 or (maximum is not None and number > maximum):
        raise ParamError(name, f"{name} must be between 0 and {maximum}")
    return number


def statistics_endpoint(view):
    """Authenticate (OAuth with ``statistics:read``), parse the common parameters, answer JSON."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest):
        if request.method != "GET":
            return pirsch_error(405, error=["method not allowed"])
        principal = pirsch_principal(request, Scope.READ_STATISTICS)
        if isinstance(principal, JsonResponse):
            return principal
        try:
            site_id = request.GET.get("id", "")
            if not site_id:
                raise ParamError("id", "id is required")
            site = principal_sites(principal).filter(public_id=site_id).first()
            if site is None or not principal_may(principal, Scope.READ_STATISTICS, site):
                return pirsch_error(404, error=["domain not found"])
            tz = request.GET.get("tz") or site.timezone
            if tz not in zoneinfo.available_timezones():
                raise ParamError("tz", "tz must be an IANA time zone name")
            first, last = (
                _day(request.GET.get("from", ""), "from"),
                _day(request.GET.get("to", ""), "to"),
            )
            if last < first:
                raise ParamError("to", "to must not be before from")
            if (last - first).days > 3660:
                raise ParamError("from", "the range must be at most ten years")
            scale = request.GET.get("scale") or "day"
            if scale not in SCALES:
                raise ParamError("scale", "scale must be day, week, month or year")
            params = {k: request.GET.getlist(k) for k in request.GET if k not in RESERVED}
            stats_query = q.StatsQuery(site.pk, first, last, tz, q.validate_filters(params))
            page = {
                "limit": _int(request, "limit", MAX_LIMIT, MAX_LIMIT) or MAX_LIMIT,
                "offset": _int(request, "offset", 0),
                "search": request.GET.get("search", ""),
                "direction": request.GET.get("direction", "desc"),
                "sort": request.GET.get("sort", ""),
            }
            if page["direction"] not in ("asc", "desc"):
                raise ParamError("direction", "direction must be asc or desc")
            body = view(request, stats_query, scale=scale, page=page)
        except ParamError as error:
            return pirsch_error(400, validation={error.field: error.message})
        except q.QueryError as error:
            return pirsch_error(400, validation={error.field: error.message})
        return JsonResponse(body, safe=False)

    return wrapper


def _page(rows: list[dict], page: dict, key: str) -> list[dict]:
    if page["search"]:
        rows = [r for r in rows if page["search"].lower() in str(r.get(key, "")).lower()]
    if page["sort"] and rows and page["sort"] in rows[0]:
        rows = sorted(
            rows,
            key=lambda r: (r[page["sort"]] is None, r[page["sort"]]),
            reverse=page["direction"] == "desc",
        )
    elif page["direction"] == "asc":
        rows = list(reversed(rows))
    return rows[page["offset"] : page["offset"] + page["limit"]]


@statistics_endpoint
def visitor(request, stats_query, *, scale, page):
    return q.visitor_series(stats_query, scale)


@statistics_endpoint
def total(request, stats_query, *, scale, page):
    return q.totals(stats_query)


@statistics_endpoint
def growth(request, stats_query, *, scale, page):
    return q.growth(stats_query)


@statistics_endpoint
def hours(request, stats_query, *, scale, page):
    return q.hours(stats_query)


@csrf_exempt
def active(request):
    """Visitors active in the last ``start`` seconds (at most 3600) and their pages."""

    @statistics_endpoint
    def inner(request, stats_query, *, scale, page):
        seconds = _int(request, "start", 600, MAX_ACTIVE_SECONDS) or 600
        return q.active_visitors(stats_query.site_id, seconds)

    if not request.GET.get("from"):
        # ``active`` needs no range: default it to today so the common checks pass.
        request.GET = request.GET.copy()
        today = date.today().isoformat()
        request.GET.update({"from": today, "to": today})
    return inner(request)


def dimension(name: str, rename: dict[str, str] | None = None):
    """A breakdown endpoint over one of ``stats.query.DIMENSIONS`` (fields renamed to Pirsch's)."""
    rename = rename or {}
    search_field = q.DIMENSIONS[name][0][-1]

    @statistics_endpoint
    def view(request, stats_query, *, scale, page):
        rows = q.breakdown(stats_query, name)
        renamed = [{rename.get(k, k): v for k, v in row.items()} for row in rows]
        return _page(renamed, page, rename.get(search_field, search_field))

    return view


page = dimension("page")
entry_page = dimension("entry", {"entry_path": "path"})
referrer = dimension("referrer", {"source": "referrer_name"})
channel = dimension("channel")
utm_source = dimension("utm_source")
utm_medium = dimension("utm_medium")
utm_campaign = dimension("utm_campaign")
utm_content = dimension("utm_content")
utm_term = dimension("utm_term")
country = dimension("country")
region = dimension("region")
city = dimension("city")
browser = dimension("browser")
browser_version = dimension("browser_version")
os = dimension("os")
os_version = dimension("os_version")
screen = dimension("screen")
language = dimension("language")
events = dimension("event")


@statistics_endpoint
def platform(request, stats_query, *, scale, page):
    rows = {r["device_type"]: r["visitors"] for r in q.breakdown(stats_query, "platform")}
    desktop, mobile = rows.get("desktop", 0), rows.get("mobile", 0) + rows.get("tablet", 0)
    unknown = sum(v for k, v in rows.items() if k not in ("desktop", "mobile", "tablet"))
    total_visitors = desktop + mobile + unknown or 1
    return {
        "platform_desktop": desktop,
        "platform_mobile": mobile,
        "platform_unknown": unknown,
        "relative_platform_desktop": round(desktop / total_visitors, 4),
        "relative_platform_mobile": round(mobile / total_visitors, 4),
        "relative_platform_unknown": round(unknown / total_visitors, 4),
    }


@statistics_endpoint
def exit_page(request, stats_query, *, scale, page):
    return _page(q.exit_pages(stats_query), page, "path")


@statistics_endpoint
def duration_session(request, stats_query, *, scale, page):
    return q.duration_series(stats_query, scale, per_page=False)


@statistics_endpoint
def duration_page(request, stats_query, *, scale, page):
    return q.duration_series(stats_query, scale, per_page=True)


def _required(request, name: str) -> str:
    value = request.GET.get(name, "")
    if not value:
        raise ParamError(name, f"{name} is required")
    return value


@statistics_endpoint
def event_meta(request, stats_query, *, scale, page):
    filters = dict(stats_query.filters)
    name = (filters.pop("event", None) or [_required(request, "event")])[0]
    key = (filters.pop("event_meta_key", None) or [_required(request, "event_meta_key")])[0]
    stats_query.filters = filters
    return _page(q.event_meta(stats_query, name, key), page, "meta_value")


@statistics_endpoint
def event_list(request, stats_query, *, scale, page):
    return _page(q.event_list(stats_query), page, "name")


@statistics_endpoint
def event_page(request, stats_query, *, scale, page):
    filters = dict(stats_query.filters)
    name = (filters.pop("event", None) or [_required(request, "event")])[0]
    stats_query.filters = filters
    return _page(q.event_pages(stats_query, name), page, "path")


@statistics_endpoint
def tag_keys(request, stats_query, *, scale, page):
    return _page(q.tags(stats_query), page, "key")


@statistics_endpoint
def tag_details(request, stats_query, *, scale, page):
    return _page(q.tags(stats_query, _required(request, "key")), page, "value")


@statistics_endpoint
def session_list(request, stats_query, *, scale, page):
    from stats.selectors import public_session_id, public_visitor_id

    sessions = [
        {
            "visitor_id": public_visitor_id(s["visitor_id"]),
            "session_id": public_session_id(s["session_id"]),
            "time": s["end"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "start": s["start"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "duration_seconds": s["duration_ms"] // 1000,
            "entry_path": s["entry_path"],
            "exit_path": s["exit_path"],
            "page_views": s["page_views"],
            "is_bounce": s["is_bounce"],
        }
        for s in q.session_summaries(stats_query, limit=page["limit"], offset=page["offset"])
    ]
    return sessions


@statistics_endpoint
def goals(request, stats_query, *, scale, page):
    return q.goals(stats_query)
