"""Plausible's Stats API (v1 and v2) on Footfall: keys, periods, metrics, filters, errors."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.services import api_client_create, api_client_revoke
from stats.api.plausible.authentication import (
    INVALID_KEY_OR_SITE,
    MISSING_KEY,
    MISSING_SITE_ID,
)
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

DAY = date(2026, 11, 10)  # a Tuesday, long past (raw events, no rollups)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="shop.example", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def key(owner):
    return api_client_create(user=owner, type="plausible")[1]["key"]


@pytest.fixture
def traffic(site):
    """DAY: visitor 1 (Google) views / and /blog/a then signs up; visitor 2 bounces on /.
    The day before: one visitor, one view."""
    google = {
        "referrer": "https://www.google.com/",
        "source": "Google",
        "channel": "Organic Search",
    }
    rows = [
        event_row(site.pk, at(DAY, 9), visitor=1, session=11, path="/", **google),
        event_row(site.pk, at(DAY, 9, 1), visitor=1, session=11, path="/blog/a", **google),
        event_row(
            site.pk,
            at(DAY, 9, 1, 30),
            visitor=1,
            session=11,
            kind="custom",
            name="Signup",
            path="/blog/a",
            props={"plan": "pro"},
            **google,
        ),
        event_row(site.pk, at(DAY, 14), visitor=2, session=22, path="/", country_code="DE"),
        event_row(site.pk, at(DAY - timedelta(days=1), 8), visitor=3, session=33, path="/"),
    ]
    store(rows)


def v1(client, path, key, **params):
    params.setdefault("site_id", "shop.example")
    return client.get(f"/api/v1/stats/{path}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def v2(client, key, body):
    import json

    return client.post(
        "/api/v2/query",
        json.dumps({"site_id": "shop.example", **body}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def custom(day: date = DAY) -> dict:
    return {"period": "custom", "date": f"{day},{day}"}


# --- keys ----------------------------------------------------------------------------------


def test_missing_key_is_401_with_plausibles_message(client, site):
    response = client.get("/api/v1/stats/aggregate", {"site_id": "shop.example"})
    assert response.status_code == 401
    assert response.json() == {"error": MISSING_KEY}


def test_bad_key_and_other_kinds_of_key_are_401(client, owner, site):
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    for value in ("bad-key", read_key, "pl_" + "x" * 61):
        response = v1(client, "aggregate", value)
        assert response.status_code == 401
        assert response.json() == {"error": INVALID_KEY_OR_SITE}


def test_unknown_site_and_missing_site_id(client, key, site):
    assert v1(client, "aggregate", key, site_id="nope.example").json() == {
        "error": INVALID_KEY_OR_SITE
    }
    response = client.get("/api/v1/stats/aggregate", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert response.json() == {"error": MISSING_SITE_ID}


def test_key_without_stats_scope_and_revoked_key_are_refused(client, owner, site):
    sites_only = api_client_create(user=owner, type="plausible", scopes=["sites"])
    assert v1(client, "aggregate", sites_only[1]["key"]).status_code == 401
    client_obj, payload = api_client_create(user=owner, type="plausible")
    assert v1(client, "aggregate", payload["key"]).status_code == 200
    api_client_revoke(client=client_obj)
    assert v1(client, "aggregate", payload["key"]).status_code == 401


def test_empty_site_answers_zero_as_upstream(client, key, site):
    response = v1(client, "aggregate", key, metrics="pageviews")
    assert response.status_code == 200
    assert response.json() == {"results": {"pageviews": {"value": 0}}}


# --- v1 aggregate ----------------------------------------------------------------------------


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


# --- v1 timeseries and breakdown ---------------------------------------------------------------


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
    assert names == {"results": [{"name": "Signup", "visitors": 1}]}


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


# --- v2 ------------------------------------------------------------------------------------


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


def test_a_key_never_reads_another_accounts_site(client, key, traffic):
    """Cross-tenant: account B's key asks for account A's site by its domain, in v1 and v2."""
    other = UserFactory()
    own = SiteFactory(hostname="shop.example")  # B's own site with the same name: empty
    SiteMembershipFactory(site=own, user=other, role="owner")
    other_key = api_client_create(user=other, type="plausible")[1]["key"]
    response = v1(client, "aggregate", other_key, **custom())
    assert response.json() == {"results": {"visitors": {"value": 0}}}
    lonely = UserFactory()
    lonely_key = api_client_create(user=lonely, type="plausible")[1]["key"]
    for path in ("aggregate", "timeseries", "realtime/visitors"):
        assert v1(client, path, lonely_key).status_code == 401
    assert v1(client, "breakdown", lonely_key, property="event:page").status_code == 401
    body = {"metrics": ["visitors"], "date_range": [str(DAY), str(DAY)]}
    assert v2(client, lonely_key, body).json() == {"error": INVALID_KEY_OR_SITE}


# --- keys: the command line and the dashboard ----------------------------------------------


def test_manage_py_client_create_plausible_prints_the_key_once(capsys, owner):
    import hashlib
    import json

    from django.core.management import CommandError, call_command

    from accounts.models import ApiClient

    call_command("client", "create", "--user", owner.email, "--type", "plausible")
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"id", "type", "scopes", "key"}
    assert payload["type"] == "plausible" and payload["scopes"] == ["stats"]
    call_command(
        "client", "create", "--user", owner.email, "--type", "plausible", "--scopes", "stats,sites"
    )
    both = json.loads(capsys.readouterr().out)
    assert both["scopes"] == ["stats", "sites"]
    stored = ApiClient.objects.get(public_id=both["id"])
    assert stored.site_id is None  # an account-level key
    assert stored.key_hash == hashlib.sha256(both["key"].encode()).hexdigest()
    assert both["key"] not in json.dumps(list(ApiClient.objects.values()), default=str)
    call_command("client", "list", "--user", owner.email)
    assert both["key"] not in capsys.readouterr().out
    with pytest.raises(CommandError, match="Scopes not allowed"):
        call_command(
            "client",
            "create",
            "--user",
            owner.email,
            "--type",
            "plausible",
            "--scopes",
            "hits:write",
        )


def test_dashboard_api_clients_section_creates_and_lists_plausible_keys(client, owner, site):
    client.force_login(owner)
    page = client.get("/account/clients").content.decode()
    assert 'value="plausible"' in page and 'value="sites"' in page
    created = client.post(
        "/account/clients/new", {"type": "plausible", "scopes": ["stats", "sites"]}
    )
    assert created.status_code == 200
    from accounts.models import ApiClient

    stored = ApiClient.objects.get(user=owner, type="plausible")
    assert stored.scopes == ["stats", "sites"]
    body = created.content.decode()
    key = next(
        word
        for word in body.replace("<", " ").replace(">", " ").split()
        if word.startswith("pl_") and len(word) == 64
    )
    assert v1(client, "aggregate", key).status_code == 200
    listing = client.get("/account/clients").content.decode()
    assert f"pl_…{stored.key_last4}" in listing and key not in listing


def test_rolled_up_days_give_the_same_answers(client, key, traffic):
    """Past days move to the rollups: every answer stays what the raw events gave."""
    from stats.rollups import rollup_pending

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
