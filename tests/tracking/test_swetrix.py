"""Swetrix's Events API: the seed's examples, validation, 400/402/403, heartbeats, errors."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.models import Event

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/116.0"


def post(client, path, body, *, ip="192.0.2.1", ua=FIREFOX):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        path,
        data=data,
        content_type="application/json",
        HTTP_USER_AGENT=ua,
        HTTP_X_CLIENT_IP_ADDRESS=ip,
    )


def test_seed_pageview_example(client, site, drain):
    response = post(client, "/log", {"pid": site.public_id, "lc": "en-US", "pg": "/"})
    assert response.status_code == 201
    assert response.json() == {}
    [event] = drain()
    assert (
        event.site_id,
        event.kind,
        event.path,
        event.language,
        event.protocol,
        event.browser,
    ) == (site.pk, "pageview", "/", "en", "swetrix", "Firefox")


def test_seed_fetch_example_with_prev_and_timezone(client, site, settings, drain):
    settings.GEOIP_DATABASE = "/nonexistent.mmdb"
    body = {
        "pid": site.public_id,
        "lc": "en-US",
        "pg": "/",
        "prev": "/signup",
        "tz": "UTC",
        "unique": False,
    }
    assert post(client, "/log", body).status_code == 201
    body = {
        "pid": site.public_id,
        "lc": "uk-UA",
        "pg": "/pricing",
        "tz": "Europe/Kyiv",
        "ref": "https://www.google.com/",
        "so": "newsletter",
        "me": "email",
        "ca": "launch",
        "perf": {"dns": 5, "ttfb": 120, "bad": "x"},
    }
    assert post(client, "/log/", body, ip="198.51.100.4").status_code == 201
    first, second = drain()
    assert first.props == {"prev": "/signup"}
    assert second.country_code == "UA"
    assert (second.utm_source, second.utm_medium, second.utm_campaign, second.channel) == (
        "newsletter",
        "email",
        "launch",
        "Email",
    )
    assert second.props == {"perf": {"dns": 5, "ttfb": 120}}


def test_seed_custom_event_examples(client, site, drain):
    assert (
        post(
            client, "/log/custom", {"pid": site.public_id, "ev": "YOUR_EVENT_NAME", "unique": False}
        ).status_code
        == 201
    )
    body = {
        "pid": site.public_id,
        "ev": "signup",
        "pg": "/join",
        "meta": {"affiliate": "Yes", "currency": "GBP"},
    }
    assert post(client, "/log/custom", body).status_code == 201
    first, second = drain()
    assert (first.kind, first.name) == ("custom", "YOUR_EVENT_NAME")
    assert (second.name, second.path, second.props) == (
        "signup",
        "/join",
        {"affiliate": "Yes", "currency": "GBP"},
    )


@pytest.mark.parametrize("name", ["1abc", "_x", "has space", "a" * 64, "dash-name", "", None, 5])
def test_invalid_event_names_are_400(client, site, drain, name):
    response = post(client, "/log/custom", {"pid": site.public_id, "ev": name})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400 and response.json()["error"] == "Bad Request"
    assert drain() == []


def test_valid_event_name_edges(client, site, drain):
    assert post(client, "/log/custom", {"pid": site.public_id, "ev": "a" * 63}).status_code == 201
    assert post(client, "/log/custom", {"pid": site.public_id, "ev": "A.b_9"}).status_code == 201
    assert len(drain()) == 2


@pytest.mark.parametrize(
    "meta",
    [
        {f"k{i}": "v" for i in range(21)},
        {"a": "x" * 1000},
        {"a": 1},
        ["not", "an", "object"],
    ],
)
def test_meta_limits(client, site, drain, meta):
    response = post(client, "/log/custom", {"pid": site.public_id, "ev": "signup", "meta": meta})
    assert response.status_code == 400
    assert drain() == []


def test_meta_at_the_limits_is_accepted(client, site, drain):
    meta = {f"k{i}": "v" * 49 for i in range(20)}  # 980 characters
    assert (
        post(
            client, "/log/custom", {"pid": site.public_id, "ev": "signup", "meta": meta}
        ).status_code
        == 201
    )
    assert drain()[0].props == meta


def test_missing_or_unknown_pid_and_malformed_body_are_400(client, site, drain):
    assert post(client, "/log", {"pg": "/"}).status_code == 400
    response = post(client, "/log", {"pid": "nope123", "pg": "/"})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": "The provided Project ID (pid) is incorrect",
        "error": "Bad Request",
    }
    assert post(client, "/log", "{broken").status_code == 400
    assert post(client, "/log", [1, 2]).status_code == 400
    assert drain() == []


def test_disabled_site_is_400_and_over_quota_or_inactive_is_402(client, site, drain):
    site.tracking_state = "disabled"
    site.save()
    assert post(client, "/log", {"pid": site.public_id}).status_code == 400
    from sites import site_lookup

    for state in ("over_quota", "inactive"):
        site.tracking_state = state
        site.save()
        site_lookup.clear()
        response = post(client, "/log", {"pid": site.public_id})
        assert response.status_code == 402
        assert response.json()["error"] == "Payment Required"
    assert drain() == []


def test_unique_pageview_and_event_repeat_in_a_session_is_403(client, site, drain):
    assert (
        post(client, "/log", {"pid": site.public_id, "pg": "/", "unique": True}).status_code == 201
    )
    response = post(client, "/log", {"pid": site.public_id, "pg": "/b", "unique": True})
    assert response.status_code == 403
    assert response.json()["statusCode"] == 403
    assert (
        post(
            client, "/log/custom", {"pid": site.public_id, "ev": "signup", "unique": True}
        ).status_code
        == 201
    )
    assert (
        post(
            client, "/log/custom", {"pid": site.public_id, "ev": "signup", "unique": True}
        ).status_code
        == 403
    )
    assert (
        post(
            client, "/log/custom", {"pid": site.public_id, "ev": "other", "unique": True}
        ).status_code
        == 201
    )
    assert [(e.kind, e.name) for e in drain()] == [
        ("pageview", "pageview"),
        ("custom", "signup"),
        ("custom", "other"),
    ]


def test_heartbeat_extends_the_session_and_never_makes_a_pageview(client, site, drain):
    assert (
        post(client, "/log/hb", {"pid": site.public_id}).status_code == 201
    )  # no session yet: dropped
    assert post(client, "/log", {"pid": site.public_id, "pg": "/"}).status_code == 201
    assert post(client, "/log/hb", {"pid": site.public_id}).status_code == 201
    pageview, beat = drain()
    assert (beat.kind, beat.session_id) == ("heartbeat", pageview.session_id)
    assert Event.objects.filter(kind="pageview").count() == 1


def test_error_endpoint_stores_an_error_event(client, site, drain):
    body = {
        "pid": site.public_id,
        "name": "TypeError",
        "message": "x is undefined",
        "lineno": 10,
        "colno": 5,
        "filename": "https://dummy.site/app.js",
        "stackTrace": "at f (app.js:10:5)",
        "pg": "/checkout",
    }
    assert post(client, "/log/error", body).status_code == 201
    [event] = drain()
    assert (event.kind, event.name, event.path) == ("error", "js_exception", "/checkout")
    assert event.props["message"] == "x is undefined" and event.props["name"] == "TypeError"


def test_error_source_line_and_column_show_in_the_errors_insight(client, site, drain):
    """Swetrix's ``filename``/``lineno``/``colno`` are stored under the snippet's keys."""
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    body = {
        "pid": site.public_id,
        "name": "TypeError",
        "message": "x is undefined",
        "lineno": 10,
        "colno": 5,
        "filename": "https://dummy.site/app.js?v=3#top",
        "pg": "/checkout",
    }
    assert post(client, "/log/error", body).status_code == 201
    drain()
    today = datetime.now(UTC).date().isoformat()
    response = client.get(
        "/api/v1/insights/errors",
        {"start_date": today, "end_date": today},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    [error] = response.json()["data"]["errors"]
    assert (error["type"], error["message"], error["pages"]) == (
        "js_exception",
        "x is undefined",
        [{"url": "/checkout", "count": 1}],
    )
    # Like the snippet's collector: the script's address without its query or fragment.
    assert (error["source"], error["line"], error["column"]) == ("https://dummy.site/app.js", 10, 5)


@pytest.mark.parametrize(
    ("position", "stored"),
    [
        ({}, (None, None, None)),
        ({"filename": None, "lineno": None, "colno": None}, (None, None, None)),
        ({"filename": "", "lineno": -1, "colno": 10**9}, (None, None, None)),
        ({"filename": "app.js", "lineno": 0, "colno": 0}, ("app.js", 0, 0)),
        ({"filename": "/app.js", "lineno": 12.0, "colno": 3}, ("/app.js", 12, 3)),
    ],
)
def test_error_positions_out_of_range_are_left_out(client, site, drain, position, stored):
    body = {"pid": site.public_id, "name": "Error", "message": "boom", **position}
    assert post(client, "/log/error", body).status_code == 201
    [event] = drain()
    assert tuple(event.props.get(k) for k in ("source", "line", "column")) == stored


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ({"filename": 7}, "filename must be a string"),
        ({"lineno": "10"}, "lineno must be a number"),
        ({"colno": True}, "colno must be a number"),
        ({"lineno": 1.5}, "lineno must be a number"),
        ('"colno": NaN', "colno must be a number"),
        ('"lineno": Infinity', "lineno must be a number"),
    ],
)
def test_error_positions_of_the_wrong_type_are_400(client, site, drain, position, message):
    body = {"pid": site.public_id, "name": "Error", "message": "boom"}
    if isinstance(position, str):  # JSON extensions Python's parser accepts
        body = json.dumps(body)[:-1] + ", " + position + "}"
    else:
        body.update(position)
    response = post(client, "/log/error", body)
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": [message], "error": "Bad Request"}
    assert drain() == []


def test_client_ip_header_separates_visitors(client, site, drain):
    post(client, "/log", {"pid": site.public_id}, ip="192.0.2.1")
    post(client, "/log", {"pid": site.public_id}, ip="192.0.2.2")
    first, second = drain()
    assert first.visitor_id != second.visitor_id


def test_preflight_is_answered(client, site):
    response = client.options(
        "/log", HTTP_ORIGIN="https://dummy.site", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://dummy.site"


def test_oversized_body_is_413(client, site, drain):
    response = post(client, "/log", {"pid": site.public_id, "pg": "/" + "a" * 70_000})
    assert response.status_code == 413
    assert drain() == []


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/log", "/log/custom", "/log/hb", "/log/error"]),
    body=st.one_of(
        st.binary(max_size=200),
        st.dictionaries(
            st.sampled_from(
                [
                    "pid",
                    "ev",
                    "pg",
                    "lc",
                    "meta",
                    "unique",
                    "perf",
                    "tz",
                    "ref",
                    "so",
                    "message",
                    "lineno",
                ]
            ),
            st.none()
            | st.booleans()
            | st.integers()
            | st.text(max_size=30)
            | st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3),
            max_size=8,
        ),
    ),
)
def test_random_bodies_never_cause_a_server_error(client, site, path, body):
    data = body if isinstance(body, bytes) else json.dumps(body)
    response = post(client, path, data)
    assert response.status_code in (201, 400, 403)
    assert set(response.json()) <= {"statusCode", "message", "error"}


def at_utc(monkeypatch, when: datetime) -> None:
    """Hits are received at ``when`` (ingestion reads the clock once per request)."""
    from tracking import ingest

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return when.astimezone(tz) if tz else when.replace(tzinfo=None)

    monkeypatch.setattr(ingest, "datetime", Clock)


def test_a_session_ends_at_midnight_utc(client, site, drain, monkeypatch):
    at_utc(monkeypatch, datetime(2026, 3, 4, 23, 50, tzinfo=UTC))
    assert post(client, "/log", {"pid": site.public_id, "pg": "/a"}).status_code == 201
    assert post(client, "/log", {"pid": site.public_id, "pg": "/b"}).status_code == 201
    # Fifteen minutes later, but on the next UTC day: a new session, as the seed says.
    at_utc(monkeypatch, datetime(2026, 3, 5, 0, 5, tzinfo=UTC))
    assert post(client, "/log", {"pid": site.public_id, "pg": "/c"}).status_code == 201
    a, b, c = drain()
    assert a.session_id == b.session_id != c.session_id
    assert (a.session_start, b.session_start, c.session_start) == (True, False, True)


def test_unique_and_heartbeat_start_over_after_midnight_utc(client, site, drain, monkeypatch):
    at_utc(monkeypatch, datetime(2026, 3, 4, 23, 59, 59, tzinfo=UTC))
    assert post(client, "/log", {"pid": site.public_id, "unique": True}).status_code == 201
    at_utc(monkeypatch, datetime(2026, 3, 5, 0, 0, 0, tzinfo=UTC))
    # The session of 23:59:59 is gone: a heartbeat has nothing to keep alive, and a
    # unique page view is the first of its (new) session.
    assert post(client, "/log/hb", {"pid": site.public_id}).status_code == 201
    assert post(client, "/log", {"pid": site.public_id, "unique": True}).status_code == 201
    first, second = drain()
    assert (first.kind, second.kind) == ("pageview", "pageview")
    assert first.session_id != second.session_id


def test_other_protocols_keep_a_visit_across_midnight_utc(client, site, drain, monkeypatch):
    """The midnight cut is Swetrix's rule; Plausible-style visits only time out."""
    plausible = {"name": "pageview", "url": "https://dummy.site/a", "domain": "dummy.site"}
    at_utc(monkeypatch, datetime(2026, 3, 4, 23, 50, tzinfo=UTC))
    assert post(client, "/api/event", plausible).status_code == 202
    at_utc(monkeypatch, datetime(2026, 3, 5, 0, 5, tzinfo=UTC))
    assert post(client, "/api/event", plausible).status_code == 202
    first, second = drain()
    assert first.session_id == second.session_id


