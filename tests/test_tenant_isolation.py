"""Every API endpoint × every credential of another tenant: no data in, no data out."""

import json

import pytest

from accounts.services import api_client_create, oauth_token_issue
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.models import Event

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
SECRET_PATH = "/victim-secret-page"
HIT = {"url": f"https://victim.example{SECRET_PATH}", "ip": "203.0.113.50", "user_agent": CHROME}

READ_ENDPOINTS = [
    "domain",
    "visitors",
    "visitors/{visitor}",
    "sessions",
    "sessions/{session}",
    "events",
    "events/types",
    "stats",
    "pages/top",
    "live",
]
WRITE_ENDPOINTS = [
    ("hit", HIT),
    ("event", dict(HIT, event_name="Steal")),
    ("session", HIT),
    ("hit/batch", [dict(HIT, time="2026-01-01T00:00:00Z")]),
    ("event/batch", [dict(HIT, event_name="Steal", time="2026-01-01T00:00:00Z")]),
    ("session/batch", [dict(HIT, time="2026-01-01T00:00:00Z")]),
]


@pytest.fixture
def world(client, drain):
    victim_owner = UserFactory()
    victim = SiteFactory(hostname="victim.example")
    SiteMembershipFactory(site=victim, user=victim_owner, role="owner")
    victim_key = api_client_create(user=victim_owner, type="key", site=victim)[1]["key"]
    victim_read = api_client_create(user=victim_owner, type="read", site=victim)[1]["key"]
    for path in (SECRET_PATH, "/other"):
        assert (
            client.post(
                "/api/v1/hit",
                data=json.dumps(dict(HIT, url=f"https://victim.example{path}")),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {victim_key}",
            ).status_code
            == 200
        )
    drain()
    visitors = client.get("/api/v1/visitors", HTTP_AUTHORIZATION=f"Bearer {victim_read}").json()[
        "data"
    ]
    sessions = client.get("/api/v1/sessions", HTTP_AUTHORIZATION=f"Bearer {victim_read}").json()[
        "data"
    ]

    attacker = UserFactory()
    attacker_site = SiteFactory(hostname="attacker.example")
    SiteMembershipFactory(site=attacker_site, user=attacker, role="owner")
    viewer = UserFactory()
    SiteMembershipFactory(site=victim, user=viewer, role="viewer")
    attacker_oauth_client, _ = api_client_create(user=attacker, type="oauth", site=attacker_site)
    attacker_account_oauth, _ = api_client_create(user=attacker, type="oauth")
    credentials = {
        "none": None,
        "garbage": "garbage",
        "victim public key": victim.public_key,
        "attacker pa_ key": api_client_create(user=attacker, type="key", site=attacker_site)[1][
            "key"
        ],
        "attacker account pa_ key": api_client_create(user=attacker, type="key")[1]["key"],
        "attacker sk_live_ key": api_client_create(user=attacker, type="read", site=attacker_site)[
            1
        ]["key"],
        "attacker account sk_live_ key": api_client_create(user=attacker, type="read")[1]["key"],
        "attacker site oauth token": oauth_token_issue(client=attacker_oauth_client)[0],
        "attacker account oauth token": oauth_token_issue(client=attacker_account_oauth)[0],
        "victim viewer's account pa_ key": api_client_create(user=viewer, type="key")[1]["key"],
    }
    return {
        "victim": victim,
        "credentials": credentials,
        "visitor": visitors[0]["visitor_id"],
        "session": sessions[0]["session_id"],
        "victim_ids": {victim.public_id, visitors[0]["visitor_id"], sessions[0]["session_id"]},
    }


def test_reads_never_show_another_tenants_data(client, world):
    for endpoint in READ_ENDPOINTS:
        path = "/api/v1/" + endpoint.format(visitor=world["visitor"], session=world["session"])
        for name, credential in world["credentials"].items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
            for params in ({}, {"site": world["victim"].public_id}):
                response = client.get(path, params, **headers)
                body = response.content.decode()
                assert response.status_code in (200, 401, 403, 404), (
                    path,
                    name,
                    response.status_code,
                )
                assert SECRET_PATH not in body, (path, name)
                assert not any(identifier in body for identifier in world["victim_ids"]), (
                    path,
                    name,
                )


STATISTICS_ENDPOINTS = [
    "visitor",
    "total",
    "growth",
    "hours",
    "active",
    "page",
    "page/entry",
    "referrer",
    "channel",
    "utm/source",
    "country",
    "region",
    "city",
    "browser",
    "os",
    "platform",
    "screen",
    "language",
    "events",
]


def test_statistics_never_show_another_tenants_data(client, world):
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    params = {"id": world["victim"].public_id, "from": "2020-01-01", "to": today}
    for endpoint in STATISTICS_ENDPOINTS:
        for name, credential in world["credentials"].items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
            response = client.get(f"/api/v1/statistics/{endpoint}", params, **headers)
            assert response.status_code in (401, 403, 404), (endpoint, name, response.status_code)
            assert SECRET_PATH not in response.content.decode(), (endpoint, name)


