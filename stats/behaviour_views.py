"""The dashboard's Behaviour pages: the snippet's insights as tables and small charts.

One page per section (``/sites/<public_id>/behaviour/<section>``). Every number comes from
``stats.insights`` — the selectors the identity-js insights API answers from — and the
date range is read from the URL exactly like the dashboard's (``period``, or
``period=custom`` with ``from``/``to``; ``stats.dashboard.dashboard_state``).

Access: site members who may view statistics. Anonymous visitors are sent to log in;
signed-in users without access get 404 (another tenant's site does not exist for them).
Charts are inline SVG drawn from numbers computed here; templates escape every string.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from sites.models import Site
from sites.permissions import Action, can
from stats import insights
from stats.dashboard import PERIODS, dashboard_state
from stats.insights.results import Ranked, Vital
from stats.selectors import Period, events_in
from tracking.hits import Kind
from tracking.snippet import enabled_collectors

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
CHART_ROWS = 8


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    # The snippet collector that feeds the section (None: the core snippet).
    collector: str | None
    empty: str
    # Why the section is empty when the collector is on and the period has page views.
    all_clear: str


# Why a section has nothing to show; the template explains each and says what to do.
COLLECTOR_OFF = "collector_off"
NO_TRAFFIC = "no_traffic"
ALL_CLEAR = "all_clear"

SECTIONS: dict[str, Section] = {
    s.slug: s
    for s in (
        Section(
            "frustration",
            "Frustration",
            "clicks",
            "No frustration signals in this period.",
            "Visitors browsed the site and none of them rage-clicked, hit a dead element, "
            "met an error or abandoned a form: all clear.",
        ),
        Section(
            "errors",
            "Errors",
            "errors",
            "No JavaScript errors or warnings in this period.",
            "Pages were viewed with the errors collector on and no script reported an error "
            "or warning: all clear.",
        ),
        Section(
            "clicks",
            "Click issues",
            "clicks",
            "No rage, dead or phantom clicks in this period.",
            "Pages were viewed with the clicks collector on and nobody rage-, dead- or "
            "phantom-clicked: all clear.",
        ),
        Section(
            "journeys",
            "Journeys",
            None,
            "No page-to-page navigation in this period.",
            "Page views arrived, but every visit stayed on a single page.",
        ),
        Section(
            "reading",
            "Reading",
            None,
            "No reading reports in this period.",
            "Page views arrived, but no reading report yet: the snippet sends one when a "
            "visitor leaves or hides a page.",
        ),
        Section(
            "forms",
            "Forms",
            "forms",
            "No abandoned forms or hesitation in this period.",
            "Pages were viewed with the forms collector on and no form was abandoned or "
            "hesitated over: all clear.",
        ),
        Section(
            "vitals",
            "Web vitals",
            "vitals",
            "No web vitals reported in this period.",
            "Pages were viewed with the vitals collector on, but no browser reported web "
            "vitals yet (some browsers report only a few of them).",
        ),
        Section(
            "seo",
            "SEO",
            "seo",
            "No SEO diagnostics in this period.",
            "Pages were viewed with the SEO collector on, but no page reported its "
            "diagnostics yet.",
        ),
    )
}

# Google's thresholds (good up to the first, poor from the second), per metric.
VITAL_THRESHOLDS: dict[str, tuple[float, float]] = {
    "lcp": (2500, 4000),
    "inp": (200, 500),
    "fid": (100, 300),
    "cls": (0.1, 0.25),
    "ttfb": (800, 1800),
}
VITAL_NAMES = {
    "lcp": "Largest Contentful Paint",
    "inp": "Interaction to Next Paint",
    "fid": "First Input Delay",
    "cls": "Cumulative Layout Shift",
    "ttfb": "Time to First Byte",
}


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _bars(rows: list, value_key: str, label_key: str, limit: int = CHART_ROWS) -> list:
    """The first rows (typed results, or dicts) as chart bars: label, value and width in %
    of the largest."""

    def field(row, key: str):
        return row[key] if isinstance(row, dict) else getattr(row, key)

    shown = rows[:limit]
    top = max([float(field(r, value_key) or 0) for r in shown] + [0]) or 1
    return [
        {
            "label": field(r, label_key),
            "value": field(r, value_key),
            "width": round(float(field(r, value_key) or 0) / top * 100, 1),
        }
        for r in shown
    ]


def rating(metric: str, value: float | None) -> str:
    """Google's words for a p75: good, needs improvement or poor ('' without data)."""
    if value is None:
        return ""
    good, poor = VITAL_THRESHOLDS[metric]
    if value <= good:
        return "good"
    return "poor" if value > poor else "needs improvement"


