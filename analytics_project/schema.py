"""The OpenAPI 3.1 description of the public API, and the pages that serve it.

The protocol endpoints are plain Django views, so the description is written by hand in
``openapi.yaml``; the Pirsch statistics family (57 endpoints with the same parameters and
errors) is generated here from one table. ``/api/schema/`` serves the document as JSON
(``?format=yaml`` for YAML) and ``/api/docs/`` renders it with Swagger UI from the
``drf-spectacular-sidecar`` package (no CDN; the start-up script is a static file, so the
page needs no inline script under our CSP).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

SCHEMA_FILE = Path(__file__).with_name("openapi.yaml")

_ROWS = {"type": "array", "items": {"type": "object"}}
_SCALE_ROWS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "day": {"type": ["string", "null"]},
            "week": {"type": ["string", "null"]},
            "month": {"type": ["string", "null"]},
            "year": {"type": ["string", "null"]},
        },
    },
}


def _rows(*required: str) -> dict:
    return {"type": "array", "items": {"type": "object", "required": list(required)}}


def _object(*required: str) -> dict:
    return {"type": "object", "required": list(required)}


# The filter options Pirsch documents (``GET /api/v1/statistics/options/<name>``).
OPTIONS = (
    "referrer/name", "page", "referrer", "event", "country", "region", "city", "language",
    "utm/source", "utm/medium", "utm/campaign", "utm/content", "utm/term", "hostname",
    "metadata", "tag", "tag/value",
)  # fmt: skip

# endpoint → (summary, answer schema, required extra query parameters)
STATISTICS_ENDPOINTS: dict[str, tuple[str, dict, tuple[str, ...]]] = {
    "visitor": ("Visitors, views, sessions and bounces per scale bucket", _SCALE_ROWS, ()),
    "total": (
        "Totals over the range",
        _object("visitors", "views", "sessions", "bounces", "bounce_rate"),
        (),
    ),
    "growth": ("Growth against the previous period", _object("visitors_growth"), ()),
    "hours": ("Visitors per local hour", _rows("hour", "visitors"), ()),
    "minutes": (
        "Visitors per minute of the hour (0-59, local time)",
        _rows("minute", "visitors", "views", "sessions", "bounces", "bounce_rate"),
        (),
    ),
    "weekdays": (
        "Visitors per weekday (Monday is 0) and hour",
        _rows("weekday", "hour", "visitors", "views", "sessions", "bounces"),
        (),
    ),
    "active": (
        "Visitors active in the last `start` seconds, their pages and countries",
        _object("stats", "countries", "visitors"),
        (),
    ),
    "overview": (
        "Visitors, views, their growth and the members (default: the last 30 days)",
        _object("visitors", "views", "visitors_growth", "views_growth", "member"),
        (),
    ),
    "hostname": (
        "Hostnames of the page views",
        _rows("hostname", "visitors", "views", "sessions", "bounces", "bounce_rate"),
        (),
    ),
    "page": (
        "Pages (`include_avg_time_on_page=true` for the time on page)",
        _rows("hostname", "path", "title", "visitors", "bounces", "average_time_spent_seconds"),
        (),
    ),
    "page/entry": ("Entry pages", _rows("path", "visitors"), ()),
    "page/exit": ("Exit pages", _rows("path", "exits"), ()),
    "duration/session": ("Average session duration per bucket", _SCALE_ROWS, ()),
    "duration/page": ("Average time on page per bucket", _SCALE_ROWS, ()),
    "event/meta": ("Metadata values of one event", _ROWS, ("event", "event_meta_key")),
    "event/list": ("Events and their metadata", _ROWS, ()),
    "event/page": ("Pages an event happened on", _ROWS, ("event",)),
    "tags": ("Tag keys", _ROWS, ()),
    "tag/details": ("Values of one tag key", _ROWS, ("key",)),
    "session/list": ("Sessions, newest first", _rows("visitor_id", "session_id"), ()),
    "session/details": (
        "One session's page views and events in order (ids as `session/list` gives them)",
        _rows("page_view", "event"),
        ("visitor_id", "session_id"),
    ),
    "goals": ("Conversion goals", _ROWS, ()),
    "funnel": (
        "A funnel's definition and the visitors of each step (issue #15; Pirsch's shape)",
        _object("definition", "data"),
        ("funnel_id",),
    ),
    "referrer": ("Referrers", _rows("visitors"), ()),
    "channel": ("Channels", _rows("channel", "visitors"), ()),
    "utm/source": ("UTM sources", _rows("visitors"), ()),
    "utm/medium": ("UTM media", _rows("visitors"), ()),
    "utm/campaign": ("UTM campaigns", _rows("visitors"), ()),
    "utm/content": ("UTM contents", _rows("visitors"), ()),
    "utm/term": ("UTM terms", _rows("visitors"), ()),
    "country": ("Countries", _rows("visitors"), ()),
    "region": ("Regions", _rows("visitors"), ()),
    "city": ("Cities", _rows("visitors"), ()),
    "browser": ("Browsers", _rows("visitors"), ()),
    "browser/version": ("Browser versions", _rows("visitors"), ()),
    "os": ("Operating systems", _rows("visitors"), ()),
    "os/version": ("Operating system versions", _rows("visitors"), ()),
    "platform": ("Desktop, mobile and unknown", _object("platform_desktop", "platform_mobile"), ()),
    "screen": ("Screen classes", _rows("visitors"), ()),
    "language": ("Languages", _rows("visitors"), ()),
    "events": ("Custom events", _rows("name", "count", "visitors", "meta_keys"), ()),
    **{
        f"options/{name}": (
            f"Values the `{name}` filter could take in the range",
            {"type": "array", "items": {"type": "string"}},
            ("tag",) if name == "tag/value" else (),
        )
        for name in OPTIONS
    },
}
# Endpoints Pirsch documents with the domain id alone: the range is optional.
OPTIONAL_RANGE = {"active", "overview"}

# Filters: repeatable (OR); `!` negates, `~` contains, `^` does not contain.
STATISTICS_FILTERS = (
    "path",
    "entry_path",
    "pattern",
    "event",
    "event_meta_key",
    "language",
    "country",
    "region",
    "city",
    "referrer",
    "referrer_name",
    "channel",
    "os",
    "os_version",
    "browser",
    "browser_version",
    "platform",
    "screen_class",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "hostname",
    "title",
    "exit_path",
)

# insight → the keys of its ``data`` object (docs/insights.md)
IDENTITY_INSIGHTS: dict[str, tuple[str, ...]] = {
    "frustration": ("scores", "average", "distribution"),
    "errors": ("errors",),
    "clicks": ("elements",),
    "seo": ("pages", "issues", "pages_checked", "pages_with_issues"),
    "journeys": ("transitions", "drop_offs"),
    "reading": ("pages",),
    "forms": ("abandonments", "hesitations", "totals"),
    "acquisition": (
        "referrers",
        "utm_sources",
        "utm_mediums",
        "utm_campaigns",
        "channels",
        "totals",
    ),
    "web-metrics": (
        "web_vitals",
        "pages",
        "avg_session_duration_ms",
        "bounce_rate",
        "sessions",
        "top_pages",
    ),
}
ERROR_TYPES = ["js_exception", "promise_rejection", "console_error", "console_warning"]


def _statistics_parameters(
    required_extra: tuple[str, ...], range_required: bool = True
) -> list[dict]:
    def query(name: str, schema: dict, required: bool = False, description: str = "") -> dict:
        parameter = {"name": name, "in": "query", "required": required, "schema": schema}
        if description:
            parameter["description"] = description
        return parameter

    day = {"type": "string", "format": "date"}
    parameters = [
        query("id", {"type": "string", "maxLength": 32}, True, "The domain id"),
        query("from", day, range_required, "YYYY-MM-DD or an ISO timestamp (1970-2999)"),
        query("to", day, range_required, "YYYY-MM-DD or an ISO timestamp, at most ten years on"),
        query("tz", {"type": "string"}, description="IANA time zone (default: the site's)"),
        query("scale", {"type": "string", "enum": ["day", "week", "month", "year"]}),
        query("limit", {"type": "integer", "minimum": 0}, description="Above 100: 100"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
        query("search", {"type": "string"}),
        query("sort", {"type": "string"}),
        query("direction", {"type": "string", "enum": ["asc", "desc"]}),
        query("start", {"type": "integer", "minimum": 0, "maximum": 3600}),
    ]
    for name in STATISTICS_FILTERS:
        if name not in required_extra:
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "style": "form",
                    "explode": True,
                }
            )
    for name in required_extra:
        parameters.append(query(name, {"type": "string", "minLength": 1}, True))
    return parameters


# Pirsch answers with Footfall's revenue fields (docs/revenue.md, issue #15).
REVENUE_ENDPOINTS = frozenset(
    {"total", "page", "page/entry", "events", "goals", "referrer", "channel", "country",
     "region", "city", "browser", "browser/version", "os", "os/version", "screen", "language",
     "utm/source", "utm/medium", "utm/campaign", "utm/content", "utm/term"}
)  # fmt: skip
REVENUE_NOTE = (
    "Footfall extension: `revenue` (number, 2 decimals) and `average_revenue` (per conversion "
    "with revenue, or null) in the site's reporting currency on the answer (each row of a "
    "list); `total` also has `revenue_currency`. See docs/revenue.md."
)


def _statistics_paths() -> dict:
    paths = {}
    for endpoint, (summary, answer, extra) in STATISTICS_ENDPOINTS.items():
        paths[f"/api/v1/statistics/{endpoint}"] = {
            "get": {
                "tags": ["Pirsch statistics"],
                "operationId": "statistics_" + endpoint.replace("/", "_"),
                "summary": summary,
                **({"description": REVENUE_NOTE} if endpoint in REVENUE_ENDPOINTS else {}),
                "security": [{"pirschOAuth": []}],
                "parameters": _statistics_parameters(extra, endpoint not in OPTIONAL_RANGE),
                "responses": {
                    "200": {
                        "description": summary,
                        "content": {"application/json": {"schema": answer}},
                    },
                    "400": {"$ref": "#/components/responses/PirschError"},
                    "401": {"$ref": "#/components/responses/PirschError"},
                    "403": {"$ref": "#/components/responses/PirschError"},
                    "404": {"$ref": "#/components/responses/PirschError"},
                    "405": {"$ref": "#/components/responses/PirschError"},
                    # PIRSCH_API_RATE_LIMIT a minute per client (docs/security.md).
                    "429": {"$ref": "#/components/responses/PirschRateLimited"},
                },
            }
        }
    return paths


def _insights_paths() -> dict:
    paths = {}
    for name, keys in IDENTITY_INSIGHTS.items():
        parameters = [
            {"$ref": f"#/components/parameters/{p}"}
            for p in ("IdentitySite", "StartDate", "EndDate", "Page", "Limit")
        ]
        if name == "errors":
            parameters.append({"name": "type", "in": "query", "schema": {"enum": ERROR_TYPES}})
        answer = {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": {"type": "object", "required": list(keys)},
                "pagination": {"$ref": "#/components/schemas/IdentityPagination"},
            },
        }
        paths[f"/api/v1/insights/{name}"] = {
            "get": {
                "tags": ["Insights (identity-js)"],
                "operationId": "insights_" + name.replace("-", "_"),
                "summary": f"Behaviour insight: {name}",
                "security": [{"identityKey": []}],
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "The insight (see docs/insights.md).",
                        "content": {"application/json": {"schema": answer}},
                    },
                    **{
                        status: {"$ref": "#/components/responses/IdentityError"}
                        for status in ("400", "401", "404", "429")
                    },
                },
            }
        }
    return paths


def _inline_blocks(node, blocks: dict):
    """Replace ``{"$ref": "#/components/x-…"}`` with a copy of that reusable block."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if len(node) == 1 and ref.startswith("#/components/x-"):
            return _inline_blocks(copy.deepcopy(blocks[ref.rsplit("/", 1)[1]]), blocks)
        return {key: _inline_blocks(value, blocks) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_blocks(item, blocks) for item in node]
    return node


@functools.cache
def openapi_document() -> dict:
    """The whole document (built once per process)."""
    document = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    components = document["components"]
    blocks = {key: components.pop(key) for key in list(components) if key.startswith("x-")}
    document = _inline_blocks(document, blocks)
    document["paths"].update(_statistics_paths())
    document["paths"].update(_insights_paths())
    return document


@require_GET
def schema_view(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    if request.GET.get("format") == "yaml":
        return HttpResponse(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
            content_type="application/yaml; charset=utf-8",
        )
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@require_GET
def docs_view(request: HttpRequest) -> HttpResponse:
    return render(request, "api_docs.html")
