"""Matomo compatibility (issue #13, item 4): what real Matomo trackers send and expect.

Missing URLs, ``cs`` charsets, ``uid``, plugin requests (``ca=1``), debug mode, cache and
CORS headers, ecommerce orders, and the visit attributes (``_viewts``, ``_idts``, local
time, plugins). Each behaviour is checked on single requests and in bulk.
"""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from accounts.services import api_client_create, oauth_token_issue
from stats import selectors
from stats.api.identity import serializers
from stats.query import StatsQuery, validate_filters
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.buffer import redis_client
from tracking.drops import flush_drop_counts
from tracking.models import DroppedEventCount, Event

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
VISITOR = "0123456789abcdef"


def get(client, query, **headers):
    query = urlencode(query) if isinstance(query, dict) else query
    return client.get(f"/matomo.php?{query}", HTTP_USER_AGENT=CHROME, **headers)


def bulk(client, requests, *, query="", **extra):
    return client.post(
        f"/matomo.php{query}",
        data=json.dumps({"requests": requests, **extra}),
        content_type="application/json",
        HTTP_USER_AGENT=CHROME,
    )


def dropped(reason: str) -> int:
    flush_drop_counts()
    return sum(DroppedEventCount.objects.filter(reason=reason).values_list("count", flat=True))


@pytest.fixture
def token(site):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return api_client_create(user=owner, type="matomo", site=site)[1]["key"]


# --- url missing or not a URL -------------------------------------------------------------


def test_events_and_searches_without_a_url_are_kept_with_their_page_unknown(client, site, drain):
    # The React Native tracker sends the literal `undefined` when no URL was given.
    base = {"idsite": site.pk, "rec": 1, "_id": VISITOR}
    assert (
        get(client, {**base, "url": "undefined", "e_c": "Video", "e_a": "Play"}).status_code == 200
    )
    assert get(client, {**base, "url": "undefined", "search": "shoes"}).status_code == 200
    assert get(client, {**base, "action_name": "Settings"}).status_code == 200  # no url at all
    assert get(client, {**base, "url": "not a url", "e_c": "A", "e_a": "B"}).status_code == 200
    assert (
        get(client, {**base, "url": "javascript://alert(1)", "e_c": "A", "e_a": "C"}).status_code
        == 200
    )
    events = drain()
    assert [(e.kind, e.name, e.hostname, e.path) for e in events] == [
        ("custom", "Video", "", ""),
        ("custom", "Site Search", "", ""),
        ("pageview", "pageview", "", ""),
        ("custom", "A", "", ""),
        ("custom", "A", "", ""),
    ]
    assert events[2].title == "Settings"


def test_bulk_requests_without_a_url_are_tracked(client, site, drain):
    response = bulk(
        client,
        [
            f"?idsite={site.pk}&rec=1&url=undefined&e_c=Video&e_a=Play",
            {"idsite": site.pk, "rec": 1, "search": "shoes"},
        ],
    )
    assert response.json() == {"status": "success", "tracked": 2, "invalid": 0}
    assert [(e.name, e.path) for e in drain()] == [("Video", ""), ("Site Search", "")]


# --- cs (charset) --------------------------------------------------------------------------


def test_cs_decodes_parameters_from_the_named_charset(client, site, drain):
    query = f"idsite={site.pk}&rec=1&url=https://a.example/caf%E9&action_name=%E9t%E9&cs=ISO-8859-1"
    assert get(client, query).status_code == 200
    # Without cs parameters are UTF-8, as before.
    assert (
        get(
            client, f"idsite={site.pk}&rec=1&url=https://a.example/&action_name=%C3%A9t%C3%A9"
        ).status_code
        == 200
    )
    # An unknown charset falls back to UTF-8 rather than refusing the hit.
    assert (
        get(
            client, f"idsite={site.pk}&rec=1&url=https://a.example/&action_name=%C3%A9&cs=klingon"
        ).status_code
        == 200
    )
    first, second, third = drain()
    assert (first.title, first.path) == ("été", "/café")
    assert second.title == "été"
    assert third.title == "é"


