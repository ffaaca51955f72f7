"""Plausible Stats API: goals and conversion rate, custom-property breakdowns, the events
metric, time on page, and Plausible's own refusals around them (v1 and v2 wording)."""

from datetime import timedelta

import pytest

from stats.api.plausible.sites import goal_find_or_create
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, at, custom, v1, v2

GOALS_DOCS = (
    "Find out how to configure goals here: https://plausible.io/docs/stats-api#filtering-by-goals"
)


@pytest.fixture
def goals(site, traffic):
    goal_find_or_create(site=site, goal_type="event", target="Signup")
    goal_find_or_create(site=site, goal_type="page", target="/blog/a")


# --- goals and conversion rate -----------------------------------------------------------------


def test_goal_filter_aggregate_with_conversion_rate(client, key, goals):
    response = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,events,pageviews,conversion_rate",
        filters="event:goal==Signup",
        **custom(),
    )
    assert response.status_code == 200, response.json()
    # One of DAY's two visitors signed up: 50 %, one decimal as upstream.
    assert response.json() == {
        "results": {
            "visitors": {"value": 1},
            "events": {"value": 1},
            "pageviews": {"value": 0},
            "conversion_rate": {"value": 50.0},
        }
    }
    page_goal = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,pageviews",
        filters="event:goal==Visit /blog/a",
        **custom(),
    )
    assert page_goal.json() == {"results": {"visitors": {"value": 1}, "pageviews": {"value": 1}}}


def test_goal_filter_with_other_filters_and_comparison(client, key, goals):
    # The denominator keeps the visit filters: among German visitors nobody signed up.
    response = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,conversion_rate",
        filters="event:goal==Signup;visit:country==DE",
        **custom(),
    )
    assert response.json() == {
        "results": {"visitors": {"value": 0}, "conversion_rate": {"value": 0}}
    }
    compared = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,conversion_rate",
        filters="event:goal==Signup",
        compare="previous_period",
        period="day",
        date=str(DAY),
    )
    # The day before had one visitor and no sign-up: conversion rate changes in points.
    assert compared.json() == {
        "results": {
            "visitors": {"value": 1, "change": 100},
            "conversion_rate": {"value": 50.0, "change": 50.0},
        }
    }


def test_goal_breakdown_v1_and_v2(client, key, goals):
    response = v1(
        client,
        "breakdown",
        key,
        property="event:goal",
        metrics="visitors,events,conversion_rate",
        **custom(),
    )
    assert response.json() == {
        "results": [
            {"goal": "Signup", "visitors": 1, "events": 1, "conversion_rate": 50.0},
            {"goal": "Visit /blog/a", "visitors": 1, "events": 1, "conversion_rate": 50.0},
        ]
    }
    query = v2(
        client,
        key,
        {
            "metrics": ["visitors", "conversion_rate"],
            "date_range": [str(DAY), str(DAY)],
            "dimensions": ["event:goal"],
            "filters": [["is", "event:goal", ["Signup"]]],
        },
    )
    assert query.status_code == 200, query.json()
    assert query.json()["results"] == [{"metrics": [1, 50.0], "dimensions": ["Signup"]}]


