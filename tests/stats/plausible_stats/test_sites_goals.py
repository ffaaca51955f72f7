"""Plausible's Sites API goals beyond the basics (tests/stats/test_plausible_sites_api.py):
the documented optional ``display_name`` (the name the Stats API filters and breaks down
by) and the documented ``after``/``before`` cursors of the goals list."""

import json

import pytest

from accounts.services import api_client_create
from stats.models import Goal
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, at, v2


@pytest.fixture
def sites_key(owner):
    return api_client_create(user=owner, type="plausible", scopes=["stats", "sites"])[1]["key"]


def put_goal(client, key, **body):
    return client.put(
        "/api/v1/sites/goals",
        json.dumps({"site_id": "shop.example", **body}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def list_goals(client, key, **params):
    return client.get(
        "/api/v1/sites/goals",
        {"site_id": "shop.example", **params},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_display_name_names_the_goal_for_the_stats_api(client, sites_key, site):
    event = put_goal(
        client, sites_key, goal_type="event", event_name="Signup", display_name="Sign-ups"
    ).json()
    assert event == {
        "id": event["id"],
        "domain": "shop.example",
        "display_name": "Sign-ups",
        "goal_type": "event",
        "event_name": "Signup",
        "page_path": None,
    }
    # Find or create: the same event name answers the same goal, its name kept.
    again = put_goal(client, sites_key, goal_type="event", event_name="Signup", display_name="X")
    assert again.json() == event
    page = put_goal(
        client, sites_key, goal_type="page", page_path="/blog/**", display_name="Blog"
    ).json()
    assert (page["display_name"], page["page_path"]) == ("Blog", "/blog/**")
    listed = list_goals(client, sites_key).json()["goals"]
    assert [(g["display_name"], g["page_path"]) for g in listed] == [
        ("Sign-ups", None),
        ("Blog", "/blog/**"),
    ]

    store(
        [
            event_row(site.pk, at(DAY, 9), visitor=1, session=1, path="/blog/a"),
            event_row(site.pk, at(DAY, 9, 1), visitor=1, session=1, kind="custom", name="Signup"),
            event_row(site.pk, at(DAY, 10), visitor=2, session=2, path="/"),
        ]
    )
    body = {
        "metrics": ["visitors", "events"],
        "date_range": [str(DAY), str(DAY)],
        "dimensions": ["event:goal"],
    }
    rows = v2(client, sites_key, body).json()["results"]
    assert sorted(map(tuple, (r["dimensions"] + r["metrics"] for r in rows))) == [
        ("Blog", 1, 1),
        ("Sign-ups", 1, 1),
    ]
    filtered = v2(
        client,
        sites_key,
        {**body, "dimensions": [], "filters": [["is", "event:goal", ["Sign-ups"]]]},
    )
    assert filtered.json()["results"] == [{"metrics": [1, 1], "dimensions": []}]


def test_display_name_taken_or_blank_is_a_400(client, sites_key, site):
    put_goal(client, sites_key, goal_type="event", event_name="Signup")
    taken = put_goal(
        client, sites_key, goal_type="page", page_path="/signup", display_name="Signup"
    )
    assert taken.status_code == 400
    assert taken.json() == {"error": "display_name: has already been taken"}
    blank = put_goal(client, sites_key, goal_type="event", event_name="Buy", display_name=" ")
    assert blank.status_code == 400
    assert blank.json() == {"error": "display_name is invalid"}
    assert Goal.objects.filter(site=site).count() == 1


def test_page_path_of_a_dashboard_goal_is_read_back_or_from_its_name(client, sites_key, site):
    Goal.objects.create(site=site, name="Visit /a", path_pattern=r"^/a(\?.*)?$")
    Goal.objects.create(site=site, name="Docs", path_pattern=r"^/docs/[^/]*$")
    listed = list_goals(client, sites_key).json()["goals"]
    assert [g["page_path"] for g in listed] == ["/a", "/docs/*"]


def test_goals_list_pages_with_after_and_before_cursors(client, sites_key, site):
    ids = [
        put_goal(client, sites_key, goal_type="event", event_name=f"E{n}").json()["id"]
        for n in range(5)
    ]
    seen, after, pages = [], None, []
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = list_goals(client, sites_key, **params).json()
        pages.append(page)
        seen += [g["id"] for g in page["goals"]]
        after = page["meta"]["after"]
        if after is None:
            break
    assert seen == ids
    assert [p["meta"]["limit"] for p in pages] == [2, 2, 2]
    assert pages[0]["meta"]["before"] is None
    back = list_goals(client, sites_key, limit=2, before=pages[2]["meta"]["before"]).json()
    assert [g["id"] for g in back["goals"]] == ids[2:4]
    assert back["meta"] == {"after": str(ids[3]), "before": str(ids[2]), "limit": 2}
    bad = list_goals(client, sites_key, after="nope")
    assert bad.status_code == 400
    assert bad.json() == {"error": "Invalid pagination cursor"}
