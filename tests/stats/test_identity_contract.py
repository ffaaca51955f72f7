"""identity-js contract details (#13 item 6, #21 item 4): search, click counts, time zone and
bot score, the ``frustration_score`` event type, unknown ``/api/v1/`` paths, account keys'
``site_id`` and the date-range cap."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats import selectors
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="dummy.site", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def api(client, path, key, **params):
    return client.get(f"/api/v1/{path}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def recent(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def visitor(site, number: int, **fields) -> None:
    store([event_row(site.pk, recent(30), visitor=number, session=number, **fields)])


# --- search -----------------------------------------------------------------------------


@pytest.fixture
def people(site):
    visitor(site, 0x0A1B2C3D4E5F6071, country_code="RS", city="Belgrade", browser="Chrome")
    visitor(site, 0x0B00000000000002, country_code="DE", city="Berlin", browser="Firefox")
    visitor(site, -2, country_code="US", city="Austin", browser="Safari", os="Mac OS X")
    return site


def searched(client, key, text) -> list[str]:
    return sorted(v["visitor_id"] for v in api(client, "visitors", key, search=text).json()["data"])


def test_search_matches_visitor_ids_country_names_and_the_rest(client, read_key, people):
    serbian, german, american = "v_0a1b2c3d4e5f6071", "v_0b00000000000002", "v_fffffffffffffffe"
    assert searched(client, read_key, serbian) == [serbian]
    assert searched(client, read_key, "v_0a1b") == [serbian]
    assert searched(client, read_key, "V_FFFF") == [american]  # ids above 2^63 too
    assert searched(client, read_key, "0b00000000000002") == [german]
    assert searched(client, read_key, "v_0") == [serbian, german]
    assert searched(client, read_key, "Serbia") == [serbian]
    assert searched(client, read_key, "germ") == [german]
    assert searched(client, read_key, "united states") == [american]
    assert searched(client, read_key, "rs") == [serbian]  # the code
    assert searched(client, read_key, "firefox") == [german]
    assert searched(client, read_key, "mac os") == [american]
    assert searched(client, read_key, "austin") == [american]
    assert searched(client, read_key, "v_zz") == []


# --- click_count --------------------------------------------------------------------------


def test_click_count_counts_clicks_only(client, read_key, site):
    at = recent(20)
    rows = [event_row(site.pk, at, kind="pageview")]
    clicks = [
        ("behaviour", "rage_click"),
        ("behaviour", "dead_click"),
        ("behaviour", "phantom_click"),
        ("behaviour", "click"),
        ("custom", "Outbound Link: Click"),
        ("custom", "File Download"),
    ]
    others = [
        ("behaviour", "form_abandon"),
        ("behaviour", "form_hesitation"),
        ("behaviour", "web_vitals"),
        ("behaviour", "seo_diagnostics"),
        ("engagement", "reading_behavior"),
        ("custom", "Signup"),
        ("custom", "Form: Submission"),
        ("error", "js_exception"),
    ]
    for offset, (kind, name) in enumerate(clicks + others, start=1):
        rows.append(event_row(site.pk, at + timedelta(seconds=offset), kind=kind, name=name))
    store(rows)
    [session] = api(client, "sessions", read_key).json()["data"]
    assert session["click_count"] == len(clicks)
    detail = api(client, f"sessions/{session['session_id']}", read_key).json()["data"]
    assert detail["click_count"] == len(clicks)


# --- timezone, bot_score, ad_block --------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "city", "zone"),
    [
        ("RS", "Belgrade", "Europe/Belgrade"),  # one zone in the country
        ("RS", "", "Europe/Belgrade"),
        ("US", "New York", "America/New_York"),  # the city names the zone
        ("US", "Los Angeles", "America/Los_Angeles"),
        ("US", "Austin", None),  # several zones, none named after the city
        ("", "", None),
    ],
)
def test_timezone_comes_from_the_visitors_country_and_city(
    client, read_key, site, country, city, zone
):
    visitor(site, 7, country_code=country, city=city, browser="Chrome")
    [listed] = api(client, "visitors", read_key).json()["data"]
    assert listed["timezone"] == zone


def test_bots_kept_on_purpose_are_not_listed_as_visitors(client, owner, drain):
    site = SiteFactory(hostname="keeps-bots.example", timezone="UTC", bot_filter=False)
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    for ua, ip in ((CHROME, "203.0.113.1"), (GOOGLEBOT, "66.249.66.1")):
        response = client.post(
            "/api/event",
            data=json.dumps(
                {
                    "name": "pageview",
                    "url": "https://keeps-bots.example/",
                    "domain": "keeps-bots.example",
                }
            ),
            content_type="text/plain",
            HTTP_USER_AGENT=ua,
            HTTP_X_FORWARDED_FOR=ip,
        )
        assert response.status_code == 202 and not response.has_header("x-plausible-dropped")
    events = drain()
    assert sorted(e.browser for e in events) == ["Chrome", "Googlebot"]  # both stored
    body = api(client, "visitors", key).json()
    assert [v["browser_name"] for v in body["data"]] == ["Chrome"]
    assert body["pagination"]["total"] == 1
    assert body["data"][0]["bot_score"] == 0 and body["data"][0]["ad_block"] is None
    bot = next(e for e in events if e.browser == "Googlebot")
    detail = api(client, f"visitors/{selectors.public_visitor_id(bot.visitor_id)}", key)
    assert detail.status_code == 200 and detail.json()["data"]["bot_score"] == 100
    assert api(client, "visitors", key, search="google").json()["data"] == []


@pytest.mark.parametrize(
    "family",
    [
        "Chrome",
        "Chrome Mobile",
        "Chrome Mobile WebView",
        "Firefox",
        "Safari",
        "Mobile Safari",
        "Edge",
        "Opera",
        "Samsung Internet",
        "Yandex Browser",
        "UC Browser",
        "Facebook",
        "Instagram",
        "DuckDuckGo Mobile",
        "Brave",
        "Vivaldi",
        "IE",
        "",
    ],
)
def test_browsers_people_use_score_zero(family):
    from stats.visitor_traits import bot_score

    assert bot_score(family) == 0


# --- frustration_score as an event type ----------------------------------------------------


RAGE = {"kind": "behaviour", "name": "rage_click"}
DEAD = {"kind": "behaviour", "name": "dead_click"}
ERROR = {"kind": "error", "name": "js_exception"}


def test_frustration_score_is_an_event_type_to_list_and_filter(client, read_key, site):
    at = recent(40)
    store(
        [
            event_row(site.pk, at, visitor=1, session=11),
            event_row(
                site.pk,
                at + timedelta(seconds=5),
                visitor=1,
                session=11,
                kind="behaviour",
                name="rage_click",
            ),
            event_row(
                site.pk,
                at + timedelta(seconds=9),
                visitor=1,
                session=11,
                kind="error",
                name="js_exception",
            ),
            event_row(site.pk, at + timedelta(minutes=1), visitor=2, session=22),  # calm
            event_row(site.pk, at + timedelta(minutes=2), visitor=3, session=33),
            event_row(
                site.pk,
                at + timedelta(minutes=2, seconds=1),
                visitor=3,
                session=33,
                kind="behaviour",
                name="dead_click",
            ),
        ]
    )
    types = api(client, "events/types", read_key).json()["data"]
    assert {"name": "frustration_score", "count": 2} in types
    body = api(client, "events", read_key, type="frustration_score").json()
    assert body["pagination"]["total"] == 2
    newest, oldest = body["data"]
    assert [newest["session_id"], oldest["session_id"]] == [
        selectors.public_session_id(33),
        selectors.public_session_id(11),
    ]
    assert oldest["name"] == "frustration_score" and oldest["data"] == {
        "score": 25,
        "rage_clicks": 1,
        "dead_clicks": 0,
        "errors": 1,
        "form_abandons": 0,
        "rapid_navigations": 0,
    }
    assert oldest["created_at"] == selectors.epoch_ms(at + timedelta(seconds=9))
    only = api(
        client,
        "events",
        read_key,
        type="frustration_score",
        visitor_id=selectors.public_visitor_id(3),
    ).json()
    assert [e["data"]["score"] for e in only["data"]] == [5]
    paged = api(client, "events", read_key, type="frustration_score", limit=1, page=2).json()
    assert [e["session_id"] for e in paged["data"]] == [selectors.public_session_id(11)]


# --- unknown paths under /api/v1/ -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/unknown",
        "/api/v1/visitorz",
        "/api/v1/insights/unknown",
        "/api/v1/stats/extra",
        "/api/v1/hit/unknown",
        "/api/v1/token/extra",
        "/api/v1/a/b/c.json",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_v1_paths_answer_identity_not_found(client, db, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {"status": 404, "message": "Resource or endpoint not found.", "code": "not_found"}
    }


def test_the_catch_all_shadows_no_real_route(client, read_key):
    assert api(client, "stats", read_key).status_code == 200
    # Pirsch's own paths keep Pirsch's answers.
    statistics = client.get("/api/v1/statistics/unknown")
    assert statistics.status_code == 404 and "validation" in statistics.json()
    assert "error" in client.post("/api/v1/hit", "{}", content_type="application/json").json()
    assert client.post("/api/v1/hit", "{}", content_type="application/json").status_code == 401
    token = client.post("/api/v1/token", "{}", content_type="application/json")
    assert token.status_code in (400, 401) and "validation" in token.json()


# --- account keys pick the site with site_id -------------------------------------------------


def test_account_keys_pick_the_site_with_site_id(client, owner, site):
    store([event_row(site.pk, recent(5), path="/first")])
    account_key = api_client_create(user=owner, type="read")[1]["key"]
    # One site readable: it is the one.
    assert api(client, "pages/top", account_key).json()["data"]["top_pages"][0]["url"] == "/first"
    second = SiteFactory(hostname="second.example", timezone="UTC")
    SiteMembershipFactory(site=second, user=owner, role="owner")
    store([event_row(second.pk, recent(5), path="/second")])
    missing = api(client, "pages/top", account_key)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "site_id" in missing.json()["error"]["message"]
    chosen = api(client, "pages/top", account_key, site_id=second.public_id).json()
    assert chosen["data"]["top_pages"][0]["url"] == "/second"
    assert api(client, "pages/top", account_key, site_id="nope").status_code == 404


# --- the date-range cap ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "0001-01-01"},
        {"start_date": "0001-01-01", "end_date": "9999-12-31"},
        {"end_date": "9999-12-31"},
        {"start_date": "9999-12-31", "end_date": "9999-12-31"},
        {"start_date": "2010-01-01", "end_date": "2020-01-09"},  # 3,661 days
        {"end_date": "0001-01-05"},
        {"start_date": "1969-12-31", "end_date": "1970-01-02"},
    ],
)
@pytest.mark.parametrize("endpoint", ["stats", "visitors", "events", "insights/frustration"])
def test_huge_or_impossible_ranges_are_invalid_date(client, read_key, params, endpoint):
    # Before the cap, a range from year 1 cost ~3.3 s and +265 MB per request.
    response = api(client, endpoint, read_key, **params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_date"


@pytest.mark.parametrize("endpoint", ["visitors", "sessions", "events", "stats"])
@pytest.mark.parametrize("page", ["100000000000000000000", "100001"])
def test_pages_beyond_the_deepest_are_a_400_not_a_500(client, read_key, endpoint, page):
    response = api(client, endpoint, read_key, page=page)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == {
        "status": 400,
        "message": "page must be between 1 and 100000.",
        "code": "invalid_parameter",
    }
    assert api(client, endpoint, read_key, page="100000").status_code == 200


def test_ten_years_is_the_longest_range(client, read_key):
    response = api(client, "stats", read_key, start_date="2010-01-01", end_date="2020-01-08")
    assert response.status_code == 200


@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=st.dates(), last=st.dates(), endpoint=st.sampled_from(["stats", "events", "sessions"]))
def test_any_pair_of_dates_answers_200_or_invalid_date(client, read_key, first, last, endpoint):
    response = api(client, endpoint, read_key, start_date=str(first), end_date=str(last))
    allowed = (
        first <= last
        and (last - first).days < 3660
        and date(1970, 1, 1) <= first
        and last <= date(2999, 12, 31)
    )
    assert response.status_code == (200 if allowed else 400), response.content
    if not allowed:
        assert response.json()["error"]["code"] == "invalid_date"
