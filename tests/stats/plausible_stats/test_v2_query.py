"""Plausible Stats API: v2 POST /api/v2/query: shapes, order, pagination, include, filters, errors."""

from datetime import timedelta

import pytest

from stats.api.plausible.authentication import (
    MISSING_SITE_ID,
)
from tests.stats.plausible_stats.support import DAY, v2


def test_v2_aggregate_shape_and_query_echo(client, key, traffic):
    body = {"metrics": ["visitors", "pageviews"], "date_range": [str(DAY), str(DAY)]}
    response = v2(client, key, body)
    assert response.status_code == 200
    data = response.json()
    assert data["results"] == [{"metrics": [2, 3], "dimensions": []}]
    assert data["meta"] == {}
    assert data["query"]["site_id"] == "shop.example"
    assert data["query"]["date_range"] == [f"{DAY}T00:00:00+00:00", f"{DAY}T23:59:59+00:00"]


def test_v2_breakdown_order_pagination_total_rows_and_imports(client, key, traffic):
    body = {
        "metrics": ["visitors"],
        "date_range": [str(DAY), str(DAY)],
        "dimensions": ["event:page"],
        "order_by": [["visitors", "asc"]],
        "include": {"total_rows": True, "imports": True},
        "pagination": {"limit": 1, "offset": 0},
    }
    data = v2(client, key, body).json()
    assert data["results"] == [{"metrics": [1], "dimensions": ["/blog/a"]}]
    assert data["meta"] == {
        "total_rows": 2,
        "imports_included": False,
        "imports_skip_reason": "no_imported_data",
    }


def test_v2_time_dimension_and_time_labels(client, key, traffic):
    first = DAY - timedelta(days=2)
    body = {
        "metrics": ["visitors"],
        "date_range": [str(first), str(DAY)],
        "dimensions": ["time:day"],
        "include": {"time_labels": True},
    }
    data = v2(client, key, body).json()
    assert data["results"] == [
        {"metrics": [1], "dimensions": [str(DAY - timedelta(days=1))]},
        {"metrics": [2], "dimensions": [str(DAY)]},
    ]
    assert data["meta"]["time_labels"] == [str(first), str(DAY - timedelta(days=1)), str(DAY)]


def test_v2_nested_filters(client, key, traffic):
    def visitors(filters):
        body = {"metrics": ["visitors"], "date_range": [str(DAY), str(DAY)], "filters": filters}
        response = v2(client, key, body)
        assert response.status_code == 200, response.json()
        return response.json()["results"][0]["metrics"][0]

    assert visitors([["is", "visit:source", ["Google"]]]) == 1
    assert visitors([["not", ["is", "visit:source", ["Google"]]]]) == 1
    assert visitors([["contains", "event:page", ["blog"]]]) == 1
    assert visitors([["matches", "event:page", ["^/blog/.*$"]]]) == 1
    assert (
        visitors([["or", [["is", "visit:country", ["DE"]], ["is", "visit:country", ["FR"]]]]]) == 1
    )
    assert (
        visitors([["and", [["is", "event:page", ["/"]], ["is_not", "visit:country", ["DE"]]]]]) == 1
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"metrics": ["foo"], "date_range": "7d"}, '#/metrics/0: Invalid metric "foo"'),
        ({"metrics": ["visitors"], "date_range": "1w"}, '#/date_range: Invalid date_range "1w"'),
        (
            {"metrics": ["visitors"]},
            "#/date_range: Required property date_range was not present.",
        ),
        (
            {"metrics": ["visitors"], "date_range": "7d", "filters": [["eq", "event:page", ["/"]]]},
            "#/filters: Invalid filter operator 'eq'",
        ),
        (
            {
                "metrics": ["visitors"],
                "date_range": "7d",
                "filters": [["or", [["is", "event:page", ["/"]], ["is", "visit:source", ["x"]]]]],
            },
            "Footfall supports 'or' only between positive conditions on one property with one "
            "operator.",
        ),
        (
            {"metrics": ["visitors"], "date_range": "7d", "order_by": [["pageviews", "desc"]]},
            "Invalid order_by entry 'pageviews'. Entry is not a queried metric or dimension.",
        ),
        (
            {"metrics": ["visitors"], "date_range": "7d", "dimensions": ["visit:nope"]},
            '#/dimensions/0: Invalid dimension "visit:nope"',
        ),
    ],
)
def test_v2_errors(client, key, site, body, message):
    response = v2(client, key, body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_v2_bad_json_and_missing_site_id(client, key, site):
    response = client.post(
        "/api/v2/query",
        "{nope",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    assert "error" in response.json()
    response = client.post(
        "/api/v2/query",
        '{"metrics": ["visitors"], "date_range": "7d"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.json() == {"error": MISSING_SITE_ID}
