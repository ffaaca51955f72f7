"""Insights API: journeys between pages and acquisition."""

from stats.query import StatsQuery, breakdown
from tests.helpers import store
from tests.stats.insights.support import (
    NOON,
    data,
    row,
    signal,
)

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
