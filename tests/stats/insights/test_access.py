"""Insights API: keys, dates, unknown paths, tenants, query counts, the rate limit, and
signals end to end from the collection endpoint."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import api_client_create
from stats import insights
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import store
from tests.stats.insights.support import (
    INSIGHTS,
    NOON,
    api,
    data,
    traffic_with,
)

# --- access, dates and errors -----------------------------------------------------------


@pytest.mark.parametrize("name", INSIGHTS)
def test_every_insight_answers_an_empty_period(client, read_key, name):
    body = data(client, name, read_key)
    assert body["pagination"]["total"] == 0 and body["pagination"]["has_next"] is False


@pytest.mark.parametrize("name", INSIGHTS)
def test_every_insight_needs_a_read_key(client, site, owner, name):
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    for key in ("", site.public_key, pa_key):
        response = api(client, name, key)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("name", INSIGHTS)
def test_bad_dates_are_invalid_date(client, read_key, name):
    for params in ({"start_date": "2026-1-5"}, {"end_date": "2026-01-04"}):
        response = api(client, name, read_key, **params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_date"


def test_unknown_insight_is_not_found(client, read_key):
    for path in ("insights/unknown", "insights/errors/extra", "insights"):
        response = client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {read_key}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_another_tenants_keys_see_nothing_of_this_site(client, site, frustrated):
    stranger = UserFactory()
    their_site = SiteFactory(hostname="theirs.site")
    SiteMembershipFactory(site=their_site, user=stranger, role="owner")
    site_key = api_client_create(user=stranger, type="read", site=their_site)[1]["key"]
    body = data(client, "frustration", site_key)
    assert body["data"]["average"] == {"avg_score": 0, "visitor_count": 0}
    account_key = api_client_create(user=stranger, type="read")[1]["key"]
    for name in INSIGHTS:
        response = api(client, name, account_key, site=site.public_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_query_counts_do_not_grow_with_the_rows(db):
    small, large = SiteFactory(hostname="small.site"), SiteFactory(hostname="large.site")
    store(traffic_with(small, 1) + traffic_with(large, 12))
    period = insights.Period.of_days(NOON.date(), NOON.date(), "UTC")
    selectors = {
        "frustration": insights.frustration,
        "errors": insights.errors,
        "clicks": insights.clicks,
        "seo": insights.seo,
        "journeys": insights.journeys,
        "reading": insights.reading,
        "forms": insights.forms,
        "acquisition": insights.acquisition,
        "web_metrics": insights.web_metrics,
    }
    assert insights.clicks(large.pk, period).total == 12
    assert insights.forms(large.pk, period).totals == {"abandonments": 12, "hesitations": 12}
    expected = {"frustration": 1, "clicks": 2, "seo": 2, "journeys": 1, "errors": 4}
    for name, selector in selectors.items():
        counts = []
        for site in (small, large):
            with CaptureQueriesContext(connection) as queries:
                selector(site.pk, period)
            counts.append(len(queries))
        assert counts[0] == counts[1], name
        if name in expected:
            assert counts[0] == expected[name], name


def test_signals_sent_to_the_collection_endpoint_come_back_as_insights(client, owner, drain):
    """End to end: the snippet's payload through /api/collect, then the insights API."""
    site = SiteFactory(hostname="e2e.site", behaviour_collectors=True)
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    events = [
        {"t": "pageview"},
        {"t": "rage_click", "p": {"selector": "button.buy", "clicks": 5}},
        {"t": "dead_click", "p": {"selector": "div.card"}},
        {"t": "js_exception", "p": {"message": "TypeError: boom", "source": "/app.js"}},
        {"t": "form_abandon", "p": {"form": "form#signup", "fields_touched": 2}},
        {"t": "web_vitals", "p": {"lcp": 1234, "cls": 0.02}},
        {
            "t": "reading_behavior",
            "p": {
                "visible_ms": 10_000,
                "active_ms": 8_000,
                "scroll_depth": 75,
                "scroll_velocity": 120.5,
                "page_height": 4000,
            },
        },
    ]
    response = client.post(
        "/api/collect",
        data=json.dumps({"k": site.public_key, "u": "https://e2e.site/pricing", "e": events}),
        content_type="text/plain",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    )
    assert response.status_code == 202 and response.json()["accepted"] == len(events)
    drain()

    def read(name):
        reply = client.get(f"/api/v1/insights/{name}", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert reply.status_code == 200
        return reply.json()["data"]

    [score] = read("frustration")["scores"]
    assert (score["rage_clicks"], score["dead_clicks"], score["errors"]) == (1, 1, 1)
    assert (score["form_abandons"], score["rapid_navigations"], score["score"]) == (1, 0, 45)
    [error] = read("errors")["errors"]
    assert (error["message"], error["source"], error["pages"]) == (
        "TypeError: boom",
        "/app.js",
        [{"url": "/pricing", "count": 1}],
    )
    assert [(e["selector"], e["url"]) for e in read("clicks")["elements"]] == [
        ("button.buy", "/pricing"),
        ("div.card", "/pricing"),
    ]
    [page] = read("reading")["pages"]
    assert (page["url"], page["views"], page["attention_pct"]) == ("/pricing", 1, 80.0)
    assert read("web-metrics")["web_vitals"]["lcp"] == {
        "samples": 1,
        "p50": 1234,
        "p75": 1234,
        "p95": 1234,
    }


def test_insights_share_the_keys_rate_limit(client, read_key):
    for number in range(60):
        name = INSIGHTS[number % len(INSIGHTS)]
        assert api(client, name, read_key).status_code == 200, number
    response = api(client, "frustration", read_key)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
