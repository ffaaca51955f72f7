"""The identity-js insights endpoints: thin wrappers over ``stats.insights``.

Every answer is ``{"data": {...}, "pagination": {...}}``: ``page``/``limit`` page the
endpoint's main list (scores, error groups, elements, pages, transitions); endpoints with
several lists (forms, acquisition) page each list alike, report each list's size under
``data.totals`` and paginate over the longest one. Shapes: ``docs/insights.md``.
"""

from __future__ import annotations

from stats import insights
from stats.api.identity.framework import identity_endpoint


def _paged(ctx, data: dict, total: int) -> dict:
    return {"data": data, "pagination": ctx.pagination(total)}


@identity_endpoint
def frustration(request, ctx):
    result = insights.frustration(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    total = result.pop("total")
    return _paged(ctx, result, total)


@identity_endpoint
def errors(request, ctx):
    result = insights.errors(
        ctx.site_id,
        ctx.period,
        offset=ctx.offset,
        limit=ctx.limit,
        type=request.GET.get("type", ""),
    )
    return _paged(ctx, {"errors": result.rows}, result.total)


@identity_endpoint
def clicks(request, ctx):
    result = insights.clicks(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    return _paged(ctx, {"elements": result.rows}, result.total)


@identity_endpoint
def seo(request, ctx):
    result = insights.seo(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    total = result.pop("total")
    return _paged(ctx, result, total)


@identity_endpoint
def journeys(request, ctx):
    result = insights.journeys(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    total = result.pop("total")
    return _paged(ctx, result, total)


@identity_endpoint
def reading(request, ctx):
    result = insights.reading(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    return _paged(ctx, {"pages": result.rows}, result.total)


@identity_endpoint
def forms(request, ctx):
    result = insights.forms(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    return _paged(ctx, result, max(result["totals"].values()))


@identity_endpoint
def acquisition(request, ctx):
    result = insights.acquisition(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    return _paged(ctx, result, max(result["totals"].values()))


@identity_endpoint
def web_metrics(request, ctx):
    result = insights.web_metrics(ctx.site_id, ctx.period, offset=ctx.offset, limit=ctx.limit)
    total = result.pop("total")
    return _paged(ctx, result, total)
