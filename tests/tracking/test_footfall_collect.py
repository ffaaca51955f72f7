"""The snippet's collection endpoint ``POST /api/collect``: every signal as stored, limits, refusals."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import SiteFactory
from tracking import snippet
from tracking.models import Event

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PAGE = "https://dummy.site/blog/post?utm_source=news"


@pytest.fixture(autouse=True)
def _fresh_collectors():
    snippet.forget_cached_collectors()
    yield
    snippet.forget_cached_collectors()


@pytest.fixture
def behaviour_site(site):
    site.behaviour_collectors = True
    site.save()
    return site


def body(site, *events, **fields):
    return {
        "k": site.public_key,
        "u": PAGE,
        "r": "https://www.google.com/",
        "t": "A post",
        "w": 1280,
        "e": list(events),
        **fields,
    }


def post(client, data, *, content_type="text/plain", ua=CHROME, **headers):
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(
        "/api/collect", data=raw, content_type=content_type, HTTP_USER_AGENT=ua, **headers
    )


def test_page_view_is_stored_with_page_fields(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}))
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "dropped": 0, "collectors": []}
    assert response["Access-Control-Allow-Origin"] == "*"
    [event] = drain()
    assert (event.protocol, event.kind, event.name, event.hostname, event.path) == (
        "footfall",
        "pageview",
        "pageview",
        "dummy.site",
        "/blog/post",
    )
    assert (event.title, event.referrer_host, event.utm_source, event.screen_width) == (
        "A post",
        "google.com",
        "news",
        1280,
    )
    assert event.session_start is True
    assert event.browser == "Chrome"


def test_application_json_is_accepted_too(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}), content_type="application/json")
    assert response.status_code == 202
    assert [e.kind for e in drain()] == ["pageview"]


def test_custom_event_with_props_and_revenue(client, site, drain):
    event = {
        "t": "custom",
        "n": "Signup",
        "p": {"plan": "pro", "seats": 3, "trial": True},
        "$": {"amount": 49.5, "currency": "eur"},
    }
    assert post(client, body(site, {"t": "pageview"}, event)).status_code == 202
    _, signup = drain()
    assert (signup.kind, signup.name, signup.props) == (
        "custom",
        "Signup",
        {"plan": "pro", "seats": "3", "trial": "true"},
    )
    assert (str(signup.revenue_amount), signup.revenue_currency) == ("49.5000", "EUR")


@pytest.mark.parametrize(
    ("name", "props"),
    [
        ("Outbound Link: Click", {"url": "https://other.example/"}),
        ("File Download", {"url": "https://dummy.site/report.pdf"}),
        ("Form: Submission", {"form": "form#signup"}),
    ],
)
def test_link_download_and_form_events_are_custom_events(client, site, drain, name, props):
    assert (
        post(
            client, body(site, {"t": "pageview"}, {"t": "custom", "n": name, "p": props})
        ).status_code
        == 202
    )
    _, event = drain()
    assert (event.kind, event.name, event.props) == ("custom", name, props)


def test_engagement_is_stored_as_reading_behavior(client, site, drain):
    engagement = {
        "visible_ms": 42000,
        "active_ms": 30500,
        "scroll_depth": 87,
        "scroll_velocity": 120.5,
        "page_height": 4200,
    }
    post(client, body(site, {"t": "pageview"}))
    response = post(client, body(site, {"t": "reading_behavior", "p": engagement}))
    assert response.json() == {"accepted": 1, "dropped": 0, "collectors": []}
    view, reading = drain()
    assert (reading.kind, reading.name, reading.duration_ms, reading.scroll_depth) == (
        "engagement",
        "reading_behavior",
        30500,
        87,
    )
    assert reading.props == engagement
    assert reading.session_id == view.session_id and reading.session_start is False


SIGNALS = [
    ("rage_click", "behaviour", {"selector": "button.buy:nth-of-type(2)", "clicks": 5}),
    ("dead_click", "behaviour", {"selector": "div.hero"}),
    ("phantom_click", "behaviour", {"selector": "span#close"}),
    (
        "js_exception",
        "error",
        {
            "message": "x is not defined",
            "source": "https://dummy.site/app.js",
            "line": 3,
            "column": 14,
        },
    ),
    ("promise_rejection", "error", {"message": "boom", "source": "", "line": 0, "column": 0}),
    (
        "console_error",
        "error",
        {"message": "failed", "source": "https://dummy.site/a.js", "line": 1, "column": 2},
    ),
    ("console_warning", "error", {"message": "careful", "source": "", "line": 0, "column": 0}),
    (
        "form_abandon",
        "behaviour",
        {"form": "form#signup", "fields_touched": 2, "last_field": "input#email"},
    ),
    (
        "form_hesitation",
        "behaviour",
        {"form": "form#signup", "field": "input#email", "hesitation_ms": 1830},
    ),
    ("web_vitals", "behaviour", {"lcp": 1200, "cls": 0.0132, "inp": 96, "fid": 3, "ttfb": 180}),
    (
        "seo_diagnostics",
        "behaviour",
        {
            "issues": ["missing_meta_description", "multiple_h1"],
            "h1_count": 2,
            "images_without_alt": 0,
            "title_length": 6,
            "description_length": 0,
        },
    ),
]


def test_every_behaviour_signal_is_stored_as_the_contract_says(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    events = [{"t": name, "p": props} for name, _, props in SIGNALS]
    response = post(client, body(behaviour_site, *events))
    assert response.status_code == 202
    assert response.json() == {
        "accepted": len(SIGNALS),
        "dropped": 0,
        "collectors": ["clicks", "errors", "forms", "seo", "vitals"],
    }
    view, *stored = drain()
    assert [(e.name, e.kind, e.props) for e in stored] == SIGNALS
    assert {(e.path, e.session_id, e.session_start) for e in stored} == {
        ("/blog/post", view.session_id, False)
    }


def test_error_props_get_their_defaults(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    post(client, body(behaviour_site, {"t": "js_exception", "p": {"message": "Script error."}}))
    _, error = drain()
    assert error.props == {"message": "Script error.", "source": "", "line": 0, "column": 0}


def test_web_vitals_keep_only_what_was_measured(client, behaviour_site, drain):
    post(client, body(behaviour_site, {"t": "pageview"}))
    post(client, body(behaviour_site, {"t": "web_vitals", "p": {"ttfb": 80, "cls": 0}}))
    _, vitals = drain()
    assert vitals.props == {"ttfb": 80, "cls": 0}


def test_behaviour_without_a_session_never_starts_one(client, behaviour_site, drain):
    response = post(
        client,
        body(
            behaviour_site,
            {"t": "dead_click", "p": {"selector": "div"}},
            {
                "t": "reading_behavior",
                "p": {
                    "visible_ms": 1,
                    "active_ms": 1,
                    "scroll_depth": 1,
                    "scroll_velocity": 0,
                    "page_height": 1,
                },
            },
            {"t": "js_exception", "p": {"message": "boom"}},
        ),
    )
    assert response.json()["accepted"] == 0 and response.json()["dropped"] == 3
    assert drain() == []


def test_collectors_switched_off_are_dropped(client, site, drain):
    post(client, body(site, {"t": "pageview"}))
    response = post(
        client,
        body(
            site,
            {"t": "rage_click", "p": {"selector": "button", "clicks": 4}},
            {"t": "custom", "n": "Signup"},
        ),
    )
    assert response.json() == {"accepted": 1, "dropped": 1, "collectors": []}
    assert [e.name for e in drain()] == ["pageview", "Signup"]


def test_signals_of_a_collector_switched_off_are_counted_as_such(client, site, drain):
    from tracking.drops import flush_drop_counts
    from tracking.models import DroppedEventCount

    post(client, body(site, {"t": "pageview"}))
    post(client, body(site, {"t": "rage_click", "p": {"selector": "b", "clicks": 4}}))
    post(client, body(site, {"t": "dead_click", "p": {"selector": "div"}}))
    flush_drop_counts()
    counted = DroppedEventCount.objects.filter(site_id=site.pk).values_list("reason", "count")
    assert list(counted) == [("collector_off", 2)]
    assert [e.name for e in drain()] == ["pageview"]


def test_only_the_chosen_collectors_are_kept(client, site, drain):
    site.behaviour_collectors = True
    site.settings = {"collectors": {"clicks": False, "errors": True, "forms": False}}
    site.save()
    post(client, body(site, {"t": "pageview"}))
    response = post(
        client,
        body(
            site,
            {"t": "dead_click", "p": {"selector": "div"}},
            {"t": "console_error", "p": {"message": "oops"}},
            {"t": "form_abandon", "p": {"form": "form", "fields_touched": 1}},
            {
                "t": "seo_diagnostics",
                "p": {
                    "issues": [],
                    "h1_count": 1,
                    "images_without_alt": 0,
                    "title_length": 5,
                    "description_length": 40,
                },
            },
        ),
    )
    assert response.json() == {
        "accepted": 2,
        "dropped": 2,
        "collectors": ["errors", "seo", "vitals"],
    }
    assert [e.name for e in drain()] == ["pageview", "console_error", "seo_diagnostics"]


def test_hash_mode_keeps_the_fragment_in_the_path(client, site, drain):
    post(client, body(site, {"t": "pageview"}, u="https://dummy.site/app#/settings", h=1))
    post(client, body(site, {"t": "pageview"}, u="https://dummy.site/app#/other"))
    first, second = drain()
    assert (first.path, second.path) == ("/app#/settings", "/app")


def test_do_not_track_is_honoured_when_the_site_asks(client, site, drain):
    assert post(client, body(site, {"t": "pageview"}), HTTP_DNT="1").json()["accepted"] == 1
    site.respect_dnt = True
    site.save()
    from sites import site_lookup

    site_lookup.clear()
    for header in ({"HTTP_DNT": "1"}, {"HTTP_SEC_GPC": "1"}):
        response = post(client, body(site, {"t": "pageview"}), **header)
        assert response.json() == {"accepted": 0, "dropped": 1, "collectors": []}
    assert len(drain()) == 1


def test_bots_are_dropped(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}), ua="curl/8.0")
    assert response.status_code == 202 and response.json()["dropped"] == 1
    assert drain() == []


def test_unknown_key_is_404(client, db, drain):
    response = post(client, {"k": "pk_live_nobody", "u": PAGE, "e": [{"t": "pageview"}]})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "status": 404,
            "code": "unknown_site",
            "message": "no site has this public key",
            "field": "k",
        }
    }
    assert drain() == []


@pytest.mark.parametrize("state", ["disabled", "over_quota", "inactive"])
def test_site_not_active_is_refused(client, drain, state):
    site = SiteFactory(tracking_state=state)
    response = post(client, body(site, {"t": "pageview"}))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "site_disabled"
    assert drain() == []


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ([], "invalid_body", None),
        ({"u": PAGE, "e": [{"t": "pageview"}]}, "invalid_field", "k"),
        ({"k": "x", "e": [{"t": "pageview"}]}, "invalid_field", "u"),
        ({"k": "x", "u": "ftp://dummy.site/", "e": [{"t": "pageview"}]}, "invalid_field", "u"),
        ({"k": "x", "u": "data:text/html,hi", "e": [{"t": "pageview"}]}, "invalid_field", "u"),
        ({"k": "x", "u": PAGE, "e": []}, "invalid_field", "e"),
        ({"k": "x", "u": PAGE, "e": {"t": "pageview"}}, "invalid_field", "e"),
        ({"k": "x", "u": PAGE, "t": 5, "e": [{"t": "pageview"}]}, "invalid_field", "t"),
        ({"k": "x", "u": PAGE, "t": "x" * 501, "e": [{"t": "pageview"}]}, "invalid_field", "t"),
        ({"k": "x", "u": PAGE, "w": "wide", "e": [{"t": "pageview"}]}, "invalid_field", "w"),
        ({"k": "x", "u": PAGE, "e": [{"t": "pageview"}] * 51}, "too_many_events", "e"),
        ({"k": "x", "u": PAGE, "e": [{"t": "click"}]}, "unknown_event_type", "e[0].t"),
        ({"k": "x", "u": PAGE, "e": ["pageview"]}, "invalid_field", "e[0]"),
        ({"k": "x", "u": PAGE, "e": [{"t": "custom"}]}, "invalid_field", "e[0].n"),
        ({"k": "x", "u": PAGE, "e": [{"t": "custom", "n": "x" * 121}]}, "invalid_field", "e[0].n"),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "custom", "n": "rage_click"}]},
            "invalid_field",
            "e[0].n",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [{"t": "custom", "n": "A", "p": {str(i): "v" for i in range(31)}}],
            },
            "too_many_props",
            "e[0].p",
        ),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "custom", "n": "A", "p": {"a": {"b": 1}}}]},
            "invalid_field",
            "e[0].p.a",
        ),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "custom", "n": "A", "p": {"a": "v" * 2001}}]},
            "invalid_field",
            "e[0].p.a",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [{"t": "custom", "n": "A", "$": {"amount": 1, "currency": "XYZ"}}],
            },
            "invalid_field",
            "e[0].$",
        ),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "dead_click", "p": {}}]},
            "invalid_field",
            "e[0].p.selector",
        ),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "dead_click", "p": {"selector": "Buy now!"}}]},
            "invalid_field",
            "e[0].p.selector",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [{"t": "dead_click", "p": {"selector": "div", "text": "Buy"}}],
            },
            "invalid_field",
            "e[0].p.text",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [{"t": "rage_click", "p": {"selector": "div", "clicks": 3}}],
            },
            "invalid_field",
            "e[0].p.clicks",
        ),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "js_exception", "p": {"message": "m" * 501}}]},
            "invalid_field",
            "e[0].p.message",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [{"t": "js_exception", "p": {"message": "m", "line": True}}],
            },
            "invalid_field",
            "e[0].p.line",
        ),
        ({"k": "x", "u": PAGE, "e": [{"t": "web_vitals", "p": {}}]}, "invalid_field", "e[0].p"),
        (
            {"k": "x", "u": PAGE, "e": [{"t": "web_vitals", "p": {"cls": float("inf")}}]},
            "invalid_field",
            "e[0].p.cls",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [
                    {
                        "t": "seo_diagnostics",
                        "p": {
                            "issues": ["bad"],
                            "h1_count": 1,
                            "images_without_alt": 0,
                            "title_length": 1,
                            "description_length": 1,
                        },
                    }
                ],
            },
            "invalid_field",
            "e[0].p.issues",
        ),
        (
            {
                "k": "x",
                "u": PAGE,
                "e": [
                    {
                        "t": "reading_behavior",
                        "p": {
                            "visible_ms": 1,
                            "active_ms": 1,
                            "scroll_depth": 101,
                            "scroll_velocity": 0,
                            "page_height": 1,
                        },
                    }
                ],
            },
            "invalid_field",
            "e[0].p.scroll_depth",
        ),
    ],
)
def test_bad_bodies_are_400_and_store_nothing(client, behaviour_site, drain, payload, code, field):
    if isinstance(payload, dict) and payload.get("k") == "x":
        payload["k"] = behaviour_site.public_key
    response = post(client, json.dumps(payload, allow_nan=True))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"], error.get("field")) == (400, code, field)
    assert error["message"]
    assert drain() == []


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"{not json", b"", "[1, 2"])
def test_unparsable_bodies_are_400(client, site, drain, raw):
    response = post(client, raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert drain() == []


def test_one_bad_event_refuses_the_whole_request(client, site, drain):
    response = post(client, body(site, {"t": "pageview"}, {"t": "custom", "n": ""}))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "e[1].n"
    assert drain() == []


def test_oversized_body_is_413(client, site, drain, settings):
    payload = body(
        site, {"t": "pageview"}, r="https://x.example/" + "a" * (settings.MAX_REQUEST_BYTES)
    )
    response = post(client, payload)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert drain() == []


def test_other_methods_are_405(client, site):
    response = client.get("/api/collect")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_preflight_and_cors(client, site):
    response = client.options(
        "/api/collect",
        HTTP_ORIGIN="https://dummy.site",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://dummy.site"
    assert "content-type" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    answer = post(client, body(site, {"t": "pageview"}), HTTP_ORIGIN="https://dummy.site")
    assert answer["Access-Control-Allow-Origin"] == "https://dummy.site"


def test_buffer_outage_answers_503_never_202(client, site, settings, drain):
    from tracking import buffer

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    buffer.reset_clients()
    try:
        response = post(client, body(site, {"t": "pageview"}))
    finally:
        buffer.reset_clients()
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"] == {
        "status": 503,
        "code": "unavailable",
        "message": "temporarily unavailable, retry later",
    }


def test_scripts_are_served_with_cors_cache_and_etag(client, db):
    for path in ("/js/footfall.js", "/js/footfall.behaviour.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/javascript; charset=utf-8"
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Cache-Control"] == "public, max-age=3600"
        assert b"footfall" in response.content
        again = client.get(path, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again.content == b""
    assert client.post("/js/footfall.js").status_code == 405


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["k", "u", "r", "t", "w", "h", "e", "n", "p", "$"])
                    | st.sampled_from(["selector", "clicks", "message", "lcp", "issues"])
                    | st.text(max_size=5),
                    children,
                    max_size=6,
                )
            ),
            max_leaves=25,
        ),
        st.fixed_dictionaries(
            {
                "k": st.just("KEY"),
                "u": st.sampled_from([PAGE, "https://dummy.site/#x", "nope", ""]),
                "e": st.lists(
                    st.fixed_dictionaries(
                        {
                            "t": st.sampled_from(
                                [
                                    "pageview",
                                    "custom",
                                    "rage_click",
                                    "web_vitals",
                                    "js_exception",
                                    "seo_diagnostics",
                                    "bogus",
                                ]
                            ),
                            "n": st.text(max_size=10),
                            "p": st.dictionaries(
                                st.sampled_from(
                                    ["selector", "clicks", "message", "lcp", "cls", "issues", "x"]
                                ),
                                st.none()
                                | st.integers()
                                | st.floats()
                                | st.text(max_size=8)
                                | st.lists(st.text(max_size=4), max_size=2),
                                max_size=4,
                            ),
                        }
                    ),
                    max_size=4,
                ),
            }
        ),
    )
)
def test_random_bodies_never_cause_a_server_error(client, behaviour_site, data):
    if isinstance(data, dict) and data.get("k") == "KEY":
        data["k"] = behaviour_site.public_key
    raw = data if isinstance(data, bytes) else json.dumps(data)
    response = post(client, raw)
    assert response.status_code in (202, 400)
    payload = response.json()
    if response.status_code == 400:
        assert set(payload["error"]) >= {"status", "code", "message"}
    assert not Event.objects.exists()  # nothing is written synchronously on the request path
