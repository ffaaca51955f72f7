"""Insights API: frustration scores and the computed frustration event type."""

from stats import insights
from tests.helpers import store
from tests.stats.insights.support import (
    DAY,
    data,
    row,
    signal,
)
from tracking.models import Event


def test_frustration_scores_and_average(client, read_key, frustrated):
    body = data(client, "frustration", read_key)
    scores = body["data"]["scores"]
    assert [(s["score"], s["rage_clicks"], s["dead_clicks"]) for s in scores] == [
        (100, 5, 10),
        (80, 2, 1),
        (0, 0, 0),
    ]
    assert scores[1] == {
        "visitor_id": scores[1]["visitor_id"],
        "score": 80,
        "rage_clicks": 2,
        "dead_clicks": 1,
        "errors": 2,
        "form_abandons": 1,
        "rapid_navigations": 2,
    }
    assert scores[1]["visitor_id"] == "v_0000000000000001"
    assert (scores[0]["errors"], scores[0]["form_abandons"], scores[0]["rapid_navigations"]) == (
        4,
        3,
        0,
    )
    assert body["data"]["average"] == {"avg_score": 60.0, "visitor_count": 3}
    assert body["data"]["distribution"] == [
        {"from": 0, "to": 19, "visitors": 1},
        {"from": 20, "to": 39, "visitors": 0},
        {"from": 40, "to": 59, "visitors": 0},
        {"from": 60, "to": 79, "visitors": 0},
        {"from": 80, "to": 100, "visitors": 2},
    ]
    assert body["pagination"]["total"] == 3


def test_frustration_formula_matches_the_sql(client, read_key, frustrated):
    for score in data(client, "frustration", read_key)["data"]["scores"]:
        counts = {k: v for k, v in score.items() if k not in ("visitor_id", "score")}
        assert insights.frustration_score(**counts) == score["score"]


def test_frustration_pagination_edges(client, read_key, frustrated):
    second = data(client, "frustration", read_key, limit=1, page=2)
    assert [s["score"] for s in second["data"]["scores"]] == [80]
    assert second["pagination"] == {
        "total": 3,
        "page": 2,
        "limit": 1,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    beyond = data(client, "frustration", read_key, limit=2, page=9)
    assert beyond["data"]["scores"] == []
    assert beyond["data"]["average"] == {"avg_score": 60.0, "visitor_count": 3}
    assert beyond["pagination"]["has_next"] is False


def test_frustration_dates_select_the_days(client, read_key, frustrated):
    later = data(client, "frustration", read_key, start_date="2026-01-07", end_date="2026-01-07")
    assert [(s["score"], s["rage_clicks"]) for s in later["data"]["scores"]] == [(15, 1)]
    empty = data(client, "frustration", read_key, start_date="2026-01-06", end_date="2026-01-06")
    assert empty["data"]["scores"] == []
    assert empty["data"]["average"] == {"avg_score": 0, "visitor_count": 0}
    assert [band["visitors"] for band in empty["data"]["distribution"]] == [0, 0, 0, 0, 0]


def test_snippet_event_types_are_listed_and_filterable(client, site, read_key):
    store(
        [
            row(site, 0),
            signal(site, 1, "rage_click", selector="a"),
            signal(site, 2, "rage_click", selector="a"),
            signal(site, 3, "js_exception", message="x"),
            row(site, 4, "engagement", "reading_behavior", duration_ms=10, scroll_depth=5),
        ]
    )
    params = {"start_date": DAY, "end_date": DAY}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {read_key}"}
    types = client.get("/api/v1/events/types", params, **headers).json()["data"]
    assert types == [
        {"name": "rage_click", "count": 2},
        {"name": "frustration_score", "count": 1},  # the session's computed score (seed)
        {"name": "js_exception", "count": 1},
        {"name": "page_view", "count": 1},
        {"name": "reading_behavior", "count": 1},
    ]
    rage = client.get("/api/v1/events", {**params, "type": "rage_click"}, **headers).json()
    assert [e["name"] for e in rage["data"]] == ["rage_click", "rage_click"]
    assert rage["data"][0]["data"]["props"] == {"selector": "a"}
    assert Event.objects.count() == 5