TEMPORARY_FAILURE = {
    "statusCode": 500,
    "message": "The event could not be stored because of a temporary problem, please try again later",
    "error": "Internal Server Error",
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/log", {"pg": "/"}),
        ("/log/custom", {"ev": "signup"}),
        ("/log/hb", {}),
        ("/log/error", {"name": "Error", "message": "boom"}),
    ],
)
def test_a_database_outage_is_the_seeds_500_with_a_retry_hint(client, site, path, body):
    from tests.tracking.test_database_outage import database_down

    with database_down():
        response = post(client, path, {"pid": site.public_id, **body})
    assert response.status_code == 500
    assert response.json() == TEMPORARY_FAILURE
    assert response["Retry-After"] == "5"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Event.objects.count() == 0


def test_a_database_outage_on_the_noscript_pixel_is_the_same_500(client, site):
    from tests.tracking.test_database_outage import database_down

    with database_down():
        response = client.get(f"/log/noscript?pid={site.public_id}", HTTP_USER_AGENT=FIREFOX)
    assert (response.status_code, response.json()) == (500, TEMPORARY_FAILURE)
    assert response["Retry-After"] == "5"


def test_an_event_buffer_outage_is_the_seeds_500_with_a_retry_hint(client, site, settings, drain):
    from tracking import buffer

    site_known = post(client, "/log", {"pid": site.public_id}).status_code
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens here
    buffer.reset_clients()
    try:
        response = post(client, "/log", {"pid": site.public_id, "pg": "/b"})
    finally:
        buffer.reset_clients()
    assert (site_known, response.status_code) == (201, 500)
    assert response.json() == TEMPORARY_FAILURE
    assert int(response["Retry-After"]) >= 1


