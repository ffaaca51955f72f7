"""The identity-js insights API: each insight with exact numbers from stored snippet events."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from accounts.services import api_client_create
from stats import insights
from stats.query import StatsQuery, breakdown
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tracking.models import Event

DAY = "2026-01-05"
NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
INSIGHTS = (
    "frustration",
    "errors",
    "clicks",
    "seo",
    "journeys",
    "reading",
    "forms",
    "acquisition",
    "web-metrics",
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created per test; PBKDF2 would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def at(seconds: float) -> datetime:
    return NOON + timedelta(seconds=seconds)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="insights.site")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def read_key(owner, site):
    return api_client_create(user=owner, type="read", site=site)[1]["key"]


def api(client, name, key, **params):
    params.setdefault("start_date", DAY)
    params.setdefault("end_date", DAY)
    return client.get(f"/api/v1/insights/{name}", params, HTTP_AUTHORIZATION=f"Bearer {key}")


def data(client, name, key, **params):
    response = api(client, name, key, **params)
    assert response.status_code == 200, response.content
    return response.json()


def row(site, seconds, kind="pageview", name="", visitor=1, session=1, path="/", **fields):
    if kind != "pageview":
        fields["name"] = name
    return event_row(
        site.pk,
        at(seconds),
        visitor=visitor,
        session=session,
        kind=kind,
        path=path,
        protocol="footfall",
        **fields,
    )


def signal(site, seconds, name, visitor=1, session=1, path="/", **props):
    kind = "error" if name in insights.ERROR_TYPES else "behaviour"
    return row(site, seconds, kind, name, visitor, session, path, props=props)


# --- frustration -------------------------------------------------------------------------


@pytest.fixture
def frustrated(site):
    other = SiteFactory(hostname="other-frustration.site")
    store(
        [
            # Visitor 1: two rapid navigations (1 s and 1 s apart), then a calm one (8 s).
            row(site, 0, visitor=1, session=11, path="/"),
            row(site, 1, visitor=1, session=11, path="/a"),
            row(site, 2, visitor=1, session=11, path="/b"),
            row(site, 10, visitor=1, session=11, path="/c"),
            signal(site, 3, "rage_click", 1, 11, selector="button", clicks=5),
            signal(site, 4, "rage_click", 1, 11, selector="button", clicks=4),
            signal(site, 5, "dead_click", 1, 11, selector="div.card"),
            signal(site, 6, "js_exception", 1, 11, message="boom"),
            signal(site, 7, "console_error", 1, 11, message="bad"),
            signal(site, 8, "console_warning", 1, 11, message="meh"),
            signal(site, 9, "form_abandon", 1, 11, form="form#a", last_field="input#b"),
            # Visitor 2: every signal beyond its cap → 125 points, shown as 100.
            row(site, 0, visitor=2, session=21),
            *[signal(site, 1 + i, "rage_click", 2, 21, selector="a") for i in range(5)],
            *[signal(site, 10 + i, "dead_click", 2, 21, selector="p") for i in range(10)],
            *[signal(site, 30 + i, "promise_rejection", 2, 21, message="x") for i in range(4)],
            *[signal(site, 40 + i, "form_abandon", 2, 21, form="form") for i in range(3)],
            # Visitor 3: calm; two sessions one second apart are not a rapid navigation.
            row(site, 0, visitor=3, session=31),
            row(site, 1, visitor=3, session=32),
            # Visitor 4: a rage click without any page view in the period is not scored.
            signal(site, 0, "rage_click", 4, 41, selector="a"),
            # Two days later: outside the period.
            row(site, 2 * 86400, visitor=5, session=51),
            signal(site, 2 * 86400 + 1, "rage_click", 5, 51, selector="a"),
            # Another site.
            event_row(other.pk, at(0), visitor=9, session=91),
            event_row(other.pk, at(1), visitor=9, session=91, kind="behaviour", name="rage_click"),
        ]
    )


def test_frustration_scores_and_average(client, read_key, frustrated):
    body = data(client, "frustration", read_key)
    scores = body["data"]["scores"]
    assert [(s["score"], s["rage_clicks"], s["dead_clicks"]) for s in scores] == [
        (100, 5, 10),
        (80, 2, 1),
        (0, 0, 0),
    ]
    assert scores[1] == {
        "visitor_id": scores[1]["visitor_id"],
        "score": 80,
        "rage_clicks": 2,
        "dead_clicks": 1,
        "errors": 2,
        "form_abandons": 1,
        "rapid_navigations": 2,
    }
    assert scores[1]["visitor_id"] == "v_0000000000000001"
    assert (scores[0]["errors"], scores[0]["form_abandons"], scores[0]["rapid_navigations"]) == (
        4,
        3,
        0,
    )
    assert body["data"]["average"] == {"avg_score": 60.0, "visitor_count": 3}
    assert body["data"]["distribution"] == [
        {"from": 0, "to": 19, "visitors": 1},
        {"from": 20, "to": 39, "visitors": 0},
        {"from": 40, "to": 59, "visitors": 0},
        {"from": 60, "to": 79, "visitors": 0},
        {"from": 80, "to": 100, "visitors": 2},
    ]
    assert body["pagination"]["total"] == 3


def test_frustration_formula_matches_the_sql(client, read_key, frustrated):
    for score in data(client, "frustration", read_key)["data"]["scores"]:
        counts = {k: v for k, v in score.items() if k not in ("visitor_id", "score")}
        assert insights.frustration_score(**counts) == score["score"]


def test_frustration_pagination_edges(client, read_key, frustrated):
    second = data(client, "frustration", read_key, limit=1, page=2)
    assert [s["score"] for s in second["data"]["scores"]] == [80]
    assert second["pagination"] == {
        "total": 3,
        "page": 2,
        "limit": 1,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    beyond = data(client, "frustration", read_key, limit=2, page=9)
    assert beyond["data"]["scores"] == []
    assert beyond["data"]["average"] == {"avg_score": 60.0, "visitor_count": 3}
    assert beyond["pagination"]["has_next"] is False


def test_frustration_dates_select_the_days(client, read_key, frustrated):
    later = data(client, "frustration", read_key, start_date="2026-01-07", end_date="2026-01-07")
    assert [(s["score"], s["rage_clicks"]) for s in later["data"]["scores"]] == [(15, 1)]
    empty = data(client, "frustration", read_key, start_date="2026-01-06", end_date="2026-01-06")
    assert empty["data"]["scores"] == []
    assert empty["data"]["average"] == {"avg_score": 0, "visitor_count": 0}
    assert [band["visitors"] for band in empty["data"]["distribution"]] == [0, 0, 0, 0, 0]


# --- errors ---------------------------------------------------------------------------


def test_errors_grouped_by_type_and_message(client, site, read_key):
    message = "TypeError: x is undefined"
    store(
        [
            signal(site, 0, "js_exception", 1, 11, "/", message=message, source="old.js", line=1),
            signal(site, 5, "js_exception", 1, 11, "/a", message=message, source="a.js", line=2),
            signal(
                site,
                9,
                "js_exception",
                2,
                21,
                "/",
                message=message,
                source="https://insights.site/app.js",
                line=10,
                column=5,
            ),
            signal(site, 3, "console_warning", 2, 21, "/", message="Deprecated API"),
            signal(site, 4, "rage_click", 2, 21, "/", selector="a"),
        ]
    )
    body = data(client, "errors", read_key)
    assert body["data"]["errors"] == [
        {
            "type": "js_exception",
            "message": message,
            "count": 3,
            "visitors": 2,
            "sessions": 2,
            "page_count": 2,
            "pages": [{"url": "/", "count": 2}, {"url": "/a", "count": 1}],
            "first_seen": int(at(0).timestamp() * 1000),
            "last_seen": int(at(9).timestamp() * 1000),
            "source": "https://insights.site/app.js",
            "line": 10,
            "column": 5,
        },
        {
            "type": "console_warning",
            "message": "Deprecated API",
            "count": 1,
            "visitors": 1,
            "sessions": 1,
            "page_count": 1,
            "pages": [{"url": "/", "count": 1}],
            "first_seen": int(at(3).timestamp() * 1000),
            "last_seen": int(at(3).timestamp() * 1000),
            "source": None,
            "line": None,
            "column": None,
        },
    ]
    assert body["pagination"]["total"] == 2
    warnings = data(client, "errors", read_key, type="console_warning")["data"]["errors"]
    assert [e["message"] for e in warnings] == ["Deprecated API"]
    assert data(client, "errors", read_key, type="nonsense")["data"]["errors"] == []
    second = data(client, "errors", read_key, limit=1, page=2)
    assert [e["type"] for e in second["data"]["errors"]] == ["console_warning"]


# --- clicks ---------------------------------------------------------------------------


def test_click_issues_by_element(client, site, read_key):
    store(
        [
            signal(site, 0, "rage_click", 1, 11, "/pricing", selector="button.buy", clicks=6),
            signal(site, 1, "rage_click", 2, 21, "/pricing", selector="button.buy", clicks=4),
            signal(site, 2, "dead_click", 2, 21, "/pricing", selector="button.buy"),
            signal(site, 3, "phantom_click", 1, 11, "/", selector="div.card"),
            signal(site, 4, "dead_click", 1, 11, "/", selector="<script>alert(1)</script>"),
            signal(site, 5, "form_abandon", 1, 11, "/", form="form"),
        ]
    )
    elements = data(client, "clicks", read_key)["data"]["elements"]
    assert [
        (e["selector"], e["url"], e["rage_clicks"], e["dead_clicks"], e["phantom_clicks"])
        for e in elements
    ] == [
        ("button.buy", "/pricing", 2, 1, 0),
        ("<script>alert(1)</script>", "/", 0, 1, 0),
        ("div.card", "/", 0, 0, 1),
    ]
    assert (elements[0]["total"], elements[0]["visitors"]) == (3, 2)
    assert elements[0]["last_seen"] == int(at(2).timestamp() * 1000)


# --- SEO ------------------------------------------------------------------------------


def test_seo_latest_report_per_page(client, site, read_key):
    store(
        [
            signal(site, 0, "seo_diagnostics", path="/", issues=["missing_title", "missing_h1"]),
            signal(site, 60, "seo_diagnostics", path="/", issues=["missing_h1"], h1_count=0),
            signal(
                site,
                30,
                "seo_diagnostics",
                path="/about",
                issues=["missing_h1", "images_without_alt"],
                images_without_alt=3,
                title_length=42,
            ),
            signal(site, 40, "seo_diagnostics", path="/ok", issues=[], h1_count=1),
        ]
    )
    body = data(client, "seo", read_key)["data"]
    assert [(p["url"], p["issues"], p["reports"]) for p in body["pages"]] == [
        ("/about", ["missing_h1", "images_without_alt"], 1),
        ("/", ["missing_h1"], 2),
        ("/ok", [], 1),
    ]
    assert body["pages"][0]["images_without_alt"] == 3
    assert body["pages"][0]["title_length"] == 42
    assert body["pages"][1]["h1_count"] == 0
    assert body["pages"][1]["last_checked"] == int(at(60).timestamp() * 1000)
    assert body["issues"] == [
        {"code": "missing_h1", "pages": 2},
        {"code": "images_without_alt", "pages": 1},
    ]
    assert (body["pages_checked"], body["pages_with_issues"]) == (3, 2)
    paged = data(client, "seo", read_key, limit=2, page=2)
    assert [p["url"] for p in paged["data"]["pages"]] == ["/ok"]
    assert paged["pagination"]["total"] == 3


# --- journeys -------------------------------------------------------------------------


def test_journeys_transitions_and_drop_off(client, site, read_key):
    store(
        [
            row(site, 0, session=1, path="/"),
            row(site, 10, session=1, path="/pricing"),
            row(site, 20, session=1, path="/signup"),
            row(site, 1, session=2, path="/"),
            row(site, 11, session=2, path="/pricing"),
            signal(site, 12, "rage_click", session=2, path="/pricing", selector="a"),
            row(site, 2, session=3, path="/"),
            row(site, 3, visitor=2, session=4, path="/pricing"),
            row(site, 4, visitor=2, session=4, path="/"),
        ]
    )
    body = data(client, "journeys", read_key)
    assert body["data"]["transitions"] == [
        {
            "from": "/",
            "to": "/pricing",
            "count": 2,
            "share": 0.5,
            "from_views": 4,
            "from_exits": 2,
            "drop_off": 0.5,
        },
        {
            "from": "/pricing",
            "to": "/",
            "count": 1,
            "share": 0.3333,
            "from_views": 3,
            "from_exits": 1,
            "drop_off": 0.3333,
        },
        {
            "from": "/pricing",
            "to": "/signup",
            "count": 1,
            "share": 0.3333,
            "from_views": 3,
            "from_exits": 1,
            "drop_off": 0.3333,
        },
    ]
    assert body["data"]["drop_offs"] == [
        {"url": "/", "views": 4, "exits": 2, "drop_off": 0.5},
        {"url": "/pricing", "views": 3, "exits": 1, "drop_off": 0.3333},
        {"url": "/signup", "views": 1, "exits": 1, "drop_off": 1.0},
    ]
    assert body["pagination"]["total"] == 3
    last = data(client, "journeys", read_key, limit=2, page=2)["data"]["transitions"]
    assert [(t["from"], t["to"]) for t in last] == [("/pricing", "/signup")]


# --- reading --------------------------------------------------------------------------


def reading_report(site, seconds, path, scroll, active, visible, velocity):
    return row(
        site,
        seconds,
        "engagement",
        "reading_behavior",
        path=path,
        duration_ms=active,
        scroll_depth=scroll,
        props={
            "visible_ms": visible,
            "active_ms": active,
            "scroll_depth": scroll,
            "scroll_velocity": velocity,
            "page_height": 3000,
        },
    )


def test_reading_per_page(client, site, read_key):
    store(
        [
            row(site, 0, path="/article"),
            row(site, 1, session=2, path="/article"),
            reading_report(site, 5, "/article", 40, 10_000, 20_000, 100.0),
            reading_report(site, 6, "/article", 80, 30_000, 40_000, 300.0),
            reading_report(site, 7, "/article", 100, 5_000, 0, 200.0),
            reading_report(site, 8, "/", 10, 1_000, 1_000, 50.5),
        ]
    )
    assert data(client, "reading", read_key)["data"]["pages"] == [
        {
            "url": "/article",
            "views": 2,
            "reports": 3,
            "avg_scroll_depth": 73.3,
            "median_scroll_depth": 80.0,
            "avg_active_ms": 15_000,
            "avg_scroll_velocity": 200.0,
            "attention_pct": 66.7,
        },
        {
            "url": "/",
            "views": 0,
            "reports": 1,
            "avg_scroll_depth": 10.0,
            "median_scroll_depth": 10.0,
            "avg_active_ms": 1_000,
            "avg_scroll_velocity": 50.5,
            "attention_pct": 100.0,
        },
    ]


# --- forms ----------------------------------------------------------------------------


def test_form_abandonment_and_hesitation(client, site, read_key):
    def abandon(seconds, visitor, last_field, touched, path="/signup", form="form#signup"):
        return signal(
            site,
            seconds,
            "form_abandon",
            visitor,
            visitor,
            path,
            form=form,
            fields_touched=touched,
            last_field=last_field,
        )

    def hesitate(seconds, field, ms):
        return signal(
            site,
            seconds,
            "form_hesitation",
            path="/signup",
            form="form#signup",
            field=field,
            hesitation_ms=ms,
        )

    store(
        [
            abandon(0, 1, "input#email", 2),
            abandon(1, 2, "input#email", 3),
            abandon(2, 2, "input#password", 4),
            abandon(3, 3, "textarea", 1, path="/contact", form="form.contact"),
            hesitate(4, "input#email", 1000),
            hesitate(5, "input#email", 2000),
            hesitate(6, "input#email", 6000),
            hesitate(7, "input#name", 500),
        ]
    )
    body = data(client, "forms", read_key)
    assert body["data"] == {
        "abandonments": [
            {
                "form": "form#signup",
                "url": "/signup",
                "count": 3,
                "visitors": 2,
                "avg_fields_touched": 3.0,
                "last_field": "input#email",
            },
            {
                "form": "form.contact",
                "url": "/contact",
                "count": 1,
                "visitors": 1,
                "avg_fields_touched": 1.0,
                "last_field": "textarea",
            },
        ],
        "hesitations": [
            {
                "form": "form#signup",
                "field": "input#email",
                "url": "/signup",
                "count": 3,
                "avg_hesitation_ms": 3000,
                "median_hesitation_ms": 2000,
            },
            {
                "form": "form#signup",
                "field": "input#name",
                "url": "/signup",
                "count": 1,
                "avg_hesitation_ms": 500,
                "median_hesitation_ms": 500,
            },
        ],
        "totals": {"abandonments": 2, "hesitations": 2},
    }
    assert body["pagination"]["total"] == 2
    second = data(client, "forms", read_key, limit=1, page=2)["data"]
    assert [a["form"] for a in second["abandonments"]] == ["form.contact"]
    assert [h["field"] for h in second["hesitations"]] == ["input#name"]


# --- acquisition ----------------------------------------------------------------------


def test_acquisition_equals_the_statistics_breakdowns(client, site, read_key):
    store(
        [
            row(site, 0, visitor=1, session=1, referrer="google.com", source="Google")
            | {"channel": "Organic Search"},
            row(site, 1, visitor=2, session=2) | {"channel": "Direct"},
            row(
                site,
                2,
                visitor=3,
                session=3,
                utm_source="newsletter",
                utm_medium="email",
                utm_campaign="spring",
            )
            | {"channel": "Email"},
            row(site, 3, visitor=3, session=3, path="/b", utm_source="newsletter")
            | {"channel": "Email"},
        ]
    )
    body = data(client, "acquisition", read_key)["data"]
    assert body["referrers"] == [
        {
            "referrer": "google.com",
            "referrer_name": "Google",
            "visitors": 1,
            "sessions": 1,
            "views": 1,
            "relative_visitors": 0.3333,
        }
    ]
    assert [(c["channel"], c["visitors"], c["views"]) for c in body["channels"]] == [
        ("Email", 1, 2),
        ("Direct", 1, 1),
        ("Organic Search", 1, 1),
    ]
    assert [(u["utm_source"], u["views"]) for u in body["utm_sources"]] == [("newsletter", 2)]
    assert [u["utm_medium"] for u in body["utm_mediums"]] == ["email"]
    assert [u["utm_campaign"] for u in body["utm_campaigns"]] == ["spring"]
    assert body["totals"] == {
        "referrers": 1,
        "utm_sources": 1,
        "utm_mediums": 1,
        "utm_campaigns": 1,
        "channels": 3,
    }
    pirsch = breakdown(StatsQuery(site.pk, NOON.date(), NOON.date(), "UTC"), "channel")
    assert [c["channel"] for c in body["channels"]] == [c["channel"] for c in pirsch]


# --- web metrics ----------------------------------------------------------------------


def test_web_metrics_percentiles_and_summary(client, site, read_key):
    def vitals(seconds, session, path, **values):
        return signal(site, seconds, "web_vitals", 1, session, path, **values)

    store(
        [
            row(site, 0, session=1, path="/"),
            vitals(10, 1, "/", lcp=1000, cls=0.1, inp=100, ttfb=50),
            row(site, 20, session=1, path="/b"),
            vitals(30, 1, "/b", lcp=500),
            row(site, 100, session=2, path="/"),
            vitals(101, 2, "/", lcp=2000, cls=0.2, inp=200),
            vitals(102, 3, "/", lcp=3000, inp=300),
            vitals(103, 4, "/", lcp=4000, inp=400, ttfb="not a number"),
        ]
    )
    body = data(client, "web-metrics", read_key)["data"]
    assert body["web_vitals"]["lcp"] == {"samples": 5, "p50": 2000, "p75": 3000, "p95": 3800}
    assert body["web_vitals"]["fid"] == {"samples": 0, "p50": None, "p75": None, "p95": None}
    assert body["web_vitals"]["ttfb"] == {"samples": 1, "p50": 50, "p75": 50, "p95": 50}
    home = body["pages"][0]
    assert (home["url"], home["reports"]) == ("/", 4)
    assert home["lcp"] == {"samples": 4, "p50": 2500, "p75": 3250, "p95": 3850}
    assert home["cls"] == {"samples": 2, "p50": 0.15, "p75": 0.175, "p95": 0.195}
    assert home["inp"] == {"samples": 4, "p50": 250, "p75": 325, "p95": 385}
    assert body["pages"][1]["url"] == "/b" and body["pages"][1]["lcp"]["p50"] == 500
    # Sessions 1 to 4 (vitals-only sessions 3 and 4 count as sessions with no page view).
    assert body["sessions"] == 4
    assert body["bounce_rate"] == 0.75
    assert body["avg_session_duration_ms"] == (30_000 + 1_000 + 0 + 0) // 4
    assert body["top_pages"] == [
        {"url": "/", "views": 2, "unique_visitors": 1},
        {"url": "/b", "views": 1, "unique_visitors": 1},
    ]


def test_percentile_cont_in_python_matches_postgresql_semantics():
    assert insights.percentile_cont([], 0.5) is None
    assert insights.percentile_cont([7], 0.95) == 7
    assert insights.percentile_cont([4000, 1000, 3000, 2000], 0.75) == 3250
    assert insights.percentile_cont([1, 2, 3, 4, 5], 0.95) == pytest.approx(4.8)


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


def test_snippet_event_types_are_listed_and_filterable(client, site, read_key):
    store(
        [
            row(site, 0),
            signal(site, 1, "rage_click", selector="a"),
            signal(site, 2, "rage_click", selector="a"),
            signal(site, 3, "js_exception", message="x"),
            row(site, 4, "engagement", "reading_behavior", duration_ms=10, scroll_depth=5),
        ]
    )
    params = {"start_date": DAY, "end_date": DAY}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {read_key}"}
    types = client.get("/api/v1/events/types", params, **headers).json()["data"]
    assert types == [
        {"name": "rage_click", "count": 2},
        {"name": "frustration_score", "count": 1},  # the session's computed score (seed)
        {"name": "js_exception", "count": 1},
        {"name": "page_view", "count": 1},
        {"name": "reading_behavior", "count": 1},
    ]
    rage = client.get("/api/v1/events", {**params, "type": "rage_click"}, **headers).json()
    assert [e["name"] for e in rage["data"]] == ["rage_click", "rage_click"]
    assert rage["data"][0]["data"]["props"] == {"selector": "a"}
    assert Event.objects.count() == 5


def traffic_with(site, groups: int) -> list[dict]:
    """``groups`` distinct pages, elements, errors, forms and fields, two sessions each."""
    rows = []
    for n in range(groups):
        path, visitor = f"/page-{n}", n + 1
        for session in (2 * n, 2 * n + 1):
            rows += [
                row(site, session, visitor=visitor, session=session, path=path),
                row(site, session + 1, visitor=visitor, session=session, path="/next"),
                signal(site, session + 2, "rage_click", visitor, session, path, selector=f"b{n}"),
                signal(site, session + 2, "js_exception", visitor, session, path, message=f"e{n}"),
                signal(site, session + 2, "form_abandon", visitor, session, path, form=f"f{n}"),
                signal(
                    site,
                    session + 2,
                    "form_hesitation",
                    visitor,
                    session,
                    path,
                    form=f"f{n}",
                    field="input",
                    hesitation_ms=100 * n,
                ),
                signal(site, session + 2, "web_vitals", visitor, session, path, lcp=1000 + n),
                signal(site, session + 2, "seo_diagnostics", visitor, session, path, issues=[]),
                reading_report(site, session + 3, path, 50, 1000, 2000, 10.0),
            ]
    return rows


def test_query_counts_do_not_grow_with_the_rows(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

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
    assert insights.forms(large.pk, period)["totals"] == {"abandonments": 12, "hesitations": 12}
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
