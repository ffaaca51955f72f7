"""The OpenAPI description of Pirsch's statistics family (``/api/v1/statistics/<endpoint>``):
one table of summaries, answers and required parameters, attached to each endpoint's DRF
view by ``documented`` (``stats.api.pirsch_urls``), so the generated document describes
the views as they are routed. Errors, security and rate-limit headers:
``accounts.api.openapi.PirschAutoSchema``.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

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


def _parameters(required_extra: tuple[str, ...], range_required: bool) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            name=item["name"],
            type=item["schema"],
            location=OpenApiParameter.QUERY,
            required=item.get("required", False),
            description=item.get("description", ""),
            style=item.get("style"),
            explode=item.get("explode"),
        )
        for item in _statistics_parameters(required_extra, range_required)
    ]


def documented(endpoint: str, view):
    """``view`` (an ``as_view()`` callable) described as ``GET /api/v1/statistics/<endpoint>``."""
    summary, answer, extra = STATISTICS_ENDPOINTS[endpoint]
    return extend_schema_view(
        get=extend_schema(
            operation_id="statistics_" + endpoint.replace("/", "_"),
            summary=summary,
            description=REVENUE_NOTE if endpoint in REVENUE_ENDPOINTS else None,
            parameters=_parameters(extra, endpoint not in OPTIONAL_RANGE),
            responses={200: OpenApiResponse(answer, description=summary)},
        )
    )(view)


# --- the other Pirsch-style operations: export and deletion, funnels, ecommerce ----------


def query(name: str, schema: dict, required: bool = False, description: str = ""):
    return OpenApiParameter(
        name, schema, OpenApiParameter.QUERY, required=required, description=description
    )


_DAY = {"type": "string", "format": "date"}
_FLAG = {"type": "string", "enum": ["true", "1", "false", "0"]}
_DOMAIN = query("id", {"type": "string", "maxLength": 32}, True, "The domain id")
_RANGE = [query("from", _DAY, True), query("to", _DAY, True)]
_TZ = query("tz", {"type": "string"}, description="IANA time zone (default: the site's)")
_FILTERS = [query("country", {"type": "string"}), query("path", {"type": "string"})]
_FUNNEL = {"$ref": "#/components/schemas/FootfallFunnel"}
EXPORT_FLAGS = (
    "visitors", "pages", "session_duration", "growth", "languages", "referrer", "os",
    "browser", "country", "region", "city", "platform", "screen", "utm",
    "conversion_goals", "events", "tags", "hostname",
)  # fmt: skip

statistics_export = extend_schema(
    operation_id="statisticsExport",
    summary="Export a selection of statistics as CSV files in a zip (needs `statistics:read`)",
    description="Each flag set to `true` or `1` adds its file(s); without any, every file is "
    "exported. Cells starting with `=`, `+`, `-` or `@` get a leading `'`.",
    parameters=[_DOMAIN, *_RANGE, *(query(flag, _FLAG) for flag in EXPORT_FLAGS)],
    responses={
        (200, "application/zip"): OpenApiResponse(
            {"type": "string", "format": "binary"},
            description="A zip of CSV files (`visitors.csv`, `pages.csv`, …).",
        )
    },
)
statistics_delete = extend_schema(
    operation_id="statisticsDelete",
    summary="Delete a domain's statistics (needs `site:manage`; Owners and Admins only)",
    description="`kind`: empty or `all` deletes everything, `events` only custom events, "
    "`imported` nothing (no statistics are imported here). Without `from` and `to`, every "
    "day goes. Another tenant's domain is 404; a domain the client may read but not manage "
    "is 403.",
    request={
        "application/json": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "maxLength": 32},
                "kind": {"type": "string", "enum": ["", "all", "events", "imported"]},
                "from": _DAY,
                "to": _DAY,
            },
        }
    },
    examples=[
        OpenApiExample(
            "Custom events of six weeks",
            {"id": "A5kgYzK14m", "kind": "events", "from": "2024-01-01", "to": "2024-02-15"},
            request_only=True,
        )
    ],
    responses={200: OpenApiResponse(description="Deleted (empty body).")},
)

funnel_list = extend_schema(
    operation_id="funnelList",
    summary="A site's funnels (needs `statistics:read`)",
    parameters=[_DOMAIN],
    responses={
        200: OpenApiResponse(
            {"type": "array", "items": _FUNNEL}, description="The funnels, oldest first."
        )
    },
)
funnel_create = extend_schema(
    operation_id="funnelCreate",
    summary="Create a funnel (needs `site:manage` of an Owner or Admin; docs/funnels.md)",
    request={
        "application/json": {
            "type": "object",
            "required": ["id", "name", "steps"],
            "properties": {
                "id": {"type": "string", "description": "The domain id"},
                "name": {"type": "string", "maxLength": 200},
                "steps": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 8,
                    "items": {"type": "object"},
                },
                "scope": {"type": "string", "enum": ["visitor", "session"]},
                "order": {"type": "string", "enum": ["sequential", "strict", "any"]},
                "window": {"type": "string", "description": "30m, 12h, 1d… (1 minute to 30 days)"},
                "open": {"type": "boolean"},
            },
        }
    },
    examples=[
        OpenApiExample(
            "Checkout",
            {
                "id": "A5kgYzK14m",
                "name": "Checkout",
                "steps": [
                    {"alternatives": [{"type": "page", "path": "/pricing"}]},
                    {
                        "alternatives": [
                            {"type": "event", "name": "Signup", "props": {"plan": "pro"}}
                        ]
                    },
                    {
                        "alternatives": [
                            {"type": "page", "path": "/checkout"},
                            {"type": "page", "path": "/cart"},
                        ]
                    },
                ],
                "window": "1d",
            },
            request_only=True,
        )
    ],
    responses={201: OpenApiResponse(_FUNNEL, description="Created.")},
)
funnel_get = extend_schema(
    operation_id="funnelGet",
    summary="One funnel (needs `statistics:read`)",
    responses={200: OpenApiResponse(_FUNNEL, description="The funnel.")},
)


def funnel_change(method: str):
    return extend_schema(
        operation_id=f"funnelUpdate{method}",
        summary="Change a funnel's fields (needs `site:manage`)",
        request={"application/json": {"type": "object"}},
        responses={200: OpenApiResponse(_FUNNEL, description="The funnel as changed.")},
    )


funnel_delete = extend_schema(
    operation_id="funnelDelete",
    summary="Delete a funnel (needs `site:manage`)",
    responses={204: OpenApiResponse(description="Deleted.")},
)
_REVENUE_LIST = {
    "type": ["array", "null"],
    "items": {"$ref": "#/components/schemas/RevenueAmount"},
}
funnel_report = extend_schema(
    operation_id="funnelReport",
    summary="Steps with conversion, drop-off, times to convert, revenue, comparison and breakdown",
    description="Every Pirsch statistics filter applies to the session that entered the funnel.",
    parameters=[
        *_RANGE,
        _TZ,
        query("breakdown", {"type": "string"}),
        query("compare", {"type": "string", "enum": ["previous"]}),
        *_FILTERS,
    ],
    responses={
        200: OpenApiResponse(
            {
                "type": "object",
                "required": ["funnel", "from", "to", "steps", "conversion_rate"],
                "properties": {
                    "steps": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "step",
                                "name",
                                "visitors",
                                "entered",
                                "conversion_from_first",
                                "conversion_from_previous",
                                "dropped",
                                "drop_off",
                                "time_to_convert",
                                "revenue",
                            ],
                            "properties": {
                                "revenue": {
                                    **_REVENUE_LIST,
                                    "description": "Revenue of the events that reached the "
                                    "step, in the site's reporting currency (docs/revenue.md); "
                                    "null for page steps and steps without revenue.",
                                },
                                "average_revenue": {
                                    **_REVENUE_LIST,
                                    "description": "`revenue` divided by the number of events "
                                    "at the step that carried revenue.",
                                },
                            },
                        },
                    }
                },
            },
            description="The report.",
        )
    },
)
funnel_dropped = extend_schema(
    operation_id="funnelDropped",
    summary="The sessions that reached the step before `step` and not `step`, newest first",
    parameters=[
        query("step", {"type": "integer", "minimum": 2, "maximum": 8}, True),
        *_RANGE,
        query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
    ],
    responses={
        200: OpenApiResponse(
            {"type": "object", "required": ["step", "total", "sessions"]},
            description="The sessions (ids as `session/details` takes them).",
        )
    },
)

ecommerce_report = extend_schema(
    operation_id="ecommerceReport",
    summary="Matomo ecommerce of a range (needs `statistics:read`; docs/ecommerce.md)",
    description="Orders (deduplicated by Matomo's `ec_id` per site), conversion rate, "
    "revenue, average order value, products, categories, abandoned carts and the newest "
    "orders, amounts in the site's reporting currency. Every Pirsch statistics filter applies.",
    parameters=[
        _DOMAIN,
        *_RANGE,
        _TZ,
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 500},
            description="Rows per list (default 20)",
        ),
        query(
            "compare",
            {"type": "string", "enum": ["previous"]},
            description="`previous` adds the previous period's summary",
        ),
        *_FILTERS,
    ],
    responses={
        200: OpenApiResponse(
            {
                "type": "object",
                "required": [
                    "from",
                    "to",
                    "tz",
                    "currency",
                    "filters",
                    "summary",
                    "products",
                    "categories",
                    "abandoned_carts",
                    "orders",
                ],
                "properties": {
                    "summary": {
                        "type": "object",
                        "required": [
                            "orders",
                            "sessions",
                            "converting_sessions",
                            "conversion_rate",
                            "revenue",
                            "average_order_value",
                            "items",
                            "subtotal",
                            "tax",
                            "shipping",
                            "discount",
                            "cart_updates",
                            "abandoned_carts",
                            "abandoned_value",
                            "duplicate_orders",
                            "revenue_unconverted",
                        ],
                    },
                    "products": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "sku",
                                "name",
                                "revenue",
                                "quantity",
                                "orders",
                                "average_price",
                            ],
                        },
                    },
                    "categories": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "category",
                                "revenue",
                                "quantity",
                                "orders",
                                "average_price",
                            ],
                        },
                    },
                },
            },
            description="The report.",
        )
    },
)
ecommerce_orders = extend_schema(
    operation_id="ecommerceOrders",
    summary="The order log, newest first, with items (needs `statistics:read`)",
    parameters=[
        _DOMAIN,
        *_RANGE,
        _TZ,
        query("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 500},
            description="Orders per page (default 100)",
        ),
        _FILTERS[0],
    ],
    responses={
        200: OpenApiResponse(
            {
                "type": "object",
                "required": ["currency", "total", "page", "limit", "orders"],
                "properties": {
                    "orders": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "order_id",
                                "time",
                                "visitor_id",
                                "session_id",
                                "revenue",
                                "subtotal",
                                "tax",
                                "shipping",
                                "discount",
                                "items",
                            ],
                        },
                    }
                },
            },
            description="One page of orders.",
        )
    },
)