def vital_chart(metric: str, values: dict) -> dict:
    """Geometry of one percentile strip: zones good / needs improvement / poor on a linear
    scale up to 1.25 × the poor threshold (or the p95 when larger), markers at p50/p75/p95."""
    good, poor = VITAL_THRESHOLDS[metric]
    scale = max(poor * 1.25, values.get("p95") or 0)

    def x(value: float) -> float:
        return round(min(value, scale) / scale * 100, 2)

    return {
        "good_width": x(good),
        "warn_x": x(good),
        "warn_width": round(x(poor) - x(good), 2),
        "poor_x": x(poor),
        "poor_width": round(100 - x(poor), 2),
        "markers": [
            {"name": key, "x": x(values[key]), "value": values[key]}
            for key in ("p50", "p75", "p95")
            if values.get(key) is not None
        ],
    }


def _vitals_rows(per_metric: dict[str, Vital]) -> list[dict]:
    return [
        {
            "metric": metric,
            "name": VITAL_NAMES[metric],
            "unit": "" if metric == "cls" else "ms",
            "samples": vital.samples,
            **vital.percentiles,
            "rating": rating(metric, vital.percentiles["p75"]),
            "chart": vital_chart(metric, vital.percentiles) if vital.samples else None,
        }
        for metric, vital in per_metric.items()
    ]


# --- one builder per section: the selector's answer → template context ------------------


def _frustration(site_id: int, period: Period, offset: int) -> dict:
    result = insights.frustration(site_id, period, offset=offset, limit=PAGE_SIZE)
    bands = [{"label": f"{b.low}–{b.high}", "visitors": b.visitors} for b in result.distribution]
    rows = result.scores
    return {
        "rows": rows,
        "total": result.total,
        # Scores come highest first: a zero on top of the first page means nobody was
        # frustrated, and a list of zeros says nothing.
        "quiet": not rows or (offset == 0 and rows[0].score == 0),
        "average": {"avg_score": result.average_score, "visitor_count": result.visitor_count},
        "chart": _bars(bands, "visitors", "label") if result.total else [],
        "weights": [
            {"signal": name.replace("_", " "), "points": weight, "cap": cap}
            for name, (weight, cap) in insights.FRUSTRATION_WEIGHTS.items()
        ],
        "rapid_seconds": insights.RAPID_NAVIGATION_SECONDS,
    }


def _ranked(result: Ranked, value_key: str, label_key: str) -> dict:
    """A ranked list's page, its length and its first rows as bars."""
    return {
        "rows": result.rows,
        "total": result.total,
        "chart": _bars(result.rows, value_key, label_key),
    }


def _errors(site_id: int, period: Period, offset: int) -> dict:
    result = insights.errors(site_id, period, offset=offset, limit=PAGE_SIZE)
    return _ranked(result, "count", "message")


def _clicks(site_id: int, period: Period, offset: int) -> dict:
    result = insights.clicks(site_id, period, offset=offset, limit=PAGE_SIZE)
    return _ranked(result, "total", "selector")


def _journeys(site_id: int, period: Period, offset: int) -> dict:
    result = insights.journeys(site_id, period, offset=offset, limit=PAGE_SIZE)
    moves = [
        {"label": f"{row.from_path} → {row.to_path}", "count": row.count}
        for row in result.transitions
    ]
    return {
        "rows": result.transitions,
        "total": result.total,
        "drop_offs": result.drop_offs[:10],
        "chart": _bars(moves, "count", "label"),
    }


def _reading(site_id: int, period: Period, offset: int) -> dict:
    result = insights.reading(site_id, period, offset=offset, limit=PAGE_SIZE)
    chart = [
        {"label": r.url, "value": r.avg_scroll_depth, "width": r.avg_scroll_depth or 0}
        for r in result.rows[:CHART_ROWS]
    ]
    return {"rows": result.rows, "total": result.total, "chart": chart}


def _forms(site_id: int, period: Period, offset: int) -> dict:
    result = insights.forms(site_id, period, offset=offset, limit=PAGE_SIZE)
    return {
        "rows": result.abandonments,
        "hesitations": result.hesitations,
        "total": max(result.totals.values()),
        "totals": result.totals,
        "chart": _bars(result.abandonments, "count", "form"),
    }


