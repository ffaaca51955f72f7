"""Plausible's Sites API on Footfall: sites, goals, shared links, custom properties, guests."""

import json

import pytest
from django.core import mail

from accounts.services import api_client_create
from sites.models import Invitation, SharedLink, Site, SiteDomain, SiteMembership
from stats.api.plausible.authentication import INVALID_KEY_FOR_RESOURCE
from stats.models import Goal
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="blog.example", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def key(owner):
    return api_client_create(user=owner, type="plausible", scopes=["stats", "sites"])[1]["key"]


def call(client, method, path, key, body=None, **params):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if method == "get":
        return client.get(f"/api/v1/sites{path}", params, **kwargs)
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return getattr(client, method)(
        f"/api/v1/sites{path}{query}",
        json.dumps(body or {}),
        content_type="application/json",
        **kwargs,
    )


def test_stats_only_key_cannot_use_the_sites_api(client, owner, site):
    stats_key = api_client_create(user=owner, type="plausible")[1]["key"]
    response = call(client, "get", "", stats_key)
    assert response.status_code == 401
    assert response.json() == {"error": INVALID_KEY_FOR_RESOURCE}


def test_create_site_gives_every_identifier_and_receives_plausible_events(
    client, owner, key, drain
):
    response = call(client, "post", "", key, {"domain": "new.example", "timezone": "Europe/London"})
    assert response.status_code == 200
    data = response.json()
    assert {k: data[k] for k in ("domain", "timezone")} == {
        "domain": "new.example",
        "timezone": "Europe/London",
    }
    site = Site.objects.get(hostname="new.example")
    assert data["footfall"]["id"] == site.public_id
    assert data["footfall"]["public_key"] == site.public_key
    assert data["footfall"]["idsite"] == site.pk
    assert SiteDomain.objects.filter(site=site, domain="new.example").exists()
    assert SiteMembership.objects.get(site=site).user == owner
    event = {"name": "pageview", "url": "https://new.example/", "domain": "new.example"}
    accepted = client.post(
        "/api/event",
        json.dumps(event),
        content_type="text/plain",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert accepted.status_code == 202
    drain()
    realtime = client.get(
        "/api/v1/stats/realtime/visitors",
        {"site_id": "new.example"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert realtime.json() == 1


def test_create_site_errors(client, key):
    assert call(client, "post", "", key, {}).json() == {"error": "domain can't be blank"}
    response = call(client, "post", "", key, {"domain": "new.example", "timezone": "Mars/Base"})
    assert response.status_code == 400
    assert response.json() == {"error": "timezone is invalid"}
    assert not Site.objects.filter(hostname="new.example").exists()


def test_list_get_update_delete(client, key, site, owner):
    other = SiteFactory(hostname="a.example")
    SiteMembershipFactory(site=other, user=owner, role="owner")
    listing = call(client, "get", "", key).json()
    assert listing == {
        "sites": [
            {"domain": "a.example", "timezone": "UTC"},
            {"domain": "blog.example", "timezone": "Europe/Berlin"},
        ],
        "meta": {"after": None, "before": None, "limit": 100},
    }
    first_page = call(client, "get", "", key, limit="1").json()
    assert first_page["sites"] == [{"domain": "a.example", "timezone": "UTC"}]
    assert first_page["meta"]["after"] == "a.example"
    detail = call(client, "get", "/blog.example", key).json()
    assert detail["domain"] == "blog.example"
    assert detail["custom_properties"] == []
    renamed = call(client, "put", "/blog.example", key, {"domain": "journal.example"})
    assert renamed.json() == {"domain": "journal.example", "timezone": "Europe/Berlin"}
    assert call(client, "get", "/blog.example", key).status_code == 404
    assert call(client, "delete", "/journal.example", key).json() == {"deleted": True}
    assert not Site.objects.filter(pk=site.pk).exists()
    assert call(client, "get", "/nope.example", key).json() == {"error": "Site could not be found"}


def test_update_without_domain_is_upstreams_400(client, key, site):
    response = call(client, "put", "/blog.example", key, {})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Payload must contain at least one of the parameters 'domain', "
        "'tracker_script_configuration'"
    }


def test_a_viewers_key_cannot_manage_or_delete(client, site):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    viewer_key = api_client_create(user=viewer, type="plausible", scopes=["sites"])[1]["key"]
    assert call(client, "get", "/blog.example", viewer_key).status_code == 404
    assert call(client, "delete", "/blog.example", viewer_key).status_code == 404
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    admin_key = api_client_create(user=admin, type="plausible", scopes=["sites"])[1]["key"]
    assert call(client, "get", "/blog.example", admin_key).status_code == 200
    assert call(client, "delete", "/blog.example", admin_key).status_code == 404
    assert Site.objects.filter(pk=site.pk).exists()


def test_goals_find_or_create_list_delete(client, key, site):
    event_goal = call(
        client,
        "put",
        "/goals",
        key,
        {"site_id": "blog.example", "goal_type": "event", "event_name": "Signup"},
    ).json()
    assert event_goal == {
        "id": event_goal["id"],
        "domain": "blog.example",
        "display_name": "Signup",
        "goal_type": "event",
        "event_name": "Signup",
        "page_path": None,
    }
    again = call(
        client,
        "put",
        "/goals",
        key,
        {"site_id": "blog.example", "goal_type": "event", "event_name": "Signup"},
    ).json()
    assert again["id"] == event_goal["id"]
    page_goal = call(
        client,
        "put",
        "/goals",
        key,
        {"site_id": "blog.example", "goal_type": "page", "page_path": "/blog/**"},
    ).json()
    assert page_goal["goal_type"] == "page"
    assert page_goal["page_path"] == "/blog/**"
    assert Goal.objects.get(pk=page_goal["id"]).path_pattern == r"^/blog/.*$"
    listing = call(client, "get", "/goals", key, site_id="blog.example").json()
    assert [g["id"] for g in listing["goals"]] == [event_goal["id"], page_goal["id"]]
    deleted = call(client, "delete", f"/goals/{event_goal['id']}", key, {"site_id": "blog.example"})
    assert deleted.json() == {"deleted": True}
    missing = call(client, "delete", f"/goals/{event_goal['id']}", key, {"site_id": "blog.example"})
    assert missing.status_code == 404
    assert missing.json() == {"error": "Goal could not be found"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"goal_type": "event"}, "Parameter `site_id` is required to create a goal"),
        ({"site_id": "blog.example"}, "Parameter `goal_type` is required to create a goal"),
        (
            {"site_id": "blog.example", "goal_type": "event"},
            "Parameter `event_name` is required to create a goal",
        ),
    ],
)
def test_goal_parameter_errors(client, key, site, body, message):
    response = call(client, "put", "/goals", key, body)
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert not Goal.objects.exists()


