"""Plausible Stats API: v1 timeseries, breakdown and realtime; rolled-up days answer the same."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stats.rollups import rollup_pending
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, custom, v1


def test_timeseries_by_day_includes_empty_days(client, key, traffic):
    first = DAY - timedelta(days=2)
    response = v1(
        client,
        "timeseries",
        key,
        period="custom",
        date=f"{first},{DAY}",
        metrics="visitors,pageviews,bounce_rate",
    )
    assert response.json() == {
        "results": [
            {"date": str(first), "visitors": 0, "pageviews": 0, "bounce_rate": 0},
            {
                "date": str(DAY - timedelta(days=1)),
                "visitors": 1,
                "pageviews": 1,
                "bounce_rate": 100,
            },
            {"date": str(DAY), "visitors": 2, "pageviews": 3, "bounce_rate": 50},
        ]
    }


def test_timeseries_month_interval_and_hours_of_a_day(client, key, traffic):
    monthly = v1(client, "timeseries", key, period="6mo", date=str(DAY)).json()["results"]
    assert [r["date"] for r in monthly] == [
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
        "2026-11-01",
    ]
    assert monthly[-1]["visitors"] == 3
    hourly = v1(client, "timeseries", key, period="day", date=str(DAY)).json()["results"]
    assert len(hourly) == 24
    assert hourly[9] == {"date": f"{DAY} 09:00:00", "visitors": 1}
    assert hourly[14] == {"date": f"{DAY} 14:00:00", "visitors": 1}
    assert v1(client, "timeseries", key, interval="week").json() == {
        "error": "Error parsing `interval` parameter: invalid interval `week`. "
        "Valid intervals are `day`, `month`"
    }


def test_breakdown_by_page_with_limit_and_page(client, key, traffic):
    params = {**custom(), "property": "event:page", "metrics": "visitors,pageviews"}
    response = v1(client, "breakdown", key, **params)
    assert response.json() == {
        "results": [
            {"page": "/", "visitors": 2, "pageviews": 2},
            {"page": "/blog/a", "visitors": 1, "pageviews": 1},
        ]
    }
    second = v1(client, "breakdown", key, limit="1", page="2", **params).json()
    assert second == {"results": [{"page": "/blog/a", "visitors": 1, "pageviews": 1}]}


def test_breakdown_by_source_country_and_event_name(client, key, traffic):
    source = v1(client, "breakdown", key, property="visit:source", **custom()).json()["results"]
    assert {"source": "Google", "visitors": 1} in source
    country = v1(client, "breakdown", key, property="visit:country", **custom()).json()
    assert {"country": "DE", "visitors": 1} in country["results"]
    names = v1(client, "breakdown", key, property="event:name", **custom()).json()
    # Plausible's event:name breakdown lists page views as "pageview" too.
    assert names == {
        "results": [{"name": "pageview", "visitors": 2}, {"name": "Signup", "visitors": 1}]
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {},
            "The `property` parameter is required. Please provide at least one property to "
            "show a breakdown by.",
        ),
        (
            {"property": "visit:foo"},
            "Invalid property 'visit:foo'. Please provide a valid property for the breakdown "
            "endpoint: https://plausible.io/docs/stats-api#properties",
        ),
        (
            {"property": "event:page", "limit": "1001"},
            "Please provide limit as a number between 1 and 1000.",
        ),
        ({"property": "event:page", "page": "0"}, "Please provide page as a positive number."),
        (
            {"property": "event:page", "metrics": "views_per_visit"},
            "Metric `views_per_visit` is not supported in breakdown queries.",
        ),
        (
            {"property": "event:name", "metrics": "visits"},
            "Session metric `visits` cannot be queried for breakdown by `event:name`.",
        ),
    ],
)
def test_breakdown_errors(client, key, site, params, message):
    response = v1(client, "breakdown", key, **params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_realtime_visitors_is_a_bare_number(client, key, site):
    now = timezone.now()
    store(
        [
            event_row(site.pk, now - timedelta(minutes=1), visitor=1, session=1),
            event_row(site.pk, now - timedelta(minutes=2), visitor=2, session=2),
            event_row(site.pk, now - timedelta(minutes=20), visitor=3, session=3),
        ]
    )
    response = v1(client, "realtime/visitors", key)
    assert response.status_code == 200
    assert response.json() == 2


def test_rolled_up_days_give_the_same_answers(client, key, traffic):
    """Past days move to the rollups: every answer stays what the raw events gave."""
    questions = [
        ("aggregate", {"metrics": "visitors,visits,pageviews,bounce_rate,visit_duration,events"}),
        ("aggregate", {"filters": "visit:source==Google", "metrics": "visitors,visits"}),
        ("aggregate", {"filters": "event:page==/blog**"}),
        ("breakdown", {"property": "event:page", "metrics": "visitors,pageviews"}),
        ("breakdown", {"property": "visit:country", "filters": "visit:source!=Google"}),
        ("timeseries", {"metrics": "visitors,pageviews,bounce_rate"}),
    ]
    week = {"period": "7d", "date": str(DAY)}
    before = [v1(client, path, key, **week, **params).json() for path, params in questions]
    assert rollup_pending() > 0
    after = [v1(client, path, key, **week, **params).json() for path, params in questions]
    assert after == before
    assert before[0]["results"]["visitors"] == {"value": 3}
