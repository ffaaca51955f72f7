"""Web vitals percentiles overall and per page, with the period's session figures."""

from __future__ import annotations

from django.db.models import Count

from stats.insights.expressions import PropNumber, grouped_percentiles, percentile_key
from stats.insights.formulas import PERCENTILES, WEB_VITALS
from stats.insights.results import PageVitals, Vital, WebMetrics
from stats.query.results import rate
from stats.selectors import Period, avg_session_ms, events_in, stats_summary, top_pages

# --- web metrics ----------------------------------------------------------------------


def _vitals(per_metric: dict[str, dict]) -> dict[str, Vital]:
    """Each metric's percentiles: milliseconds as whole numbers, CLS with three decimals."""

    def shown(metric: str, value: float | None) -> float | int | None:
        if value is None:
            return None
        return round(value, 3) if metric == "cls" else round(value)

    return {
        metric: Vital(
            values["samples"],
            {percentile_key(f): shown(metric, values[percentile_key(f)]) for f in PERCENTILES},
        )
        for metric, values in per_metric.items()
    }


def web_metrics(site_id: int, period: Period, *, offset: int = 0, limit: int = 50) -> WebMetrics:
    """Web vitals percentiles (p50/p75/p95) overall and per page, with the period's average
    session duration, bounce rate and top pages from ``stats.selectors``.

    LCP, INP, FID and TTFB are milliseconds; CLS is unitless. Pages with the most vitals
    reports come first.
    """
    reports = events_in(site_id, period).filter(kind="behaviour", name="web_vitals")
    metrics = {metric: PropNumber(metric) for metric in WEB_VITALS}
    overall = grouped_percentiles(reports, [], metrics).get(())
    empty = {
        m: {"samples": 0, **{percentile_key(f): None for f in PERCENTILES}} for m in WEB_VITALS
    }
    per_page = reports.values("path").annotate(n=Count("id")).order_by("-n", "path")
    total = per_page.count()
    page = list(per_page[offset : offset + limit])
    page_vitals = (
        grouped_percentiles(
            reports.filter(path__in=[row["path"] for row in page]), ["path"], metrics
        )
        if page
        else {}
    )
    summary = stats_summary(site_id, period).totals
    return WebMetrics(
        vitals=_vitals(overall or empty),
        pages=[
            PageVitals(row["path"], row["n"], _vitals(page_vitals.get((row["path"],), empty)))
            for row in page
        ],
        total=total,
        avg_session_duration_ms=avg_session_ms(summary),
        bounce_rate=rate(summary.bounces, summary.sessions),
        sessions=summary.sessions,
        top_pages=top_pages(site_id, period, limit=10).pages,
    )
