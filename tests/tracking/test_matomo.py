"""Matomo's Tracking HTTP API: the seed's examples, parameters, token_auth, bulk, answers."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.models import Event

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


def track(
    client,
    params,
    *,
    method="get",
    path="/matomo.php",
    ua=CHROME,
    body=None,
    content_type="application/x-www-form-urlencoded",
):
    extra = {"HTTP_USER_AGENT": ua} if ua else {}
    query = urlencode(params) if isinstance(params, dict) else params
    if method == "get":
        return client.get(f"{path}?{query}", **extra)
    return client.post(
        f"{path}?{query}" if query else path, data=body or "", content_type=content_type, **extra
    )


@pytest.fixture
def token(site):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    _client, payload = api_client_create(user=owner, type="matomo", site=site)
    return payload["key"]


def test_seed_mobile_app_example(client, site, drain):
    # The seed's Piwik Mobile request (values not URL-encoded there; encoded here).
    params = {
        "_cvar": '{"1":["OS","iphone 5.0"],"2":["Piwik Mobile Version","1.6.2"],"3":["Locale","en::en"],"4":["Num Accounts","2"]}',
        "action_name": "View settings",
        "url": "http://mobileapp.piwik.org/window/settings ",
        "idsite": str(site.pk),
        "rand": "351459",
        "h": "18",
        "m": "13",
        "s": "3",
        "rec": "1",
        "apiv": "1",
        "cookie": "",
        "urlref": "http://iphone.mobileapp.piwik.org",
        "_id": "af344a398df83874",
        "_idvc": "19",
        "res": "320×480",
    }
    response = track(client, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert len(response.content) == 43
    [event] = drain()
    assert (event.kind, event.title, event.path, event.protocol) == (
        "pageview",
        "View settings",
        "/window/settings",
        "matomo",
    )
    assert (event.screen_width, event.screen_height) == (320, 480)
    assert event.props == {
        "OS": "iphone 5.0",
        "Piwik Mobile Version": "1.6.2",
        "Locale": "en::en",
        "Num Accounts": "2",
        "visit_count": "19",
        "local_time": "18:13:03",
    }
    assert event.referrer_host == "iphone.mobileapp.piwik.org"


def test_seed_bulk_example(client, site, drain):
    body = {
        "requests": [
            f"?idsite={site.pk}&url=http://example.org&action_name=Test bulk log Pageview&rec=1",
            f"?idsite={site.pk}&url=http://example.net/test.htm&action_name=Another bul k page view&rec=1",
        ]
    }
    response = client.post(
        "/piwik.php",
        data=json.dumps(body),
        content_type="application/x-www-form-urlencoded",
        HTTP_USER_AGENT=CHROME,
    )
    assert response.status_code == 200
    assert response.json() == {"status": "success", "tracked": 2, "invalid": 0}
    assert [e.title for e in drain()] == ["Test bulk log Pageview", "Another bul k page view"]


def test_bulk_counts_invalid_requests_and_lists_them_for_token_holders(client, site, token, drain):
    body = {
        "requests": [
            f"?idsite={site.pk}&rec=1&url=http://a.example/",
            "?idsite=99999&rec=1&url=http://x/",
            f"?idsite={site.pk}&url=http://a.example/",
            7,
        ]
    }
    response = client.post(
        "/matomo.php",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_USER_AGENT=CHROME,
    )
    assert response.json() == {"status": "success", "tracked": 1, "invalid": 3}
    body["token_auth"] = token
    response = client.post(
        "/matomo.php",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_USER_AGENT=CHROME,
    )
    assert response.json() == {
        "status": "success",
        "tracked": 1,
        "invalid": 3,
        "invalid_indices": [1, 2, 3],
    }
    assert len(drain()) == 2


def test_bulk_over_the_limit_is_refused_and_stores_nothing(client, site, drain):
    body = {"requests": [f"?idsite={site.pk}&rec=1&url=http://a.example/"] * 1001}
    response = client.post("/matomo.php", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert drain() == []


def test_post_form_body_and_send_image_zero(client, site, drain):
    body = urlencode(
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/form", "send_image": 0}
    )
    response = track(client, "", method="post", body=body)
    assert response.status_code == 204
    assert drain()[0].path == "/form"


def test_send_beacon_query_with_empty_body_and_ua_parameter(client, site, drain):
    response = track(
        client,
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/b", "ua": CHROME, "lang": "fr-FR"},
        method="post",
        ua=None,
        content_type="text/plain",
    )
    assert response.status_code == 200
    [event] = drain()
    assert (event.browser, event.language) == ("Chrome", "fr")


def test_no_parameters_shows_a_text_page_and_tracking_nothing_is_400(client, site, drain):
    response = client.get("/matomo.php")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert (
        track(client, {"idsite": site.pk, "url": "https://a.example/"}).status_code == 400
    )  # no rec
    assert (
        track(client, {"idsite": 424242, "rec": 1, "url": "https://a.example/"}).status_code == 400
    )
    assert (
        track(client, {"idsite": "abc", "rec": 1, "url": "https://a.example/"}).status_code == 400
    )
    assert (
        track(
            client, {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "e_c": "Videos"}
        ).status_code
        == 400
    )
    assert drain() == []


def test_undefined_and_unknown_parameters_are_ignored(client, site, drain):
    params = {
        "idsite": site.pk,
        "rec": 1,
        "url": "https://a.example/",
        "urlref": "undefined",
        "pv_id": "abc123",
        "dimension1": "x",
        "uadata": "{}",
        "action_name": "undefined",
    }
    assert track(client, params).status_code == 200
    [event] = drain()
    assert (event.referrer, event.title) == ("", "")


def test_events_downloads_outlinks_search_goals_and_ecommerce(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/shop", "_id": "0123456789abcdef"}
    for extra in [
        {"e_c": "Videos", "e_a": "Play", "e_n": "Intro", "e_v": "12.5"},
        {"download": "https://a.example/file.pdf"},
        {"link": "https://elsewhere.example/"},
        {"search": "shoes", "search_cat": "shop", "search_count": "0"},
        {"idgoal": "3", "revenue": "9.99"},
        {
            "idgoal": "0",
            "ec_id": "A1",
            "revenue": "120.5",
            "ec_st": "100",
            "ec_tx": "20",
            "ec_sh": "0.5",
            "ec_items": '[["SKU1","Shoe","Shoes",50,2]]',
        },
        {"idgoal": "0"},
        {"c_n": "Ad Foo", "c_p": "/img/ad.png", "c_t": "https://a.example/land"},
        {"c_n": "Ad Foo", "c_p": "/img/ad.png", "c_i": "click"},
    ]:
        assert track(client, {**base, **extra}).status_code == 200
    events = drain()
    assert [(e.kind, e.name) for e in events] == [
        ("custom", "Videos"),
        ("custom", "File Download"),
        ("custom", "Outbound Link: Click"),
        ("custom", "Site Search"),
        ("custom", "Goal 3"),
        ("custom", "Ecommerce Order"),
        ("custom", "Cart Update"),
        ("custom", "Content Impression"),
        ("custom", "Content Interaction"),
    ]
    assert events[0].props == {
        "category": "Videos",
        "action": "Play",
        "name": "Intro",
        "value": "12.5",
    }
    assert events[3].props == {"keyword": "shoes", "category": "shop", "count": "0"}
    assert str(events[4].revenue_amount) == "9.9900"
    assert events[5].props["order_id"] == "A1" and json.loads(events[5].props["items"]) == [
        ["SKU1", "Shoe", ["Shoes"], "50", 2]
    ]
    assert str(events[5].revenue_amount) == "120.5000"
    assert events[7].interactive is False
    assert len({e.visitor_id for e in events}) == 1


def test_visitor_ids_uid_rule_and_new_visit(client, site, drain):
    track(
        client,
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/1", "uid": "alice@example.com"},
    )
    track(
        client,
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/2", "uid": "alice@example.com"},
        ua="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    )
    track(
        client,
        {
            "idsite": site.pk,
            "rec": 1,
            "url": "https://a.example/3",
            "uid": "alice@example.com",
            "new_visit": 1,
        },
    )
    track(
        client,
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/4", "cid": "ABCDEF0123456789"},
    )
    track(
        client,
        {"idsite": site.pk, "rec": 1, "url": "https://a.example/5", "_id": "abcdef0123456789"},
    )
    first, second, third, fourth, fifth = drain()
    assert first.visitor_id == second.visitor_id == third.visitor_id
    assert first.session_id == second.session_id != third.session_id
    assert fourth.visitor_id == fifth.visitor_id != first.visitor_id


def test_campaign_only_on_the_first_pageview_of_a_visit(client, site, drain):
    track(
        client,
        {
            "idsite": site.pk,
            "rec": 1,
            "url": "https://a.example/1",
            "_id": "0123456789abcdef",
            "_rcn": "spring",
            "_rck": "shoes",
        },
    )
    track(
        client,
        {
            "idsite": site.pk,
            "rec": 1,
            "url": "https://a.example/2",
            "_id": "0123456789abcdef",
            "_rcn": "other",
        },
    )
    first, second = drain()
    assert (first.utm_campaign, first.utm_term) == ("spring", "shoes")
    assert second.utm_campaign == "spring"


def test_token_only_parameters_need_an_admin_token(client, site, token, settings, drain):
    settings.GEOIP_DATABASE = "/nonexistent.mmdb"
    old = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/"}
    # Without a token: an old cdt is refused, overrides are ignored, a recent cdt is fine.
    assert track(client, {**base, "cdt": old}).status_code == 400
    assert (
        track(client, {**base, "cdt": recent, "country": "fr", "cip": "203.0.113.5"}).status_code
        == 200
    )
    # A viewer's token does not count.
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    viewer_token = api_client_create(user=viewer, type="matomo")[1]["key"]
    assert track(client, {**base, "cdt": old, "token_auth": viewer_token}).status_code == 400
    # With the owner's token everything is honoured.
    assert (
        track(
            client,
            {
                **base,
                "cdt": old,
                "country": "fr",
                "region": "IDF",
                "city": "Paris",
                "token_auth": token,
            },
        ).status_code
        == 200
    )
    authorized, unauthorized = drain()  # ordered by time: the back-dated one first
    assert (
        unauthorized.country_code == ""
        and unauthorized.timestamp.strftime("%Y-%m-%d %H:%M:%S") == recent
    )
    assert (authorized.country_code, authorized.region, authorized.city) == ("FR", "IDF", "Paris")
    assert authorized.timestamp.strftime("%Y-%m-%d %H:%M:%S") == old


def test_bots_are_dropped_unless_bots_1(client, site, drain):
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert (
        track(
            client, {"idsite": site.pk, "rec": 1, "url": "https://a.example/"}, ua=googlebot
        ).status_code
        == 200
    )
    assert drain() == []
    assert (
        track(
            client,
            {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "bots": 1},
            ua=googlebot,
        ).status_code
        == 200
    )
    assert len(drain()) == 1


def test_ping_extends_the_visit(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "_id": "0123456789abcdef"}
    track(client, base)
    track(client, {**base, "ping": 1})
    pageview, ping = drain()
    assert (ping.kind, ping.session_id) == ("heartbeat", pageview.session_id)
    assert Event.objects.filter(kind="pageview").count() == 1


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "idsite",
                "rec",
                "url",
                "action_name",
                "_id",
                "cid",
                "uid",
                "res",
                "cdt",
                "e_c",
                "e_a",
                "e_v",
                "idgoal",
                "revenue",
                "ec_items",
                "_cvar",
                "ping",
                "send_image",
                "search_count",
                "ca",
                "cs",
                "debug",
                "_viewts",
                "_idts",
                "h",
                "ma_id",
                "ec_id",
            ]
        )
        | st.text(max_size=6),
        st.text(max_size=40),
        max_size=10,
    )
)
def test_random_parameters_never_cause_a_server_error(client, site, params):
    response = track(client, params)
    assert response.status_code in (200, 204, 400)
