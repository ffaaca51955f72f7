"""Plausible Stats API: v1 aggregate: metrics, comparison, periods, time zones, filters and errors."""

from datetime import timedelta

import pytest

from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, at, custom, v1


def test_aggregate_every_supported_metric(client, key, traffic):
    metrics = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events"
    response = v1(client, "aggregate", key, metrics=metrics, **custom())
    assert response.status_code == 200
    assert response.json() == {
        "results": {
            "visitors": {"value": 2},
            "visits": {"value": 2},
            "pageviews": {"value": 3},
            "views_per_visit": {"value": 1.5},
            "bounce_rate": {"value": 50},
            "visit_duration": {"value": 45},
            "events": {"value": 4},
        }
    }


def test_aggregate_compare_previous_period(client, key, traffic):
    response = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,pageviews,bounce_rate",
        compare="previous_period",
        period="day",
        date=str(DAY),
    )
    assert response.json() == {
        "results": {
            "visitors": {"value": 2, "change": 100},
            "pageviews": {"value": 3, "change": 200},
            "bounce_rate": {"value": 50, "change": -50},
        }
    }


def test_periods_7d_30d_month_6mo_12mo(client, key, traffic):
    expected = {"7d": 3, "30d": 3, "month": 3, "6mo": 3, "12mo": 3, "day": 2}
    for period, visitors in expected.items():
        response = v1(client, "aggregate", key, period=period, date=str(DAY))
        assert response.json()["results"]["visitors"]["value"] == visitors, period
    later = DAY + timedelta(days=7)
    assert v1(client, "aggregate", key, period="7d", date=str(later)).json() == {
        "results": {"visitors": {"value": 0}}
    }


def test_days_are_the_sites_calendar_days(client, key, site):
    site.timezone = "Asia/Tokyo"
    site.save()
    # 20:00 UTC on DAY is 05:00 on DAY+1 in Tokyo.
    store([event_row(site.pk, at(DAY, 20), visitor=9, session=9)])
    assert v1(client, "aggregate", key, **custom(DAY)).json()["results"]["visitors"]["value"] == 0
    tokyo_next = custom(DAY + timedelta(days=1))
    assert v1(client, "aggregate", key, **tokyo_next).json()["results"]["visitors"]["value"] == 1


def test_filters_select_visitors(client, key, traffic):
    cases = {
        "event:page==/blog**": 1,
        "event:page==/": 2,
        "event:page!=/blog**": None,  # a negated wildcard: refused, not answered wrongly
        "visit:source==Google": 1,
        "visit:source!=Google": 1,
        "visit:source==Google|Bing": 1,
        "visit:country==DE": 1,
        "visit:country==DE;visit:source==Google": 0,
        "event:name==Signup": 1,
        "event:props:plan==pro": 1,
        "event:page~blog": 1,
    }
    for expression, visitors in cases.items():
        response = v1(client, "aggregate", key, filters=expression, **custom())
        if visitors is None:
            assert response.status_code == 400, expression
            assert "error" in response.json()
        else:
            assert response.status_code == 200, (expression, response.json())
            assert response.json()["results"]["visitors"]["value"] == visitors, expression


# --- v1 errors, exactly as upstream words them -------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"period": "week"},
            "Error parsing `period` parameter: invalid period `week`. Please find accepted "
            "values in our docs: https://plausible.io/docs/stats-api#time-periods",
        ),
        (
            {"metrics": "visitors,foo"},
            "The metric `foo` is not recognized. Find valid metrics from the documentation: "
            "https://plausible.io/docs/stats-api#metrics",
        ),
        ({"metrics": "visitors,visitors"}, "Metrics cannot be queried multiple times."),
        (
            {"period": "custom"},
            "The `date` parameter is required when using a custom period. See "
            "https://plausible.io/docs/stats-api#time-periods",
        ),
        (
            {"period": "custom", "date": "2026-01-01"},
            "Invalid format for `date` parameter. When using a custom period, please include "
            "two ISO-8601 formatted dates joined by a comma. See "
            "https://plausible.io/docs/stats-api#time-periods",
        ),
        (
            {"metrics": "conversion_rate"},
            "Metric `conversion_rate` can only be queried in a goal breakdown or with a goal filter",
        ),
        (
            {"metrics": "visits", "filters": "event:name==Signup"},
            "Session metric `visits` cannot be queried when using a filter on `event:name`.",
        ),
        (
            {"metrics": "views_per_visit", "filters": "event:page==/"},
            "Metric `views_per_visit` cannot be queried with a filter on `event:page`.",
        ),
        (
            {"filters": "visit:nonsense==1"},
            "Invalid filter property 'visit:nonsense'. Please provide a valid filter property: "
            "https://plausible.io/docs/stats-api#properties",
        ),
    ],
)
def test_aggregate_errors(client, key, site, params, message):
    response = v1(client, "aggregate", key, **params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_range_longer_than_ten_years_is_400(client, key, site):
    response = v1(client, "aggregate", key, period="custom", date="2000-01-01,2020-01-01")
    assert response.status_code == 400
    assert "ten years" in response.json()["error"]