def test_cs_applies_to_raw_form_bodies_and_bulk_requests(client, site, drain):
    body = (
        f"idsite={site.pk}&rec=1&url=https://a.example/&cs=windows-1252&action_name=".encode()
        + "€ été".encode("cp1252")
    )
    response = client.post(
        "/matomo.php",
        data=body,
        content_type="application/x-www-form-urlencoded",
        HTTP_USER_AGENT=CHROME,
    )
    assert response.status_code == 200
    # Without a cs such a body is not UTF-8: refused as before.
    refused = client.post(
        "/matomo.php",
        data=body.replace(b"&cs=windows-1252", b""),
        content_type="application/x-www-form-urlencoded",
        HTTP_USER_AGENT=CHROME,
    )
    assert refused.status_code == 400
    assert (
        bulk(
            client,
            [f"?idsite={site.pk}&rec=1&url=https://a.example/&action_name=%E9t%E9&cs=latin1"],
        ).json()["tracked"]
        == 1
    )
    assert [e.title for e in drain()] == ["€ été", "été"]


# --- uid -----------------------------------------------------------------------------------


def test_uid_is_stored_hashed_never_in_clear(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/"}
    get(client, {**base, "uid": "alice@example.com"})
    get(client, {**base, "uid": "alice@example.com", "e_c": "A", "e_a": "B"})
    bulk(client, [f"?idsite={site.pk}&rec=1&url=https://a.example/&uid=bob%40example.com"])
    if settings.REDIS_URL:  # nothing in the buffer holds the id in clear…
        raw = b"".join(
            value
            for _id, fields in redis_client().xrange(settings.EVENT_STREAM_KEY)
            for value in fields.values()
        )
        assert raw and b"alice" not in raw and b"bob@" not in raw
    alice, alice_event, bob = drain()
    # …nor any stored column; the hash is stable per user and differs between users.
    for event in (alice, alice_event, bob):
        row = json.dumps(Event.objects.filter(pk=event.pk).values().get(), default=str)
        assert "alice" not in row and "bob@" not in row
    assert len(alice.props["uid"]) == 16
    assert alice.props["uid"] == alice_event.props["uid"] != bob.props["uid"]


def test_uid_is_a_filter(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/"}
    get(client, {**base, "uid": "alice@example.com"})
    get(client, {**base, "uid": "bob@example.com", "action_name": "Bob's page"})
    get(client, {**base, "_id": VISITOR})
    drain()
    assert validate_filters({"uid": ["alice@example.com"]}) == {"uid": ["alice@example.com"]}
    today = datetime.now(UTC).date()

    def titles(*values):
        query = StatsQuery(
            site.pk,
            today - timedelta(days=1),
            today + timedelta(days=1),
            filters={"uid": list(values)},
        )
        return sorted(e.title for e in query.events())

    assert titles("bob@example.com") == ["Bob's page"]
    assert len(titles("alice@example.com", "bob@example.com")) == 2
    # "is not" keeps the events of other users only (as Matomo's userId!= segment does).
    assert titles("!alice@example.com") == ["Bob's page"]
    assert titles("~bob@example.com") == ["Bob's page"]  # whole ids only
    assert titles("nobody") == []


def test_uid_filters_the_statistics_api(client, site, drain):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    oauth = api_client_create(user=owner, type="oauth", site=site)[0]
    bearer = f"Bearer {oauth_token_issue(client=oauth)[0]}"
    for uid in ("alice@example.com", "bob@example.com"):
        get(client, {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "uid": uid})
    drain()
    today = datetime.now(UTC).astimezone(ZoneInfo(site.timezone)).date().isoformat()
    base = {"id": site.public_id, "from": today, "to": today}

    def visitors(**filters):
        response = client.get(
            "/api/v1/statistics/total", {**base, **filters}, HTTP_AUTHORIZATION=bearer
        )
        assert response.status_code == 200
        return response.json()["visitors"]

    assert visitors() == 2
    assert visitors(uid="alice@example.com") == 1
    assert visitors(uid="carol@example.com") == 0


def test_uid_filters_the_dashboard(client, site, drain):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    for uid in ("alice@example.com", "bob@example.com"):
        get(client, {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "uid": uid})
    drain()
    client.force_login(owner)
    response = client.get(
        f"/sites/{site.public_id}/", {"period": "today", "uid": "bob@example.com"}
    )
    assert response.status_code == 200
    assert [(c["label"], c["operator"], c["value"]) for c in response.context["chips"]] == [
        ("User ID", "is", "bob@example.com")
    ]
    kpis = {k["key"]: k["value"] for k in response.context["kpis"]}
    assert kpis["visitors"] == "1"


# --- ca=1 without e_c ------------------------------------------------------------------------


def test_plugin_requests_never_count_as_page_views_nor_start_sessions(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/video", "_id": VISITOR, "ca": 1}
    media = {
        "ma_id": "m1",
        "ma_ti": "Intro",
        "ma_mt": "video",
        "ma_st": "12",
        "ma_le": "60",
        "ma_ps": "20",
    }
    # No visit yet: a plugin request must not start one.
    assert get(client, {**base, **media}).status_code == 200
    assert drain() == []
    assert dropped("no_session") == 1
    # Within a visit the media and form requests are kept as behaviour signals.
    get(client, {**{k: v for k, v in base.items() if k != "ca"}})
    assert get(client, {**base, **media}).status_code == 200
    assert (
        get(client, {**base, "fa_id": "signup", "fa_name": "Sign up", "fa_st": 1}).status_code
        == 200
    )
    # Anything else with ca=1 and no event category is dropped with a counted reason.
    assert get(client, {**base, "hsr_vid": "x"}).status_code == 200
    assert (
        bulk(client, [f"?idsite={site.pk}&rec=1&url=https://a.example/&_id={VISITOR}&ca=1"]).json()[
            "tracked"
        ]
        == 1
    )
    pageview, media_event, form_event = drain()
    assert dropped("plugin_request") == 2
    assert pageview.session_start and not media_event.session_start and not form_event.session_start
    assert (media_event.kind, media_event.name, media_event.session_id) == (
        "behaviour",
        "media",
        pageview.session_id,
    )
    assert media_event.props["media_id"] == "m1" and media_event.props["title"] == "Intro"
    assert (form_event.kind, form_event.name) == ("behaviour", "form")
    assert form_event.props["form_id"] == "signup"
    assert Event.objects.filter(kind="pageview").count() == 1
    # Events sent with ca=1 stay events.
    get(client, {**base, "e_c": "Video", "e_a": "Play"})
    assert drain()[-1].kind == "custom"


# --- debug -----------------------------------------------------------------------------------


def test_debug_from_an_admin_token_answers_a_text_trace(client, site, token, drain):
    query = {
        "idsite": site.pk,
        "rec": 1,
        "url": "https://a.example/p",
        "action_name": "Home",
        "debug": 1,
        "uid": "alice",
    }
    response = get(client, {**query, "token_auth": token})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "action_name = Home" in text
    assert f"Site: {site.pk}" in text
    assert "Tracked as: pageview" in text
    assert "Result: stored" in text
    assert token not in text  # the token is never echoed
    # Refused requests explain why, with the protocol's status.
    refused = get(client, {**query, "token_auth": token, "rec": 0})
    assert refused.status_code == 400 and "Result: refused" in refused.content.decode()
    # Dropped ones too.
    googlebot = client.get(
        f"/matomo.php?{urlencode({**query, 'token_auth': token})}",
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert "Result: dropped (bot)" in googlebot.content.decode()
    # Without a token, or with a viewer's, debug is ignored.
    assert get(client, query)["Content-Type"] == "image/gif"
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    viewer_token = api_client_create(user=viewer, type="matomo")[1]["key"]
    assert get(client, {**query, "token_auth": viewer_token})["Content-Type"] == "image/gif"
    assert len(drain()) == 3


def test_bulk_debug_traces_each_request(client, site, token, drain):
    requests = [
        f"?idsite={site.pk}&rec=1&url=https://a.example/1",
        f"?idsite={site.pk}&url=https://a.example/2",
    ]
    response = bulk(client, requests, query="?debug=1", token_auth=token)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Request 1" in text and "Request 2" in text
    assert "Result: stored" in text and "Result: refused" in text
    assert token not in text
    assert bulk(client, requests, query="?debug=1")["Content-Type"] == "application/json"
    assert len(drain()) == 2


# --- headers ----------------------------------------------------------------------------------


def test_get_answers_are_not_cached_and_cors_allows_credentials(client, site):
    query = {"idsite": site.pk, "rec": 1, "url": "https://a.example/"}
    plain = get(client, query)
    assert plain["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Credentials" not in plain
    with_origin = get(client, query, HTTP_ORIGIN="https://a.example")
    assert with_origin["Access-Control-Allow-Origin"] == "https://a.example"
    assert with_origin["Access-Control-Allow-Credentials"] == "true"
    assert (
        get(client, {"idsite": site.pk}, HTTP_ORIGIN="https://a.example")[
            "Access-Control-Allow-Credentials"
        ]
        == "true"
    )
    preflight = client.options("/matomo.php", HTTP_ORIGIN="https://a.example")
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    posted = client.post(
        "/matomo.php",
        data=json.dumps({"requests": [f"?idsite={site.pk}&rec=1&url=https://a.example/"]}),
        content_type="application/json",
        HTTP_ORIGIN="https://a.example",
    )
    assert posted["Access-Control-Allow-Credentials"] == "true"


# --- ecommerce ---------------------------------------------------------------------------------


def test_an_ecommerce_order_without_revenue_is_refused(client, site, drain):
    base = {"idsite": site.pk, "rec": 1, "url": "https://a.example/shop", "idgoal": 0}
    response = get(client, {**base, "ec_id": "A1"})
    assert response.status_code == 400 and "revenue" in response.content.decode()
    assert get(client, {**base, "ec_id": "A1", "revenue": "abc"}).status_code == 400
    assert (
        bulk(client, [f"?idsite={site.pk}&rec=1&url=https://a.example/&idgoal=0&ec_id=A2"]).json()[
            "invalid"
        ]
        == 1
    )
    assert drain() == []
    assert get(client, base).status_code == 200  # a cart update needs no revenue
    assert get(client, {**base, "ec_id": "A3", "revenue": "10"}).status_code == 200
    assert [e.name for e in drain()] == ["Cart Update", "Ecommerce Order"]


# --- visit attributes --------------------------------------------------------------------------


def test_visit_attributes_are_stored_and_shown_in_the_session_details(client, site, drain):
    now = datetime.now(UTC)
    last = int((now - timedelta(days=3, hours=1)).timestamp())
    first = int((now - timedelta(days=40, hours=1)).timestamp())
    query = {
        "idsite": site.pk,
        "rec": 1,
        "url": "https://a.example/",
        "_id": VISITOR,
        "_idvc": "5",
        "_viewts": last,
        "_idts": first,
        "h": "9",
        "m": "5",
        "s": "3",
        "pdf": "1",
        "java": "0",
        "fla": "1",
        "cookie": "1",
    }
    assert get(client, query).status_code == 200
    bulk(client, [f"?idsite={site.pk}&rec=1&url=https://a.example/&_id={VISITOR}&h=25&m=99&s=3"])
    event, second = drain()
    assert event.props == {
        "visit_count": "5",
        "days_since_last_visit": "3",
        "days_since_first_visit": "40",
        "local_time": "09:05:03",
        "plugins": "cookie,flash,pdf",
    }
    assert second.props == {"local_time": "00:00:03"}  # out of range → 0, as Matomo does
    detail = serializers.session_detail_json(selectors.session_detail(site.pk, event.session_id))
    assert detail["visit"] == {
        "visit_number": 5,
        "days_since_last_visit": 3,
        "days_since_first_visit": 40,
        "local_time": "09:05:03",
        "plugins": ["cookie", "flash", "pdf"],
    }


def test_visit_attributes_that_are_not_numbers_are_ignored(client, site, drain):
    # "²" passes str.isdigit() but not int(): it must not become a server error.
    query = {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "_idvc": "²"}
    assert get(client, {**query, "_viewts": "²", "_idts": "-5", "h": "²"}).status_code == 200
    [event] = drain()
    assert set(event.props) == {"local_time"}


def test_a_session_without_matomo_attributes_has_no_visit_block(client, site, drain):
    get(client, {"idsite": site.pk, "rec": 1, "url": "https://a.example/", "_id": VISITOR})
    [event] = drain()
    assert "visit" not in serializers.session_detail_json(
        selectors.session_detail(site.pk, event.session_id)
    )