def test_ecommerce_never_shows_another_tenants_orders(client, world):
    """Issue #15: Footfall's ecommerce API, with every other tenant's credential."""
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    params = {"id": world["victim"].public_id, "from": "2020-01-01", "to": today}
    for path in ("/api/v1/ecommerce", "/api/v1/ecommerce/orders"):
        for name, credential in world["credentials"].items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
            response = client.get(path, params, **headers)
            assert response.status_code in (401, 403, 404), (path, name, response.status_code)
            assert '"orders"' not in response.content.decode(), (path, name)


def test_writes_never_land_in_another_tenants_site(client, world, drain):
    before = Event.objects.filter(site=world["victim"]).count()
    for endpoint, body in WRITE_ENDPOINTS:
        for name, credential in world["credentials"].items():
            headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
            response = client.post(
                f"/api/v1/{endpoint}",
                data=json.dumps(body),
                content_type="application/json",
                **headers,
            )
            assert response.status_code in (200, 401, 403, 404), (
                endpoint,
                name,
                response.status_code,
            )
    drain()
    assert Event.objects.filter(site=world["victim"]).count() == before


def test_management_api_never_reads_or_writes_another_tenants_objects(client, world, settings):
    """Issue #19: /api/manage/v1/ with every other tenant's credential (and a logged-in
    attacker); the victim's Viewer may read funnels but changes nothing."""
    from stats.models import Funnel, Import
    from stats.notifications import services as notifications
    from stats.notifications.models import Alert, Report, Webhook

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    victim = world["victim"]
    steps = [
        {"alternatives": [{"type": "page", "path": SECRET_PATH}]},
        {"alternatives": [{"type": "page", "path": "/other"}]},
    ]
    funnel = Funnel.objects.create(site=victim, name="Victim funnel", steps=steps)
    webhook, _secret = notifications.webhook_create(
        site=victim, url="https://127.0.0.1/hook", format="json"
    )
    report = notifications.report_create(
        site=victim, email="boss@victim.example", frequency="weekly"
    )
    alert = notifications.alert_create(site=victim, kind="no-data", webhook_ids=[webhook.pk])
    Import.objects.create(id="victim-imp", site=victim, kind="plausible", file_hash="1" * 64)
    attacker = world["credentials"]
    owner_of_attacker_site = UserFactory()
    SiteMembershipFactory(
        site=SiteFactory(hostname="attacker2.example"), user=owner_of_attacker_site, role="owner"
    )
    credentials = {
        **attacker,
        "attacker sites key": api_client_create(
            user=owner_of_attacker_site, type="plausible", scopes=["stats", "sites"]
        )[1]["key"],
    }
    base = f"/api/manage/v1/sites/{victim.public_id}"
    members = {
        "funnels": funnel.pk,
        "webhooks": webhook.pk,
        "reports": report.pk,
        "alerts": alert.pk,
        "imports": "victim-imp",
    }
    body = json.dumps(
        {
            "name": "pwned",
            "steps": steps,
            "kind": "spike",
            "emails": ["a@b.example"],
            "url": "https://127.0.0.1/x",
            "format": "json",
            "frequency": "daily",
            "email": "a@b.example",
        }
    )

    def state():
        return (
            sorted(Funnel.objects.filter(site=victim).values_list("pk", "name")),
            sorted(Webhook.objects.filter(site=victim).values_list("pk", "url")),
            sorted(Report.objects.filter(site=victim).values_list("pk", "email")),
            sorted(Alert.objects.filter(site=victim).values_list("pk", "kind")),
            Import.objects.filter(site=victim).count(),
        )

    before = state()

    def check(name, response):
        assert response.status_code in (401, 403, 404, 405), (name, response.status_code)
        text = response.content.decode()
        assert "Victim funnel" not in text and "boss@victim" not in text, name

    for name, credential in credentials.items():
        headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
        for resource, pk in members.items():
            check(name, client.get(f"{base}/{resource}", **headers))
            check(name, client.get(f"{base}/{resource}/{pk}", **headers))
            check(
                name,
                client.post(f"{base}/{resource}", body, content_type="application/json", **headers),
            )
            check(
                name,
                client.patch(
                    f"{base}/{resource}/{pk}", body, content_type="application/json", **headers
                ),
            )
            check(name, client.delete(f"{base}/{resource}/{pk}", **headers))
    client.force_login(owner_of_attacker_site)
    for resource, pk in members.items():
        check("attacker session", client.get(f"{base}/{resource}/{pk}"))
        check("attacker session", client.delete(f"{base}/{resource}/{pk}"))
        check(
            "attacker session",
            client.post(f"{base}/{resource}", body, content_type="application/json"),
        )
    assert state() == before
