"""The identity-js-style visitor API: keys, rate limit, dates, pagination and every endpoint."""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.services import api_client_create, api_client_revoke
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="dummy.site", timezone="Europe/Belgrade")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def api(client, path, key, **params):
    return client.get(f"/api/v1/{path}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client, name, path, ua=CHROME, ip="203.0.113.1", **extra):
    body = {"name": name, "url": f"https://dummy.site{path}", "domain": "dummy.site", **extra}
    assert (
        client.post(
            "/api/event",
            data=json.dumps(body),
            content_type="text/plain",
            HTTP_USER_AGENT=ua,
            HTTP_X_FORWARDED_FOR=ip,
        ).status_code
        == 202
    )


@pytest.fixture
def traffic(client, site, drain):
    send(client, "pageview", "/", referrer="https://www.google.com/")
    send(client, "pageview", "/pricing")
    send(client, "Signup", "/pricing", props={"plan": "pro"})
    send(client, "pageview", "/", ua=FIREFOX, ip="198.51.100.2")
    return drain()


def test_keys_that_are_refused(client, owner, site, read_key):
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    revoked_client, revoked = api_client_create(user=owner, type="read", site=site)
    api_client_revoke(client=revoked_client)
    for key in ("", "garbage", site.public_key, pa_key, revoked["key"]):
        response = api(client, "stats", key)
        assert response.status_code == 401, key
        assert (
            response.json()["error"]["code"] == "unauthorized"
            and response.json()["error"]["status"] == 401
        )
    assert api(client, "stats", read_key).status_code == 200


def test_another_sites_key_never_reads_this_site(client, site, traffic):
    other = SiteFactory(hostname="other.site")
    other_owner = UserFactory()
    SiteMembershipFactory(site=other, user=other_owner, role="owner")
    other_key = api_client_create(user=other_owner, type="read", site=other)[1]["key"]
    assert api(client, "stats", other_key).json()["data"]["page_views"] == 0
    visitor = api(
        client,
        "visitors",
        api_client_create(user=site.memberships.get().user, type="read", site=site)[1]["key"],
    ).json()["data"][0]["visitor_id"]
    assert api(client, f"visitors/{visitor}", other_key).status_code == 404
    account_key = api_client_create(user=other_owner, type="read")[1]["key"]
    assert api(client, "stats", account_key, site_id=site.public_id).status_code == 404
    assert api(client, "stats", account_key, site_id=other.public_id).status_code == 200
    assert api(client, "stats", account_key, site=other.public_id).status_code == 200  # alias


def test_sixty_requests_a_minute_then_429(client, read_key):
    for expected_remaining in range(59, -1, -1):
        response = api(client, "events/types", read_key)
        assert response.status_code == 200
        assert response["X-RateLimit-Remaining"] == str(expected_remaining)
    response = api(client, "events/types", read_key)
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "status": 429,
            "message": "Rate limit exceeded. Max 60 requests per minute.",
            "code": "rate_limited",
        }
    }
    assert response["X-RateLimit-Limit"] == "60" and int(response["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2025-13-01"},
        {"end_date": "yesterday"},
        {"start_date": "2025-1-1"},
        {"start_date": "2025-02-01", "end_date": "2025-01-01"},
    ],
)
def test_bad_dates_are_invalid_date(client, read_key, params):
    response = api(client, "visitors", read_key, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_date"


def test_unknown_endpoints_and_resources_are_not_found(client, read_key):
    for path in (
        "visitors/v_nothexatall",
        "sessions/ses_0000000000000001",
        "insights/unknown",
        "stats/extra",
    ):
        response = api(client, path, read_key)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/stats", HTTP_AUTHORIZATION=f"Bearer {read_key}").status_code == 404


def test_stats_event_types_and_top_pages(client, read_key, traffic):
    stats = api(client, "stats", read_key).json()["data"]
    assert (stats["visitors"], stats["sessions"], stats["page_views"], stats["events"]) == (
        2,
        2,
        3,
        1,
    )
    assert stats["bounce_rate"] == 0.5
    types = api(client, "events/types", read_key).json()["data"]
    # The Chrome session went / → /pricing within 3 s: a rapid navigation, so a frustration score.
    assert types == [
        {"name": "page_view", "count": 3},
        {"name": "Signup", "count": 1},
        {"name": "frustration_score", "count": 1},
    ]
    pages = api(client, "pages/top", read_key).json()["data"]
    assert pages["top_pages"] == [
        {"url": "/", "views": 2, "unique_visitors": 2},
        {"url": "/pricing", "views": 1, "unique_visitors": 1},
    ]
    assert pages["avg_pages_per_session"] == 1.5


def test_visitors_filters_and_detail(client, read_key, traffic):
    body = api(client, "visitors", read_key).json()
    assert body["pagination"] == {
        "total": 2,
        "page": 1,
        "limit": 50,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
    }
    chrome = api(client, "visitors", read_key, browser="Chrome").json()["data"]
    assert (
        len(chrome) == 1 and chrome[0]["browser_name"] == "Chrome" and chrome[0]["visit_count"] == 1
    )
    assert chrome[0]["visitor_id"].startswith("v_") and len(chrome[0]["fingerprint_hash"]) == 40
    assert "203.0.113.1" not in json.dumps(body)
    assert (
        api(client, "visitors", read_key, os="Linux").json()["data"][0]["browser_name"] == "Firefox"
    )
    detail = api(client, f"visitors/{chrome[0]['visitor_id']}", read_key).json()["data"]
    assert [e["name"] for e in detail["events"]] == ["Signup", "page_view", "page_view"]
    assert len(detail["sessions"]) == 1 and detail["aliases"] == []


def test_sessions_events_and_session_detail(client, read_key, traffic):
    sessions = api(client, "sessions", read_key).json()["data"]
    assert len(sessions) == 2
    chrome_session = next(s for s in sessions if s["browser_name"] == "Chrome")
    # A sign-up is not a click (click_count counts click signals only).
    assert (chrome_session["url"], chrome_session["referrer"], chrome_session["click_count"]) == (
        "/",
        "google.com",
        0,
    )
    assert api(client, "sessions", read_key, url="pric").json()["data"] == []
    detail = api(client, f"sessions/{chrome_session['session_id']}", read_key).json()["data"]
    assert [e["name"] for e in detail["events"]] == ["page_view", "page_view", "Signup"]
    assert detail["events"][2]["data"]["props"] == {"plan": "pro"}
    events = api(client, "events", read_key, type="Signup").json()["data"]
    assert len(events) == 1 and events[0]["session_id"] == chrome_session["session_id"]
    assert (
        len(api(client, "events", read_key, session_id=chrome_session["session_id"]).json()["data"])
        == 3
    )


def test_pagination_edges(client, read_key, traffic):
    first = api(client, "events", read_key, limit=2, page=1).json()
    assert [
        len(first["data"]),
        first["pagination"]["total_pages"],
        first["pagination"]["has_next"],
        first["pagination"]["has_prev"],
    ] == [2, 2, True, False]
    second = api(client, "events", read_key, limit=2, page=2).json()
    assert [
        len(second["data"]),
        second["pagination"]["has_next"],
        second["pagination"]["has_prev"],
    ] == [2, False, True]
    beyond = api(client, "events", read_key, limit=2, page=9).json()
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 4
    assert api(client, "events", read_key, limit=1000).json()["pagination"]["limit"] == 100
    assert api(client, "events", read_key, limit=0, page=-3).json()["pagination"]["page"] == 1


def test_dates_filter_in_the_sites_time_zone(client, read_key, traffic):
    today = timezone.now().astimezone(ZoneInfo("Europe/Belgrade")).date()
    assert (
        api(client, "stats", read_key, start_date=str(today), end_date=str(today)).json()["data"][
            "page_views"
        ]
        == 3
    )
    yesterday = today - timedelta(days=1)
    assert (
        api(client, "stats", read_key, start_date=str(yesterday), end_date=str(yesterday)).json()[
            "data"
        ]["page_views"]
        == 0
    )


def test_live_visitors(client, read_key, traffic):
    body = api(client, "live", read_key).json()
    assert body["count"] == 2
    assert sorted(v["current_page"] for v in body["data"]) == ["/", "/pricing"]
    assert api(client, "live", read_key, threshold_minutes="abc").status_code == 200