def test_an_unexpected_failure_is_a_plain_500(client, site, monkeypatch, drain):
    """A bug is not a temporary problem: no retry hint."""
    from tracking import ingest

    def broken(hits):
        raise RuntimeError("bug")

    monkeypatch.setattr(ingest, "accept", broken)
    response = post(client, "/log", {"pid": site.public_id})
    assert response.status_code == 500
    assert response.json() == {
        "statusCode": 500,
        "message": "Internal server error",
        "error": "Internal Server Error",
    }
    assert "Retry-After" not in response


def noscript(client, query: str, **headers):
    headers.setdefault("HTTP_USER_AGENT", FIREFOX)
    return client.get(f"/log/noscript{query}", **headers)


def test_noscript_pixel_records_a_pageview_of_the_page_showing_it(client, site, drain):
    """Swetrix's install docs: ``<img src=".../log/noscript?pid=…"
    referrerpolicy="no-referrer-when-downgrade">`` — the Referer is the page."""
    response = noscript(
        client, f"?pid={site.public_id}", HTTP_REFERER="https://dummy.site/pricing?plan=pro#top"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a") and len(response.content) < 100
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "no-store" in response["Cache-Control"]
    assert noscript(client, f"?pid={site.public_id}").status_code == 200  # no Referer
    first, second = drain()
    assert (first.kind, first.protocol, first.path, first.referrer, first.browser) == (
        "pageview",
        "swetrix",
        "/pricing",
        "",
        "Firefox",
    )
    assert second.path == "/"
    assert first.session_id == second.session_id


def test_noscript_pixel_from_a_bot_is_an_image_and_nothing_stored(client, site, drain):
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    response = noscript(client, f"?pid={site.public_id}", HTTP_USER_AGENT=bot)
    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert drain() == []


def test_noscript_pixel_with_a_wrong_pid_is_swetrix_400(client, site, drain):
    for query in ("?pid=nope123", "", "?pid="):
        response = noscript(client, query)
        assert response.status_code == 400
        assert response.json()["statusCode"] == 400
        assert response.json()["error"] == "Bad Request"
    assert drain() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/log/identify"),
        ("post", "/log/revenue"),
        ("post", "/log/noscript"),
        ("get", "/log/identify"),
        ("post", "/log/unknown/deeper"),
        ("put", "/log/custom/"),
    ],
)
def test_undocumented_log_paths_are_a_json_404_in_swetrix_shape(client, site, drain, method, path):
    body = json.dumps({"pid": site.public_id, "profileId": "user_1", "amount": 10})
    if method == "get":
        response = client.get(path, {"pid": site.public_id}, HTTP_USER_AGENT=FIREFOX)
    else:
        response = getattr(client, method)(
            path, data=body, content_type="application/json", HTTP_USER_AGENT=FIREFOX
        )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "statusCode": 404,
        "message": f"Cannot {method.upper()} {path}",
        "error": "Not Found",
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    assert drain() == []