def _vitals(site_id: int, period: Period, offset: int) -> dict:
    result = insights.web_metrics(site_id, period, offset=offset, limit=PAGE_SIZE)
    pages = [
        {
            "url": page.url,
            "reports": page.reports,
            "metrics": [
                {
                    "metric": m,
                    "p75": page.vitals[m].percentiles["p75"],
                    "rating": rating(m, page.vitals[m].percentiles["p75"]),
                }
                for m in insights.WEB_VITALS
            ],
        }
        for page in result.pages
    ]
    return {
        "rows": pages,
        "total": result.total,
        "overall": _vitals_rows(result.vitals),
        "metrics": insights.WEB_VITALS,
        "summary": {
            "avg_session_duration_ms": result.avg_session_duration_ms,
            "bounce_rate": result.bounce_rate,
            "sessions": result.sessions,
        },
        "top_pages": result.top_pages,
    }


def _seo(site_id: int, period: Period, offset: int) -> dict:
    result = insights.seo(site_id, period, offset=offset, limit=PAGE_SIZE)
    return {
        "rows": result.pages,
        "total": result.total,
        "issues": result.issues,
        "pages_checked": result.pages_checked,
        "pages_with_issues": result.pages_with_issues,
        "chart": _bars(result.issues, "pages", "code"),
    }


BUILDERS = {
    "frustration": _frustration,
    "errors": _errors,
    "clicks": _clicks,
    "journeys": _journeys,
    "reading": _reading,
    "forms": _forms,
    "vitals": _vitals,
    "seo": _seo,
}


def empty_reason(site_id: int, period: Period, section: Section, collectors: frozenset[str]) -> str:
    """Why a section with nothing to show is empty: the one thing its owner can act on first."""
    if section.collector is not None and section.collector not in collectors:
        return COLLECTOR_OFF
    if not events_in(site_id, period).filter(kind=Kind.PAGEVIEW).exists():
        return NO_TRAFFIC
    return ALL_CLEAR


def _site_for(request: HttpRequest, public_id: str) -> Site:
    site = Site.objects.filter(public_id=public_id).first()
    if site is None or not can(request.user, Action.VIEW_STATS, site):
        raise Http404("No such site.")
    return site


@require_GET
@login_required
def behaviour_index(request: HttpRequest, public_id: str) -> HttpResponse:
    site = _site_for(request, public_id)
    query = request.GET.urlencode()
    target = f"/sites/{site.public_id}/behaviour/frustration"
    return redirect(f"{target}?{query}" if query else target)


@require_GET
@login_required
def behaviour_section(request: HttpRequest, public_id: str, section: str) -> HttpResponse:
    site = _site_for(request, public_id)
    chosen = SECTIONS.get(section)
    if chosen is None:
        raise Http404("No such section.")
    params = request.GET
    if "period" not in params and params.get("from") and params.get("to"):
        # A bare from/to pair means a custom range.
        params = params.copy()
        params["period"] = "custom"
    state = dashboard_state(params, site)
    period = Period.of_days(state.first_day, state.last_day, site.timezone)
    page = _page_number(request)
    collectors = enabled_collectors(site)
    context = {
        "site": site,
        "section": chosen,
        "sections": SECTIONS.values(),
        "state": state,
        "periods": PERIODS,
        "base": f"/sites/{site.public_id}/behaviour/{chosen.slug}",
        "range_qs": state.querystring(),
        "page": page,
        "collector_off": chosen.collector is not None and chosen.collector not in collectors,
        "may_manage": can(request.user, Action.MANAGE_SETTINGS, site),
        "failed": False,
    }
    try:
        context.update(BUILDERS[chosen.slug](site.pk, period, (page - 1) * PAGE_SIZE))
    except Exception:
        logger.exception("behaviour section %s failed for site %s", chosen.slug, site.pk)
        context.update(failed=True, rows=[], total=0)
    quiet = context.get("quiet", not context["rows"] and not context["total"])
    context["empty_reason"] = (
        empty_reason(site.pk, period, chosen, collectors) if quiet and not context["failed"] else ""
    )
    total = context["total"]
    context.update(
        has_prev=page > 1,
        has_next=page * PAGE_SIZE < total,
        first_shown=(page - 1) * PAGE_SIZE + 1 if context["rows"] else 0,
        last_shown=(page - 1) * PAGE_SIZE + len(context["rows"]),
    )
    return render(request, f"stats/behaviour/{chosen.slug}.html", context)