def test_shared_link_is_created_once_and_opens_the_dashboard(client, key, site):
    response = call(
        client, "put", "/shared-links", key, {"site_id": "blog.example", "name": "WordPress"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "WordPress"
    assert data["url"].startswith("http://testserver/share/")
    client.logout()
    assert client.get(data["url"].removeprefix("http://testserver")).status_code in (200, 302)
    again = call(
        client, "put", "/shared-links", key, {"site_id": "blog.example", "name": "WordPress"}
    )
    assert again.status_code == 400
    assert SharedLink.objects.filter(site=site).count() == 1
    assert call(client, "put", "/shared-links", key, {"site_id": "blog.example"}).json() == {
        "error": "Parameter `name` is required to create a shared link"
    }


def test_custom_properties(client, key, site):
    assert call(
        client, "put", "/custom-props", key, {"site_id": "blog.example", "property": "plan"}
    ).json() == {"created": True}
    assert call(client, "get", "/blog.example", key).json()["custom_properties"] == ["plan"]
    assert call(
        client, "delete", "/custom-props/plan", key, {"site_id": "blog.example"}
    ).json() == {"deleted": True}
    assert call(client, "get", "/blog.example", key).json()["custom_properties"] == []


def test_guests_invite_list_remove(client, key, site):
    invited = call(
        client,
        "put",
        "/guests",
        key,
        {"site_id": "blog.example", "email": "Guest@Example.com", "role": "editor"},
    )
    assert invited.json() == {"email": "guest@example.com", "role": "editor", "status": "invited"}
    assert len(mail.outbox) == 1
    assert Invitation.objects.get(site=site).role == "admin"
    member = UserFactory(email="viewer@example.com")
    SiteMembershipFactory(site=site, user=member, role="viewer")
    listing = call(client, "get", "/guests", key, site_id="blog.example").json()
    assert listing["guests"] == [
        {"email": "viewer@example.com", "role": "viewer", "status": "accepted"},
        {"email": "guest@example.com", "role": "editor", "status": "invited"},
    ]
    assert call(
        client, "delete", "/guests/viewer@example.com", key, {"site_id": "blog.example"}
    ).json() == {"deleted": True}
    assert not SiteMembership.objects.filter(site=site, user=member).exists()
    assert (
        call(
            client,
            "put",
            "/guests",
            key,
            {"site_id": "blog.example", "email": "x@example.com", "role": "owner"},
        ).status_code
        == 400
    )


def test_another_accounts_key_never_reads_or_changes_a_site(client, site):
    """Cross-tenant: every Sites API route with account B's key on account A's site."""
    other = UserFactory()
    other_key = api_client_create(user=other, type="plausible", scopes=["stats", "sites"])[1]["key"]
    goal = Goal.objects.create(site=site, name="Signup", event_name="Signup")
    target = {"site_id": "blog.example"}
    attempts = [
        call(client, "get", "/blog.example", other_key),
        call(client, "put", "/blog.example", other_key, {"domain": "stolen.example"}),
        call(client, "delete", "/blog.example", other_key),
        call(client, "get", "/goals", other_key, site_id="blog.example"),
        call(
            client, "put", "/goals", other_key, {**target, "goal_type": "event", "event_name": "X"}
        ),
        call(client, "delete", f"/goals/{goal.pk}", other_key, target),
        call(client, "put", "/shared-links", other_key, {**target, "name": "leak"}),
        call(client, "put", "/custom-props", other_key, {**target, "property": "p"}),
        call(client, "delete", "/custom-props/p", other_key, target),
        call(client, "get", "/guests", other_key, site_id="blog.example"),
        call(
            client,
            "put",
            "/guests",
            other_key,
            {**target, "email": "a@b.example", "role": "viewer"},
        ),
        call(client, "delete", "/guests/a@b.example", other_key, target),
    ]
    for response in attempts:
        assert response.status_code == 404, response.request
        assert response.json() == {"error": "Site could not be found"}
    assert call(client, "get", "", other_key).json()["sites"] == []
    site.refresh_from_db()
    assert site.hostname == "blog.example"
    assert Goal.objects.filter(site=site).count() == 1
    assert not SharedLink.objects.exists()
    assert not Invitation.objects.exists()
    assert site.settings.get("custom_properties") is None


def test_documented_form_examples(client, key, site):
    """Plausible's docs send form fields (curl -F, multipart): site, goal, shared link."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    created = client.post(
        "/api/v1/sites", {"domain": "test-domain.example", "timezone": "Europe/London"}, **auth
    )
    assert created.status_code == 200
    assert created.json()["domain"] == "test-domain.example"
    goal = client.put(
        "/api/v1/sites/goals",
        "site_id=blog.example&goal_type=event&event_name=Signup",
        content_type="application/x-www-form-urlencoded",
        **auth,
    )
    assert goal.json()["event_name"] == "Signup"
    link = client.put(
        "/api/v1/sites/shared-links",
        "site_id=blog.example&name=Wordpress",
        content_type="application/x-www-form-urlencoded",
        **auth,
    )
    assert link.json()["name"] == "Wordpress"
