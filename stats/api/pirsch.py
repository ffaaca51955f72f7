"""Pirsch's statistics API (``/api/v1/statistics…``): parse, query, answer in Pirsch's shape.

Every endpoint takes ``id`` (the domain id), ``from`` and ``to`` (``YYYY-MM-DD`` or a full
ISO timestamp; at most ten years, ``stats.ranges``), ``tz``, ``scale``, ``limit`` (capped at
100, as Pirsch does), ``offset``, ``search``, ``sort``, ``direction`` and the filters of
``stats.query``. Errors use Pirsch's shape and name the parameter. The numbers come from
``stats.query`` and ``stats.pirsch_selectors``; this module only names and shapes them.

``/api/v1/statistics`` itself (the CSV export and deletion) is ``stats.api.pirsch_export``.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from rest_framework.response import Response

from accounts.api.auth import PirschAPIView
from accounts.api.drf import HasScope
from accounts.models import Scope
from sites.api import DomainRole
from stats import pirsch_selectors as ps
from stats import query as q
from stats import ranges, revenue, selectors
from stats.api import pirsch_serializers as serializers
from stats.dimensions import pirsch_fields
from stats.query.sources import imported

SCALES = ("day", "week", "month", "year")
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_ACTIVE_SECONDS = 3600
OVERVIEW_DAYS = 30
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
    "visitor_id",
    "session_id",
    "tag",
    "access",
    "from_time",
    "to_time",
}
# Fields holding lists or objects: there is no order to sort them by.
UNSORTABLE = {"meta", "meta_keys", "page_goal", "stats", "countries", "tag_keys", "tag_values"}
TRUE = ("true", "1")


class ParamError(Exception):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field, self.message = field_name, message


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


def _limit(request: HttpRequest) -> int:
    """``limit``: Pirsch hard-limits it to 100, so a larger one is lowered, not refused."""
    value = request.GET.get("limit", "")
    if value == "":
        return MAX_LIMIT
    if not value.isdigit():
        raise ParamError("limit", "limit must be a number between 1 and 100")
    return min(int(value[:7]) if len(value) <= 7 else MAX_LIMIT, MAX_LIMIT) or MAX_LIMIT


def stats_query_for(request: HttpRequest, site, flags: frozenset = frozenset()) -> q.StatsQuery:
    """The range, time zone and filters of a statistics request (``flags``: parameters
    that are not filters although named like some, e.g. the export's ``country=true``)."""
    tz = request.GET.get("tz") or site.timezone
    if tz not in zoneinfo.available_timezones():
        raise ParamError("tz", "tz must be an IANA time zone name")
    try:
        first = ranges.parse_day(request.GET.get("from", ""), "from", timestamps=True)
        last = ranges.parse_day(request.GET.get("to", ""), "to", timestamps=True)
        ranges.check_range(first, last)
    except ranges.RangeError as error:
        raise ParamError(error.field, error.message) from error
    params = {k: request.GET.getlist(k) for k in request.GET if k not in RESERVED | flags}
    return q.StatsQuery(site.pk, first, last, tz, q.validate_filters(params))


def _page_params(request: HttpRequest) -> dict:
    page = {
        "limit": _limit(request),
        "offset": _int(request, "offset", 0, MAX_OFFSET),
        "search": request.GET.get("search", ""),
        "direction": request.GET.get("direction", "desc"),
        "sort": request.GET.get("sort", ""),
    }
    if page["direction"] not in ("asc", "desc"):
        raise ParamError("direction", "direction must be asc or desc")
    if page["sort"] in UNSORTABLE:
        raise ParamError("sort", f"results cannot be sorted by {page['sort']}")
    return page


def _defaults(request, days: int, tz: str) -> None:
    """Endpoints that need no range (``active``, ``overview``): the last ``days`` days of
    the site's (or ``tz``'s) calendar."""
    if request.GET.get("from") or request.GET.get("to"):
        return
    params = request.GET.copy()
    zone = params.get("tz") or tz
    if zone not in zoneinfo.available_timezones():
        return  # refused with the other parameters
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    params.update({"from": (today - timedelta(days=days - 1)).isoformat()})
    params.update({"to": today.isoformat()})
    request._request.GET = params  # what every reader of the parameters sees


class PirschReadView(PirschAPIView):
    """A Pirsch reading endpoint on the domain ``id`` names (``statistics:read``); the
    parameter parsers' errors are 400s naming the parameter."""

    required_scope = Scope.READ_STATISTICS
    late_permission_classes = [HasScope, DomainRole]
    validation_errors: tuple[type[Exception], ...] = (ParamError, q.QueryError)


class StatisticsView(PirschReadView):
    """``GET /api/v1/statistics/<endpoint>``: the common parameters parsed, ``answer``
    asked, its rows answered as JSON. With ``default_days`` the range is optional."""

    answer: Callable
    default_days: int | None = None
    breakdown: str | None = None  # whether imported data answers it

    def get(self, request) -> Response:
        if self.default_days:
            _defaults(request, self.default_days, self.site.timezone)
        stats_query = stats_query_for(request, self.site)
        scale = request.GET.get("scale") or "day"
        if scale not in SCALES:
            raise ParamError("scale", "scale must be day, week, month or year")
        body = type(self).answer(request, stats_query, scale=scale, page=_page_params(request))
        skipped = imported.skipped(stats_query, self.breakdown)
        if skipped and isinstance(body, dict):
            # Pirsch's objects gain Footfall's note; its lists keep their shape (header only).
            body = {**body, "meta": {"imports_skipped": skipped}}
        response = Response(body)
        if skipped:
            response["X-Footfall-Imports-Skipped"] = skipped
        return response


def statistics_endpoint(view=None, *, days: int | None = None):
    """A ``StatisticsView`` answering with ``view(request, stats_query, *, scale, page)``.
    With ``days`` the range is optional (the last ``days`` days)."""
    if view is None:
        return functools.partial(statistics_endpoint, days=days)
    name = "".join(part.title() for part in view.__name__.split("_")) + "Statistics"
    cls = type(
        name,
        (StatisticsView,),
        {
            "answer": staticmethod(view),
            "default_days": days,
            "breakdown": getattr(view, "breakdown", None),
            "__doc__": view.__doc__,
            "__module__": __name__,
        },
    )
    return cls.as_view()


def imported_breakdown(name: str):
    """Mark an answer with the breakdown imported data would have to answer it by. A
    name the imported tables have none of (hours, sessions, tags…) turns imported days
    of the range into a note (``X-Footfall-Imports-Skipped``, ``meta.imports_skipped``),
    never a silent gap."""

    def mark(view):
        view.breakdown = name
        return view

    return mark


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


def flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in TRUE


@statistics_endpoint
def visitor(request, stats_query, *, scale, page):
    return q.visitor_series(stats_query, scale)


@statistics_endpoint
def total(request, stats_query, *, scale, page):
    """Pirsch's totals, with Footfall's ``revenue``, ``average_revenue`` and
    ``revenue_currency`` (docs/revenue.md)."""
    money = revenue.revenue_total(stats_query)
    return {**q.totals(stats_query), **money.fields(), "revenue_currency": money.currency}


@statistics_endpoint
def growth(request, stats_query, *, scale, page):
    return q.growth(stats_query)


@statistics_endpoint
@imported_breakdown("hour")
def hours(request, stats_query, *, scale, page):
    bounces = ps.hour_bounces(stats_query)
    return [
        serializers.with_rates({**row, "bounces": bounces[row["hour"]]})
        for row in q.hours(stats_query)
    ]


@statistics_endpoint
@imported_breakdown("minute")
def minutes(request, stats_query, *, scale, page):
    return [serializers.with_rates(row) for row in ps.minutes(stats_query)]


@statistics_endpoint
@imported_breakdown("weekday")
def weekdays(request, stats_query, *, scale, page):
    return ps.weekday_hours(stats_query)


@statistics_endpoint
@imported_breakdown("hostname")
def hostname(request, stats_query, *, scale, page):
    return _page(ps.hostnames(stats_query), page, "hostname")


@statistics_endpoint(days=1)
def active(request, stats_query, *, scale, page):
    """Visitors active in the last ``start`` seconds (at most 3600), their pages, countries."""
    seconds = _int(request, "start", 600, MAX_ACTIVE_SECONDS) or 600
    body = q.active_visitors(stats_query.site_id, seconds)
    body["countries"] = ps.active_countries(stats_query.site_id, seconds)
    return body


@statistics_endpoint(days=OVERVIEW_DAYS)
def overview(request, stats_query, *, scale, page):
    """Visitors and views of the range (the last 30 days by default), their growth, the
    series per day and the number of members."""
    figures = ps.overview(stats_query)
    return serializers.overview_json(figures, ps.site_members(stats_query.site_id))


def dimension(name: str, rename: dict[str, str] | None = None):
    """A breakdown endpoint over one of ``stats.query.DIMENSIONS`` (fields renamed to Pirsch's,
    as the dimension catalogue names them)."""
    rename = rename or pirsch_fields(name)
    search_field = q.DIMENSIONS[name][0][-1]

    def view(request, stats_query, *, scale, page):
        rows = revenue.with_revenue(q.breakdown(stats_query, name), stats_query, name)
        return _page(
            serializers.renamed(rows, rename), page, rename.get(search_field, search_field)
        )

    view.breakdown = name  # type: ignore[attr-defined]  # whether imported data answers it
    view.__name__ = name
    return statistics_endpoint(view)


@statistics_endpoint
def page(request, stats_query, *, scale, page):
    """Pages with hostname, title, bounces and (``include_avg_time_on_page``) time on page."""
    rows = _page(q.breakdown(stats_query, "page"), page, "path")
    revenue.with_revenue(rows, stats_query, "page")
    details = ps.page_details(
        stats_query,
        [row["path"] for row in rows],
        time_on_page=flag(request, "include_avg_time_on_page"),
    )
    return [serializers.page_json(row, details[row["path"]]) for row in rows]


entry_page = dimension("entry")
referrer = dimension("referrer")
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


def event_rows(stats_query) -> list[dict]:
    details = ps.event_details(stats_query)
    all_visitors = q._visitors_total(stats_query)
    rows = []
    for row in revenue.with_revenue(q.breakdown(stats_query, "event"), stats_query, "event"):
        extra = details.get(row["name"], {"count": 0, "average_duration_seconds": 0})
        rows.append(
            {
                "name": row["name"],
                "count": extra["count"],
                "visitors": row["visitors"],
                "views": extra["count"],
                "cr": ps.rate(row["visitors"], all_visitors),
                "average_duration_seconds": extra["average_duration_seconds"],
                "meta_keys": extra.get("meta_keys", []),
                "revenue": row["revenue"],
                "average_revenue": row["average_revenue"],
            }
        )
    return rows


@statistics_endpoint
@imported_breakdown("event")
def events(request, stats_query, *, scale, page):
    return _page(event_rows(stats_query), page, "name")


@statistics_endpoint
@imported_breakdown("platform")
def platform(request, stats_query, *, scale, page):
    return platform_shares(stats_query)


def platform_shares(stats_query) -> dict:
    """Pirsch's ``PlatformStats``. Shares are of the period's visitors, as Pirsch's are (its
    three counts add up to its unique visitors): a visitor seen on desktop and on mobile
    counts in both, so the shares may sum to more than 1 (docs/protocols.md)."""
    rows = {r["device_type"]: r["visitors"] for r in q.breakdown(stats_query, "platform")}
    desktop, mobile = rows.get("desktop", 0), rows.get("mobile", 0) + rows.get("tablet", 0)
    unknown = sum(v for k, v in rows.items() if k not in ("desktop", "mobile", "tablet"))
    total_visitors = q.period_visitors(stats_query, "platform") or 1
    return {
        "platform_desktop": desktop,
        "platform_mobile": mobile,
        "platform_unknown": unknown,
        "relative_platform_desktop": round(desktop / total_visitors, 4),
        "relative_platform_mobile": round(mobile / total_visitors, 4),
        "relative_platform_unknown": round(unknown / total_visitors, 4),
    }


@statistics_endpoint
@imported_breakdown("exit")
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
@imported_breakdown("event_meta_key")
def event_meta(request, stats_query, *, scale, page):
    filters = dict(stats_query.filters)
    name = (filters.pop("event", None) or [_required(request, "event")])[0]
    key = (filters.pop("event_meta_key", None) or [_required(request, "event_meta_key")])[0]
    stats_query.filters = filters
    return _page(q.event_meta(stats_query, name, key), page, "meta_value")


@statistics_endpoint
@imported_breakdown("event_meta_key")
def event_list(request, stats_query, *, scale, page):
    return _page(q.event_list(stats_query), page, "name")


@statistics_endpoint
@imported_breakdown("event_page")
def event_page(request, stats_query, *, scale, page):
    filters = dict(stats_query.filters)
    name = (filters.pop("event", None) or [_required(request, "event")])[0]
    stats_query.filters = filters
    return _page(q.event_pages(stats_query, name), page, "path")


@statistics_endpoint
@imported_breakdown("tag")
def tag_keys(request, stats_query, *, scale, page):
    return _page(q.tags(stats_query), page, "key")


@statistics_endpoint
@imported_breakdown("tag")
def tag_details(request, stats_query, *, scale, page):
    return _page(q.tags(stats_query, _required(request, "key")), page, "value")


@statistics_endpoint
@imported_breakdown("session")
def session_list(request, stats_query, *, scale, page):
    summaries = q.session_summaries(stats_query, limit=page["limit"], offset=page["offset"])
    return [serializers.session_json(s) for s in summaries]


@statistics_endpoint
@imported_breakdown("session")
def session_details(request, stats_query, *, scale, page):
    """One session's page views and events in order (``visitor_id`` and ``session_id`` as
    ``session/list`` gives them)."""
    public_visitor, public_session = (
        _required(request, "visitor_id"),
        _required(request, "session_id"),
    )
    visitor_id = selectors.visitor_id_from_public(public_visitor)
    session_id = selectors.session_id_from_public(public_session)
    if visitor_id is None:
        raise ParamError("visitor_id", "visitor_id must be an id from session/list (v_…)")
    if session_id is None:
        raise ParamError("session_id", "session_id must be an id from session/list (ses_…)")
    return [
        serializers.step_json(row, public_visitor, public_session)
        for row in ps.session_steps(stats_query, visitor_id, session_id)
    ]


@statistics_endpoint
def goals(request, stats_query, *, scale, page):
    return revenue.goals_with_revenue(q.goals(stats_query), stats_query)


def option(name: str):
    """``options/<name>``: the values a filter could take in the range, as a list."""

    def view(request, stats_query, *, scale, page):
        tag = _required(request, "tag") if name == "tag/value" else ""
        return ps.filter_options(stats_query, name, tag)

    view.__name__ = "options_" + name.replace("/", "_")
    return statistics_endpoint(view)


OPTION_VIEWS = {name: option(name) for name in ps.OPTIONS}
