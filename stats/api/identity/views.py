"""The identity-js-style endpoints: thin wrappers over ``stats.selectors``, answered in
identity-js's shapes by ``stats.api.identity.serializers``."""

from __future__ import annotations

from stats import insights, selectors
from stats.api.identity import serializers
from stats.api.identity.framework import ApiError, identity_endpoint
from stats.query import StatsQuery
from stats.revenue import revenue_total

FRUSTRATION_SCORE = serializers.FRUSTRATION_SCORE


def _ids(request, key: str, parse) -> int | None:
    value = request.GET.get(key)
    if not value:
        return None
    parsed = parse(value)
    if parsed is None:
        raise ApiError(404, "not_found", f"Unknown {key}.")
    return parsed


@identity_endpoint
def visitors(request, ctx):
    rows = selectors.visitor_list(
        ctx.site_id,
        ctx.period,
        browser=request.GET.get("browser", ""),
        os=request.GET.get("os", ""),
        country=request.GET.get("country", ""),
        search=request.GET.get("search", ""),
    )
    return ctx.paginate(rows, lambda row: serializers.visitor_json(ctx.site_id, row))


@identity_endpoint
def visitor_detail(request, ctx, visitor_id: str):
    internal = selectors.visitor_id_from_public(visitor_id)
    detail = selectors.visitor_detail(ctx.site_id, internal) if internal is not None else None
    if detail is None:
        raise ApiError(404, "not_found", "Visitor not found.")
    return {"data": serializers.visitor_detail_json(ctx.site_id, detail)}


@identity_endpoint
def sessions(request, ctx):
    rows = selectors.session_list(
        ctx.site_id,
        ctx.period,
        visitor_id=_ids(request, "visitor_id", selectors.visitor_id_from_public),
        url=request.GET.get("url", ""),
    )
    return ctx.paginate(rows, serializers.session_json)


@identity_endpoint
def session_detail(request, ctx, session_id: str):
    internal = selectors.session_id_from_public(session_id)
    detail = selectors.session_detail(ctx.site_id, internal) if internal is not None else None
    if detail is None:
        raise ApiError(404, "not_found", "Session not found.")
    return {"data": serializers.session_detail_json(detail)}


@identity_endpoint
def events(request, ctx):
    visitor_id = _ids(request, "visitor_id", selectors.visitor_id_from_public)
    session_id = _ids(request, "session_id", selectors.session_id_from_public)
    type = request.GET.get("type", "")
    if type == FRUSTRATION_SCORE:
        scores = insights.frustration_events(
            ctx.site_id,
            ctx.period,
            offset=ctx.offset,
            limit=ctx.limit,
            visitor_id=visitor_id,
            session_id=session_id,
        )
        return {
            "data": [serializers.frustration_event_json(row) for row in scores.rows],
            "pagination": ctx.pagination(scores.total),
        }
    rows = selectors.event_rows(
        ctx.site_id, ctx.period, type=type, visitor_id=visitor_id, session_id=session_id
    )
    return ctx.paginate(rows, serializers.event_json)


@identity_endpoint
def event_types(request, ctx):
    counts = selectors.event_type_counts(ctx.site_id, ctx.period)
    frustrated = insights.frustration_events(ctx.site_id, ctx.period, limit=0).total
    if frustrated:
        counts = sorted(
            [*counts, {"name": FRUSTRATION_SCORE, "count": frustrated}],
            key=lambda row: (-row["count"], row["name"]),
        )
    return {"data": counts}


@identity_endpoint
def stats(request, ctx):
    summary = selectors.stats_summary(ctx.site_id, ctx.period)
    period = ctx.period
    money = revenue_total(StatsQuery(ctx.site_id, period.first_day, period.last_day, period.tz))
    return {"data": serializers.stats_json(summary, money)}


@identity_endpoint
def pages_top(request, ctx):
    top = selectors.top_pages(ctx.site_id, ctx.period, limit=ctx.limit)
    return {"data": serializers.top_pages_json(top)}


@identity_endpoint
def live(request, ctx):
    try:
        minutes = int(request.GET.get("threshold_minutes", 5))
    except ValueError:
        minutes = 5
    latest = selectors.live_visitors(ctx.site_id, max(1, min(minutes, 1440)))
    visitors = [serializers.live_visitor_json(event) for event in latest]
    return {"data": visitors, "count": len(visitors)}
