"""``POST /api/collect``: privacy choices, bots, unknown or inactive sites, bad bodies,
limits, methods, CORS, a buffer outage, and the served scripts."""

import json

import pytest

from sites import site_lookup
from tests.factories import SiteFactory
from tests.tracking.footfall_collect.support import PAGE, body, post
from tracking import buffer


def test_hash_mode_keeps_the_fragment_in_the_path(client, site, drain):
    post(client, body(site, {"t": "pageview"}, u="https://dummy.site/app#/settings", h=1))
    post(client, body(site, {"t": "pageview"}, u="https://dummy.site/app#/other"))
    first, second = drain()
    assert (first.path, second.path) == ("/app#/settings", "/app")


def test_do_not_track_is_honoured_when_the_site_asks(client, site, drain):
    assert post(client, body(site, {"t": "pageview"}), HTTP_DNT="1").json()["accepted"] == 1
    site.respect_dnt = True
    site.save()
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
