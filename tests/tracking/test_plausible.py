"""Plausible's Events API: the seed's examples, short keys, limits and answers."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import SiteFactory
from tracking.models import DroppedEventCount, Event

# The seed's own curl example.
SEED_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/85.0.4183.121 Safari/537.36 OPR/71.0.3770.284"
)
SEED_BODY = {"name": "pageview", "url": "http://dummy.site", "domain": "dummy.site"}


def post(client, body, *, content_type="application/json", ua=SEED_UA, xff="127.0.0.1", **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    extra = {"HTTP_USER_AGENT": ua} if ua is not None else {}
    if xff:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    extra.update(headers)
    return client.post("/api/event", data=data, content_type=content_type, **extra)


def test_seed_curl_example_is_accepted_and_stored(client, site, drain):
    response = post(client, SEED_BODY)
    assert response.status_code == 202
    assert response.json() == {}
    assert response["Access-Control-Allow-Origin"] == "*"
    [event] = drain()
    assert (event.site_id, event.kind, event.name, event.path, event.protocol) == (
        site.pk,
        "pageview",
        "pageview",
        "/",
        "plausible",
    )
    assert event.browser == "Opera"


def test_seed_text_plain_example_with_props(client, site, drain):
    body = '{"name":"pageview","url":"http://dummy.site","domain":"dummy.site","props":{"author":"John Doe","logged_in":"false"}}'
    assert post(client, body, content_type="text/plain").status_code == 202
    [event] = drain()
    assert event.props == {"author": "John Doe", "logged_in": "false"}


def test_seed_revenue_example(client, site, drain):
    body = {
        "name": "Purchase",
        "url": "http://dummy.site",
        "domain": "dummy.site",
        "revenue": {"currency": "USD", "amount": "1322.22"},
    }
    assert post(client, body).status_code == 202
    [event] = drain()
    assert (event.kind, event.name, str(event.revenue_amount), event.revenue_currency) == (
        "custom",
        "Purchase",
        "1322.2200",
        "USD",
    )


@pytest.mark.parametrize(
    "revenue",
    [
        {"currency": "XXXX", "amount": 1},
        {"currency": "USD", "amount": "abc"},
        {"currency": "USD"},
        "not json",
    ],
)
def test_invalid_revenue_records_the_event_without_revenue(client, site, drain, revenue):
    body = {
        "name": "Purchase",
        "url": "http://dummy.site",
        "domain": "dummy.site",
        "revenue": revenue,
    }
    assert post(client, body).status_code == 202
    [event] = drain()
    assert event.revenue_amount is None and event.revenue_currency == ""


def test_short_keys_and_json_encoded_props(client, site, drain):
    body = {
        "n": "Signup",
        "u": "https://dummy.site/join?utm_source=news&utm_campaign=fall",
        "d": "dummy.site",
        "r": None,
        "p": json.dumps({"plan": "pro", "seats": 3, "nested": {"x": 1}}),
        "$": json.dumps({"currency": "EUR", "amount": 9.5}),
        "w": 1280,
        "i": False,
    }
    assert post(client, body).status_code == 202
    [event] = drain()
    assert event.name == "Signup" and event.kind == "custom"
    assert event.path == "/join"
    assert event.props == {"plan": "pro", "seats": "3"}
    assert (str(event.revenue_amount), event.revenue_currency) == ("9.5000", "EUR")
    assert (event.utm_source, event.utm_campaign, event.screen_width, event.interactive) == (
        "news",
        "fall",
        1280,
        False,
    )


def test_engagement_is_neither_pageview_nor_custom(client, site, drain):
    post(client, {"n": "pageview", "u": "https://dummy.site/a", "d": "dummy.site"})
    post(
        client,
        {"n": "engagement", "u": "https://dummy.site/a", "d": "dummy.site", "sd": 80, "e": 12000},
    )
    pageview, engagement = drain()
    assert engagement.kind == "engagement"
    assert (engagement.scroll_depth, engagement.duration_ms) == (80, 12000)
    assert engagement.session_id == pageview.session_id


def test_more_than_thirty_props_keeps_thirty(client, site, drain):
    props = {f"k{i:02}": str(i) for i in range(40)}
    assert post(client, dict(SEED_BODY, props=props)).status_code == 202
    [event] = drain()
    assert event.props == {f"k{i:02}": str(i) for i in range(30)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://dummy.site", "domain": "dummy.site"}, "name"),
        ({"name": "pageview", "domain": "dummy.site"}, "url"),
        ({"name": "pageview", "url": "http://dummy.site"}, "domain"),
        ({"name": "pageview", "url": "data:text/html,hi", "domain": "dummy.site"}, "url"),
        (
            {"name": "pageview", "url": "http://dummy.site/" + "a" * 2001, "domain": "dummy.site"},
            "url",
        ),
        ({"name": "x" * 121, "url": "http://dummy.site", "domain": "dummy.site"}, "name"),
    ],
)
def test_bad_body_is_400_with_errors_and_stores_nothing(client, site, drain, body, field):
    response = post(client, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert drain() == []


def test_unparsable_body_and_missing_user_agent(client, site, drain):
    response = post(client, "{not json", content_type="text/plain")
    assert response.status_code == 400
    assert response.json() == {"errors": {"request": ["Unable to parse request body as json"]}}
    response = post(client, SEED_BODY, ua=None)
    assert response.status_code == 400
    assert response.json() == {"errors": {"user_agent": ["can't be blank"]}}
    assert drain() == []


def test_oversized_body_is_refused(client, site, drain):
    body = dict(SEED_BODY, props={"big": "x" * 70_000})
    assert post(client, body).status_code == 413
    assert drain() == []


def test_debug_request_answers_200_with_the_ip_used(client, site, drain):
    response = post(client, SEED_BODY, xff="203.0.113.9, 10.0.0.1", HTTP_X_DEBUG_REQUEST="true")
    assert response.status_code == 200
    assert response.json() == {"ip": "203.0.113.9"}


def test_x_forwarded_for_decides_the_visitor(client, site, drain):
    post(client, SEED_BODY, xff="203.0.113.1")
    post(client, SEED_BODY, xff="203.0.113.1")
    post(client, SEED_BODY, xff="203.0.113.2")
    first, second, third = drain()
    assert first.visitor_id == second.visitor_id != third.visitor_id


def test_bot_is_dropped_with_header_and_counted(client, site, drain):
    response = post(
        client,
        SEED_BODY,
        ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert response.status_code == 202
    assert response["x-plausible-dropped"] == "1"
    assert drain() == []
    from tracking.drops import flush_drop_counts

    flush_drop_counts()
    assert DroppedEventCount.objects.get(site=site, reason="bot").count == 1


def test_several_domains_record_one_event_per_known_site(client, site, drain):
    other = SiteFactory(hostname="other.site")
    response = post(client, dict(SEED_BODY, domain="dummy.site,other.site,unknown.site"))
    assert response.status_code == 202
    assert response["x-plausible-dropped"] == "1"
    assert sorted(e.site_id for e in drain()) == sorted([site.pk, other.pk])


def test_unknown_domain_is_dropped_not_an_error(client, db, drain):
    response = post(client, dict(SEED_BODY, domain="nobody.example"))
    assert response.status_code == 202
    assert response["x-plausible-dropped"] == "1"
    assert drain() == []


def test_preflight_and_cors(client, site):
    response = client.options(
        "/api/event",
        HTTP_ORIGIN="https://dummy.site",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://dummy.site"
    assert "content-type" in response["Access-Control-Allow-Headers"]


def test_buffer_outage_answers_503_never_202(client, site, settings, drain):
    from tracking import buffer

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    buffer.reset_clients()
    try:
        response = post(client, SEED_BODY)
    finally:
        buffer.reset_clients()
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "errors" in response.json()


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "name",
                            "n",
                            "url",
                            "u",
                            "domain",
                            "d",
                            "props",
                            "p",
                            "revenue",
                            "$",
                            "referrer",
                            "r",
                            "w",
                            "sd",
                            "e",
                            "i",
                            "h",
                        ]
                    )
                    | st.text(max_size=5),
                    c,
                    max_size=6,
                )
            ),
            max_leaves=20,
        ),
    )
)
def test_random_bodies_never_cause_a_server_error(client, site, body):
    data = body if isinstance(body, bytes) else json.dumps(body)
    response = post(client, data, content_type="text/plain")
    assert response.status_code in (202, 400)
    if response.status_code == 400:
        assert isinstance(response.json()["errors"], dict)
    assert not Event.objects.exists()  # nothing is written synchronously on the request path


def test_hash_mode_keeps_the_fragment_as_the_route(client, site, drain):
    base = {"name": "pageview", "domain": "dummy.site"}
    assert (
        post(client, {**base, "url": "http://dummy.site/app#/settings", "h": 1}).status_code == 202
    )
    assert post(client, {**base, "url": "http://dummy.site/app#section-2"}).status_code == 202
    paths = sorted(event.path for event in drain())
    assert paths == ["/app", "/app#/settings"]