def test_goal_timeseries_conversion_rate_per_day(client, key, goals):
    response = v1(
        client,
        "timeseries",
        key,
        metrics="visitors,conversion_rate",
        filters="event:goal==Signup",
        period="custom",
        date=f"{DAY - timedelta(days=1)},{DAY}",
    )
    assert response.json() == {
        "results": [
            {"date": str(DAY - timedelta(days=1)), "visitors": 0, "conversion_rate": 0},
            {"date": str(DAY), "visitors": 1, "conversion_rate": 50.0},
        ]
    }


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("event:goal==Nope", f"The goal `Nope` is not configured for this site. {GOALS_DOCS}"),
        (
            "event:goal==Visit /nope",
            f"The pageview goal for the pathname `/nope` is not configured for this site. "
            f"{GOALS_DOCS}",
        ),
    ],
)
def test_unconfigured_goals_are_refused_as_upstream(client, key, goals, filters, message):
    response = v1(client, "aggregate", key, filters=filters, **custom())
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_v2_goal_filter_only_at_the_top_level(client, key, goals):
    response = v2(
        client,
        key,
        {
            "metrics": ["visitors"],
            "date_range": "7d",
            "filters": [["or", [["is", "event:goal", ["Signup"]], ["is", "event:page", ["/"]]]]],
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid filters. Dimension `event:goal` can only be filtered at the top level."
    }
    unknown = v2(
        client,
        key,
        {
            "metrics": ["visitors"],
            "date_range": "7d",
            "filters": [["is", "event:goal", ["Visit /nope"]]],
        },
    )
    assert unknown.json() == {
        "error": f"The goal `Visit /nope` is not configured for this site. {GOALS_DOCS}"
    }


# --- custom properties and the events metric ---------------------------------------------------


def test_custom_property_breakdown_lists_none_for_events_without_it(client, key, traffic):
    response = v1(
        client, "breakdown", key, property="event:props:plan", metrics="visitors,events", **custom()
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "results": [
            {"plan": "(none)", "visitors": 2, "events": 3},
            {"plan": "pro", "visitors": 1, "events": 1},
        ]
    }
    filtered = v1(
        client,
        "breakdown",
        key,
        property="event:props:plan",
        filters="visit:source==Google",
        **custom(),
    )
    assert filtered.json() == {
        "results": [{"plan": "(none)", "visitors": 1}, {"plan": "pro", "visitors": 1}]
    }
    query = v2(
        client,
        key,
        {
            "metrics": ["visitors", "visits", "events"],
            "date_range": [str(DAY), str(DAY)],
            "dimensions": ["event:props:plan"],
            "filters": [["is", "event:props:plan", ["pro"]]],
        },
    )
    assert query.json()["results"] == [{"metrics": [1, 1, 1], "dimensions": ["pro"]}]


def test_events_metric_in_page_and_name_breakdowns_and_timeseries(client, key, traffic):
    pages = v1(
        client, "breakdown", key, property="event:page", metrics="visitors,events", **custom()
    )
    # /blog/a had a page view and the Signup event.
    assert pages.json() == {
        "results": [
            {"page": "/", "visitors": 2, "events": 2},
            {"page": "/blog/a", "visitors": 1, "events": 2},
        ]
    }
    names = v1(client, "breakdown", key, property="event:name", metrics="events", **custom())
    assert names.json() == {
        "results": [{"name": "pageview", "events": 3}, {"name": "Signup", "events": 1}]
    }
    series = v1(
        client,
        "timeseries",
        key,
        metrics="events,visitors",
        period="custom",
        date=f"{DAY - timedelta(days=1)},{DAY}",
    )
    assert series.json() == {
        "results": [
            {"date": str(DAY - timedelta(days=1)), "events": 1, "visitors": 1},
            {"date": str(DAY), "events": 4, "visitors": 2},
        ]
    }


# --- time on page -------------------------------------------------------------------------------


def test_time_on_page_with_a_page_filter_and_in_a_page_breakdown(client, key, traffic):
    # Visitor 1: / at 09:00, /blog/a at 09:01, Signup at 09:01:30; visitor 2 never moves on.
    aggregate = v1(
        client,
        "aggregate",
        key,
        metrics="visitors,time_on_page",
        filters="event:page==/",
        **custom(),
    )
    assert aggregate.json() == {
        "results": {"visitors": {"value": 2}, "time_on_page": {"value": 60}}
    }
    breakdown = v1(
        client, "breakdown", key, property="event:page", metrics="visitors,time_on_page", **custom()
    )
    assert breakdown.json() == {
        "results": [
            {"page": "/", "visitors": 2, "time_on_page": 60},
            {"page": "/blog/a", "visitors": 1, "time_on_page": 30},
        ]
    }
    wildcard = v1(
        client, "aggregate", key, metrics="time_on_page", filters="event:page==/**", **custom()
    )
    assert wildcard.json() == {"results": {"time_on_page": {"value": 45}}}


def test_time_on_page_in_a_sites_time_zone(client, key, site):
    site.timezone = "America/New_York"
    site.save()
    # 03:00 and 03:02 UTC on DAY are 22:00 and 22:02 the evening before in New York.
    store(
        [
            event_row(site.pk, at(DAY, 3), visitor=5, session=5, path="/late"),
            event_row(site.pk, at(DAY, 3, 2), visitor=5, session=5, path="/later"),
        ]
    )
    evening = custom(DAY - timedelta(days=1))
    response = v1(
        client, "aggregate", key, metrics="time_on_page", filters="event:page==/late", **evening
    )
    assert response.json() == {"results": {"time_on_page": {"value": 120}}}
    assert v1(
        client, "aggregate", key, metrics="time_on_page", filters="event:page==/late", **custom()
    ).json() == {"results": {"time_on_page": {"value": 0}}}


# --- Plausible's refusals, word for word -------------------------------------------------------

V1_REFUSALS = [
    (
        "aggregate",
        {"metrics": "time_on_page"},
        "Metric `time_on_page` can only be queried in a page breakdown or with a page filter.",
    ),
    (
        "breakdown",
        {"metrics": "time_on_page", "property": "visit:source"},
        "Metric `time_on_page` is not supported in breakdown queries (except `event:page` "
        "breakdown)",
    ),
    (
        "aggregate",
        {"metrics": "time_on_page", "filters": "event:name==Signup"},
        "Metric `time_on_page` cannot be queried when filtering by `event:name`",
    ),
    (
        "aggregate",
        {"metrics": "time_on_page", "filters": "event:goal==Signup;event:page==/"},
        "Metric `time_on_page` cannot be queried when filtering by `event:goal`",
    ),
    (
        "breakdown",
        {"metrics": "visitors,bounce_rate", "property": "event:props:plan"},
        "Session metric `bounce_rate` cannot be queried for breakdown by `event:props:plan`.",
    ),
    (
        "breakdown",
        {"metrics": "visit_duration", "property": "event:goal"},
        "Session metric `visit_duration` cannot be queried for breakdown by `event:goal`.",
    ),
    (
        "aggregate",
        {"metrics": "visits", "filters": "event:goal==Signup"},
        "Session metric `visits` cannot be queried when using a filter on `event:goal`.",
    ),
    (
        "breakdown",
        {"metrics": "conversion_rate", "property": "visit:source"},
        "Metric `conversion_rate` can only be queried in a goal breakdown or with a goal filter",
    ),
    (
        "breakdown",
        {"metrics": "views_per_visit", "property": "visit:source"},
        "Metric `views_per_visit` is not supported in breakdown queries.",
    ),
]


@pytest.mark.parametrize(("endpoint", "params", "message"), V1_REFUSALS)
def test_v1_refusals_are_plausibles(client, key, goals, endpoint, params, message):
    response = v1(client, endpoint, key, **custom(), **params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


V2_REFUSALS = [
    (
        {"metrics": ["conversion_rate"]},
        "Metric `conversion_rate` can only be queried with event:goal filters or dimensions.",
    ),
    (
        {"metrics": ["views_per_visit"], "dimensions": ["visit:source"]},
        "Metric `views_per_visit` cannot be queried with `dimensions`.",
    ),
    (
        {"metrics": ["views_per_visit"], "filters": [["is", "event:page", ["/"]]]},
        "Metric `views_per_visit` cannot be queried with a filter on `event:page`.",
    ),
    (
        {
            "metrics": ["visitors", "bounce_rate", "visit_duration"],
            "dimensions": ["event:props:plan"],
        },
        "Session metric(s) `bounce_rate, visit_duration` cannot be queried along with event "
        "dimensions.",
    ),
    (
        {"metrics": ["visitors"], "include": {"time_labels": True}},
        "Invalid include.time_labels: requires a time dimension.",
    ),
]


@pytest.mark.parametrize(("body", "message"), V2_REFUSALS)
def test_v2_refusals_are_plausibles(client, key, goals, body, message):
    response = v2(client, key, {"date_range": [str(DAY), str(DAY)], **body})
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_what_footfall_cannot_answer_exactly_is_a_400_never_a_different_number(client, key, goals):
    for params in (
        {"property": "visit:exit_page", "metrics": "bounce_rate"},
        {"property": "visit:source", "metrics": "visitors", "filters": "event:goal==Signup"},
        {"property": "visit:exit_page", "metrics": "pageviews"},
    ):
        response = v1(client, "breakdown", key, **custom(), **params)
        assert response.status_code == 400, params
        assert set(response.json()) == {"error"} and "Footfall" in response.json()["error"]
