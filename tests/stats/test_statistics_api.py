"""Pirsch's statistics API: the seed's example, parameters, filters, scales, time zones, errors."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.services import api_client_create, oauth_token_issue
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

PIRSCH_KEYS = {"validation", "error", "context"}


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


# Three visits, each described once: who, from where, with what.
LONDON_CHROME = {
    "visitor": 1,
    "session": 1,
    "entry_path": "/",
    "country_code": "GB",
    "region": "GB-ENG",
    "city": "London",
    "language": "en",
    "browser": "Chrome",
    "os": "Windows",
    "device_type": "desktop",
    "screen_class": "XL",
    "referrer": "google.com/search",
    "source": "Google",
    "channel": "Organic Search",
}
BERLIN_FIREFOX = {
    "visitor": 2,
    "session": 2,
    "entry_path": "/",
    "country_code": "DE",
    "region": "DE-BE",
    "city": "Berlin",
    "language": "de",
    "browser": "Firefox",
    "os": "Linux",
    "device_type": "desktop",
    "screen_class": "L",
    "channel": "Direct",
}
MUNICH_PHONE = {
    "visitor": 3,
    "session": 3,
    "entry_path": "/blog",
    "country_code": "DE",
    "region": "DE-BY",
    "city": "Munich",
    "language": "de",
    "browser": "Safari",
    "os": "iOS",
    "device_type": "mobile",
    "screen_class": "S",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "winter",
    "utm_content": "footer",
    "utm_term": "boots",
    "channel": "Email",
}


@pytest.fixture
def traffic(site):
    def at(day, hour, minute=0):
        return datetime(2023, 1, day, hour, minute, tzinfo=UTC)

    store(
        [
            # 1 Jan: visitor 1 reads two pages from Google in London; visitor 2 bounces from Berlin.
            event_row(site.pk, at(1, 10), path="/", **LONDON_CHROME),
            event_row(site.pk, at(1, 10, 5), path="/pricing", **LONDON_CHROME),
            event_row(site.pk, at(1, 11), path="/", **BERLIN_FIREFOX),
            # 2 Jan, 23:30 UTC = 3 Jan 00:30 in Berlin: visitor 3 on a phone signs up.
            event_row(site.pk, at(2, 23, 30), path="/blog", **MUNICH_PHONE),
            event_row(
                site.pk,
                at(2, 23, 31),
                kind="custom",
                name="Signup",
                path="/blog",
                props={"plan": "pro"},
                **MUNICH_PHONE,
            ),
        ]
    )


def get(client, endpoint, token, **params):
    return client.get(
        f"/api/v1/statistics/{endpoint}", params, HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_seed_visitor_example(client, site, token, traffic):
    response = get(
        client, "visitor", token, id=site.public_id, **{"from": "2023-01-01", "to": "2023-03-01"}
    )
    assert response.status_code == 200
    days = response.json()
    assert len(days) == 60
    assert days[0] == {
        "day": "2023-01-01T00:00:00Z",
        "week": None,
        "month": None,
        "year": None,
        "visitors": 2,
        "views": 3,
        "sessions": 2,
        "bounces": 1,
        "bounce_rate": 0.5,
    }
    assert (
        days[1]["visitors"] == 0 and days[2]["visitors"] == 1
    )  # Berlin time: the phone visit is on 3 January


def test_time_zone_parameter_moves_day_boundaries(client, site, token, traffic):
    days = get(
        client,
        "visitor",
        token,
        id=site.public_id,
        tz="UTC",
        **{"from": "2023-01-01", "to": "2023-01-03"},
    ).json()
    assert [d["visitors"] for d in days] == [2, 1, 0]


@pytest.mark.parametrize(
    ("scale", "field", "stamp"),
    [
        ("week", "week", "2022-12-26T00:00:00Z"),
        ("month", "month", "2023-01-01T00:00:00Z"),
        ("year", "year", "2023-01-01T00:00:00Z"),
    ],
)
def test_scales(client, site, token, traffic, scale, field, stamp):
    rows = get(
        client,
        "visitor",
        token,
        id=site.public_id,
        scale=scale,
        **{"from": "2023-01-01", "to": "2023-01-31"},
    ).json()
    assert rows[0][field] == stamp and rows[0]["day"] is None
    assert sum(r["visitors"] for r in rows) == 3


def test_iso_timestamps_are_accepted(client, site, token, traffic):
    rows = get(
        client,
        "visitor",
        token,
        id=site.public_id,
        **{"from": "2023-01-01T00:00:00.000Z", "to": "2023-01-03T00:00:00.000Z"},
    ).json()
    assert len(rows) == 3


def test_total_and_filters(client, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    assert get(client, "total", token, **base).json() == {
        "visitors": 3,
        "views": 4,
        "sessions": 3,
        "bounces": 1,
        "bounce_rate": 0.3333,
        "cr": 0,
        "custom_metric_avg": 0,
        "custom_metric_total": 0,
        "revenue": 0.0,  # Footfall's extra fields (docs/revenue.md)
        "average_revenue": None,
        "revenue_currency": "EUR",
    }
    assert get(client, "total", token, **base, language="en").json()["visitors"] == 1
    response = client.get(
        "/api/v1/statistics/total",
        {**base, "city": ["London", "Munich"]},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json()["visitors"] == 2
    assert get(client, "total", token, **base, country="!DE").json()["visitors"] == 1
    assert get(client, "total", token, **base, city="~lin").json()["visitors"] == 1
    assert get(client, "total", token, **base, city="^lin").json()["visitors"] == 2
    assert get(client, "total", token, **base, pattern="^/pri").json()["views"] == 1
    assert get(client, "total", token, **base, event="Signup").json()["visitors"] == 1
    assert get(client, "total", token, **base, meta_plan="pro").json()["visitors"] == 1


def test_breakdowns(client, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    pages = get(client, "page", token, **base).json()
    assert [(p["path"], p["visitors"], p["views"]) for p in pages] == [
        ("/", 2, 2),
        ("/blog", 1, 1),
        ("/pricing", 1, 1),
    ]
    countries = get(client, "country", token, **base).json()
    assert [(c["country_code"], c["visitors"], c["relative_visitors"]) for c in countries] == [
        ("DE", 2, 0.6667),
        ("GB", 1, 0.3333),
    ]
    assert [r["referrer_name"] for r in get(client, "referrer", token, **base).json()] == [
        "",
        "Google",
    ]
    assert {c["channel"] for c in get(client, "channel", token, **base).json()} == {
        "Organic Search",
        "Direct",
        "Email",
    }
    assert (
        get(client, "utm/source", token, **base, search="news").json()[0]["utm_source"]
        == "newsletter"
    )
    assert get(client, "platform", token, **base).json()["platform_mobile"] == 1
    assert [e["name"] for e in get(client, "events", token, **base).json()] == ["Signup"]
    assert len(get(client, "page", token, **base, limit=1, offset=1).json()) == 1
    assert [
        c["city"] for c in get(client, "city", token, **base, sort="city", direction="asc").json()
    ] == ["Berlin", "London", "Munich"]
    assert sum(h["visitors"] for h in get(client, "hours", token, **base).json()) == 3


def test_growth_against_the_previous_period(client, site, token, traffic):
    store([event_row(site.pk, datetime(2022, 12, 31, 10, tzinfo=UTC), visitor=9, session=9)])
    growth = get(
        client, "growth", token, id=site.public_id, **{"from": "2023-01-01", "to": "2023-01-01"}
    ).json()
    assert growth["visitors_growth"] == 1.0  # 2 against 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2023-01-01"}, "to"),
        ({"to": "2023-01-01"}, "from"),
        ({"from": "yesterday", "to": "2023-01-01"}, "from"),
        ({"from": "2023-01-02", "to": "2023-01-01"}, "to"),
        ({"from": "2023-01-01", "to": "2023-01-01", "scale": "decade"}, "scale"),
        ({"from": "2023-01-01", "to": "2023-01-01", "tz": "Mars/Base"}, "tz"),
        ({"from": "2023-01-01", "to": "2023-01-01", "pattern": "("}, "pattern"),
        # Dates whose next day, or previous period, is no date at all; ranges over ten years.
        ({"from": "9999-12-30", "to": "9999-12-31"}, "from"),
        ({"from": "2023-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "2000-01-01", "to": "2023-01-01"}, "from"),
        # Regular expressions Python accepts and PostgreSQL refuses.
        ({"from": "2023-01-01", "to": "2023-01-01", "pattern": "(?P<x>a)"}, "pattern"),
        ({"from": "2023-01-01", "to": "2023-01-01", "pattern": "a{1001}"}, "pattern"),
        ({"from": "2023-01-01", "to": "2023-01-01", "pattern": "[[:foo:]]"}, "pattern"),
        # Meta and tag keys are keys, never ORM lookups.
        (
            {"from": "2023-01-01", "to": "2023-01-01", "meta_plan__isnull": "maybe"},
            "meta_plan__isnull",
        ),
        ({"from": "2023-01-01", "to": "2023-01-01", "meta_plan__regex": "("}, "meta_plan__regex"),
        ({"from": "2023-01-01", "to": "2023-01-01", "tag_author__gt": "x"}, "tag_author__gt"),
        ({"from": "2023-01-01", "to": "2023-01-01", "offset": "100000000000000000000"}, "offset"),
    ],
)
@pytest.mark.parametrize("endpoint", ["visitor", "growth", "session/list", "page"])
def test_bad_parameters_name_the_field(client, site, token, traffic, params, field, endpoint):
    response = get(client, endpoint, token, id=site.public_id, **params)
    assert response.status_code == 400, response.content
    assert set(response.json()) == PIRSCH_KEYS and field in response.json()["validation"]


def test_limit_above_100_is_capped_not_refused(client, site, token):
    store(
        [
            event_row(
                site.pk, datetime(2023, 1, 1, 10, tzinfo=UTC), visitor=n, session=n, path=f"/p{n}"
            )
            for n in range(120)
        ]
    )
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-01"}
    for limit in ("101", "1000", "100000000000000000000"):
        response = get(client, "page", token, **base, limit=limit)
        assert response.status_code == 200
        assert len(response.json()) == 100
    assert len(get(client, "page", token, **base, limit=7).json()) == 7


def test_sorting_by_a_field_that_is_not_a_value_is_refused(client, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    response = get(client, "event/list", token, **base, sort="meta")
    assert response.status_code == 400 and "sort" in response.json()["validation"]
    assert get(client, "event/list", token, **base, sort="count").status_code == 200


def test_credentials_and_tenants(client, owner, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    assert get(client, "total", pa_key, **base).status_code == 403
    assert get(client, "total", "garbage", **base).status_code == 401
    other_owner = UserFactory()
    other = SiteFactory(hostname="other.example")
    SiteMembershipFactory(site=other, user=other_owner, role="owner")
    other_token = oauth_token_issue(
        client=api_client_create(user=other_owner, type="oauth", site=other)[0]
    )[0]
    response = get(client, "total", other_token, **base)
    assert response.status_code == 404 and set(response.json()) == PIRSCH_KEYS
    no_scope = api_client_create(user=owner, type="oauth", site=site, scopes=["domains:read"])[0]
    assert get(client, "total", oauth_token_issue(client=no_scope)[0], **base).status_code == 403
    assert get(client, "nothing/here", token, **base).status_code == 404


def test_active_visitors(client, site, token):
    from django.utils import timezone

    now = timezone.now()
    store(
        [
            event_row(site.pk, now, visitor=5, session=5, path="/live", country_code="JP"),
            event_row(site.pk, now, visitor=6, session=6, path="/live", country_code="JP"),
            event_row(site.pk, now, visitor=7, session=7, path="/", country_code="DE"),
            # Outside the last minute: not active.
            event_row(site.pk, now - timedelta(minutes=5), visitor=8, session=8, country_code="FR"),
        ]
    )
    body = get(client, "active", token, id=site.public_id, start=60).json()
    assert body == {
        "stats": [
            {"path": "/live", "title": "", "visitors": 2},
            {"path": "/", "title": "", "visitors": 1},
        ],
        "countries": [
            {"visitors": 2, "relative_visitors": 0.6667, "country_code": "JP"},
            {"visitors": 1, "relative_visitors": 0.3333, "country_code": "DE"},
        ],
        "visitors": 3,
    }
    assert get(client, "active", token, id=site.public_id, start=4000).status_code == 400


def test_exit_pages_durations_sessions_and_events(client, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    exits = get(client, "page/exit", token, **base).json()
    assert [(e["path"], e["exits"]) for e in exits] == [("/", 1), ("/blog", 1), ("/pricing", 1)]
    sessions = get(client, "duration/session", token, **base, scale="month").json()
    assert sessions == [
        {
            "day": None,
            "week": None,
            "month": "2023-01-01T00:00:00Z",
            "year": None,
            "average_time_spent_seconds": round((300 + 0 + 60) / 3),
        }
    ]
    pages = get(client, "duration/page", token, **base, scale="month").json()
    assert pages[0]["average_time_spent_seconds"] == round(
        (300 + 60) / 2
    )  # "/" → "/pricing" 5 min, "/blog" → Signup 1 min
    listed = get(client, "session/list", token, **base).json()
    assert [(s["entry_path"], s["exit_path"], s["page_views"], s["is_bounce"]) for s in listed] == [
        ("/blog", "/blog", 1, False),
        ("/", "/", 1, True),
        ("/", "/pricing", 2, False),
    ]
    assert get(client, "event/list", token, **base).json() == [
        {"name": "Signup", "meta": {"plan": "pro"}, "visitors": 1, "count": 1}
    ]
    meta = get(client, "event/meta", token, **base, event="Signup", event_meta_key="plan").json()
    assert [(m["meta_value"], m["visitors"], m["cr"]) for m in meta] == [("pro", 1, 0.3333)]
    assert get(client, "event/meta", token, **base, event="Signup").status_code == 400
    assert [
        (p["path"], p["visitors"])
        for p in get(client, "event/page", token, **base, event="Signup").json()
    ] == [("/blog", 1)]


def test_tags(client, site, token):
    store(
        [
            event_row(
                site.pk,
                datetime(2023, 1, 1, 10, tzinfo=UTC),
                visitor=1,
                session=1,
                props={"tags": {"author": "John", "post": "First"}},
            ),
            event_row(
                site.pk,
                datetime(2023, 1, 1, 11, tzinfo=UTC),
                visitor=2,
                session=2,
                props={"tags": {"author": "Jane"}},
            ),
        ]
    )
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-01"}
    assert [(t["key"], t["visitors"]) for t in get(client, "tags", token, **base).json()] == [
        ("author", 2),
        ("post", 1),
    ]
    assert [
        (t["value"], t["visitors"])
        for t in get(client, "tag/details", token, **base, key="author").json()
    ] == [("Jane", 1), ("John", 1)]
    assert get(client, "total", token, **base, tag_author="John").json()["visitors"] == 1


def test_goals_by_page_and_by_event(client, site, token, traffic):
    from stats.models import Goal

    Goal.objects.create(site=site, name="Saw pricing", path_pattern="^/pricing")
    Goal.objects.create(site=site, name="Signed up", event_name="Signup")
    goals = get(
        client, "goals", token, id=site.public_id, **{"from": "2023-01-01", "to": "2023-01-31"}
    ).json()
    assert [(g["page_goal"]["name"], g["visitors"], g["cr"]) for g in goals] == [
        ("Saw pricing", 1, 0.3333),
        ("Signed up", 1, 0.3333),
    ]


# Every filter and form: (query parameters, visitors in January). Visitors: 1 London/Chrome
# (/ → /pricing from Google), 2 Berlin/Firefox (/ , direct), 3 Munich/Safari phone (/blog and
# a Signup with plan=pro, from the newsletter).
FILTER_CASES = [
    ({"path": "/pricing"}, 1),
    ({"entry_path": "/blog"}, 1),
    ({"exit_path": "/pricing"}, 1),
    ({"exit_path": "!/pricing"}, 2),
    ({"pattern": "^/bl"}, 1),
    ({"event": "Signup"}, 1),
    ({"event_meta_key": "plan"}, 1),
    ({"meta_plan": "pro"}, 1),
    ({"language": "de"}, 2),
    ({"country": "DE"}, 2),
    ({"region": "DE-BY"}, 1),
    ({"city": "Berlin"}, 1),
    ({"referrer": "google.com/search"}, 1),
    ({"referrer_name": "Google"}, 1),
    ({"channel": "Email"}, 1),
    ({"os": "iOS"}, 1),
    ({"browser": "Firefox"}, 1),
    ({"platform": "mobile"}, 1),
    ({"screen_class": "XL"}, 1),
    ({"utm_source": "newsletter"}, 1),
    ({"utm_medium": "email"}, 1),
    ({"utm_campaign": "winter"}, 1),
    ({"utm_content": "footer"}, 1),
    ({"utm_term": "boots"}, 1),
    ({"os": "!iOS"}, 2),  # not
    ({"browser": "~FIRE"}, 1),  # contains, any case
    ({"browser": "^fire"}, 2),  # does not contain
    ({"browser": ["Chrome", "Safari"]}, 2),  # repeated: or
    ({"country": ["!DE", "!GB"]}, 0),  # repeated negations: neither
    ({"city": "Berlin", "language": "de"}, 1),  # different filters: and
    ({"country": "DE", "browser": "Chrome"}, 0),
    # Code-valued filters ignore case, as Pirsch's documented ``country=jp`` shows.
    ({"country": "de"}, 2),
    ({"country": "!de"}, 1),
    ({"country": ["gb", "De"]}, 3),
    ({"region": "de-by"}, 1),
    ({"language": "DE"}, 2),
    ({"platform": "MOBILE"}, 1),
    ({"screen_class": "xl"}, 1),
]


@pytest.mark.parametrize("rolled_up", [False, True], ids=["raw", "rolled-up"])
@pytest.mark.parametrize(("params", "visitors"), FILTER_CASES)
def test_every_filter_form(client, site, token, traffic, params, visitors, rolled_up):
    from stats.rollups import rollup_pending

    if rolled_up:  # whole past days then come from rollups and session rows
        rollup_pending()
    response = client.get(
        "/api/v1/statistics/total",
        {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31", **params},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert response.json()["visitors"] == visitors


def test_filtered_breakdowns_and_sessions_agree_before_and_after_rollups(
    client, site, token, traffic
):
    from stats.rollups import rollup_pending

    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31", "country": "DE"}
    endpoints = ["visitor", "page/entry", "page/exit", "city", "duration/session", "session/list"]
    before = {e: get(client, e, token, **base).json() for e in endpoints}
    rollup_pending()
    assert {e: get(client, e, token, **base).json() for e in endpoints} == before
    assert [(c["city"], c["visitors"]) for c in before["city"]] == [("Berlin", 1), ("Munich", 1)]
    assert [(e["path"], e["exits"]) for e in before["page/exit"]] == [("/", 1), ("/blog", 1)]
    assert [s["entry_path"] for s in before["session/list"]] == ["/blog", "/"]


def test_paging_sorting_and_searching(client, site, token, traffic):
    base = {"id": site.public_id, "from": "2023-01-01", "to": "2023-01-31"}
    paths = [p["path"] for p in get(client, "page", token, **base).json()]
    assert paths == ["/", "/blog", "/pricing"]
    assert [p["path"] for p in get(client, "page", token, **base, direction="asc").json()] == [
        "/pricing",
        "/blog",
        "/",
    ]
    assert [p["path"] for p in get(client, "page", token, **base, offset=2).json()] == ["/pricing"]
    assert get(client, "page", token, **base, offset=3).json() == []
    assert [p["path"] for p in get(client, "page", token, **base, limit=2).json()] == ["/", "/blog"]
    assert [
        p["path"] for p in get(client, "page", token, **base, sort="path", direction="asc").json()
    ] == ["/", "/blog", "/pricing"]
    assert [p["path"] for p in get(client, "page", token, **base, search="PRI").json()] == [
        "/pricing"
    ]
    listed = get(client, "session/list", token, **base, limit=1, offset=1).json()
    assert [s["entry_path"] for s in listed] == ["/"]  # the second newest session
    response = get(client, "page", token, **base, direction="sideways")
    assert response.status_code == 400 and "direction" in response.json()["validation"]
    response = get(client, "page", token, **base, offset="-1")
    assert response.status_code == 400 and "offset" in response.json()["validation"]
