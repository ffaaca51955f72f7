"""Insights API: web vitals percentiles and the period's session figures."""

import pytest

from stats import insights
from tests.helpers import store
from tests.stats.insights.support import (
    data,
    row,
    signal,
)

# --- web metrics ----------------------------------------------------------------------


def test_web_metrics_percentiles_and_summary(client, site, read_key):
    def vitals(seconds, session, path, **values):
        return signal(site, seconds, "web_vitals", 1, session, path, **values)

    store(
        [
            row(site, 0, session=1, path="/"),
            vitals(10, 1, "/", lcp=1000, cls=0.1, inp=100, ttfb=50),
            row(site, 20, session=1, path="/b"),
            vitals(30, 1, "/b", lcp=500),
            row(site, 100, session=2, path="/"),
            vitals(101, 2, "/", lcp=2000, cls=0.2, inp=200),
            vitals(102, 3, "/", lcp=3000, inp=300),
            vitals(103, 4, "/", lcp=4000, inp=400, ttfb="not a number"),
        ]
    )
    body = data(client, "web-metrics", read_key)["data"]
    assert body["web_vitals"]["lcp"] == {"samples": 5, "p50": 2000, "p75": 3000, "p95": 3800}
    assert body["web_vitals"]["fid"] == {"samples": 0, "p50": None, "p75": None, "p95": None}
    assert body["web_vitals"]["ttfb"] == {"samples": 1, "p50": 50, "p75": 50, "p95": 50}
    home = body["pages"][0]
    assert (home["url"], home["reports"]) == ("/", 4)
    assert home["lcp"] == {"samples": 4, "p50": 2500, "p75": 3250, "p95": 3850}
    assert home["cls"] == {"samples": 2, "p50": 0.15, "p75": 0.175, "p95": 0.195}
    assert home["inp"] == {"samples": 4, "p50": 250, "p75": 325, "p95": 385}
    assert body["pages"][1]["url"] == "/b" and body["pages"][1]["lcp"]["p50"] == 500
    # Sessions 1 to 4 (vitals-only sessions 3 and 4 count as sessions with no page view).
    assert body["sessions"] == 4
    assert body["bounce_rate"] == 0.75
    assert body["avg_session_duration_ms"] == (30_000 + 1_000 + 0 + 0) // 4
    assert body["top_pages"] == [
        {"url": "/", "views": 2, "unique_visitors": 1},
        {"url": "/b", "views": 1, "unique_visitors": 1},
    ]


def test_percentile_cont_in_python_matches_postgresql_semantics():
    assert insights.percentile_cont([], 0.5) is None
    assert insights.percentile_cont([7], 0.95) == 7
    assert insights.percentile_cont([4000, 1000, 3000, 2000], 0.75) == 3250
    assert insights.percentile_cont([1, 2, 3, 4, 5], 0.95) == pytest.approx(4.8)
