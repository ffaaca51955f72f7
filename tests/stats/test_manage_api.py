"""Footfall's management API (/api/manage/v1/): funnels, reports, webhooks, alerts, imports
and API clients with the dashboard's roles, one error shape, nothing across accounts."""

import json

import pytest
from django.test import Client

from accounts.models import ApiClient
from accounts.services import api_client_create
from analytics_project.schema import openapi_document
from stats.models import Funnel, Goal, Import
from stats.notifications.models import Alert, Report, Webhook
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

STEPS = [
    {"name": "Home", "alternatives": [{"type": "page", "path": "/"}]},
    {"name": "Pricing", "alternatives": [{"type": "page", "path": "/pricing"}]},
]
ERROR_KEYS = {"code", "message", "fields"}


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="shop.example")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def sites_key(user) -> str:
    return api_client_create(user=user, type="plausible", scopes=["sites"])[1]["key"]


@pytest.fixture
def key(owner):
    return sites_key(owner)


def call(client, method, path, key=None, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    kwargs = {"content_type": "application/json"} if body is not None else {}
    data = json.dumps(body) if body is not None else None
    if data is not None:
        return getattr(client, method)(f"/api/manage/v1/{path}", data, **kwargs, **headers)
    return getattr(client, method)(f"/api/manage/v1/{path}", **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["code"] == code
    return body["error"]


# --- funnels --------------------------------------------------------------------------------


def test_funnel_create_read_change_delete(client, key, site):
    base = f"sites/{site.public_id}/funnels"
    created = call(client, "post", base, key, {"name": "Signup", "steps": STEPS})
    assert created.status_code == 201, created.json()
    funnel = created.json()
    assert funnel["name"] == "Signup" and funnel["scope"] == "visitor"
    assert funnel["window_seconds"] == 86_400 and len(funnel["steps"]) == 2
    assert call(client, "get", base, key).json() == [funnel]
    changed = call(client, "patch", f"{base}/{funnel['id']}", key, {"order": "strict"})
    assert changed.status_code == 200 and changed.json()["order"] == "strict"
    assert Funnel.objects.get(pk=funnel["id"]).order == "strict"
    assert call(client, "delete", f"{base}/{funnel['id']}", key).status_code == 204
    assert not Funnel.objects.exists()
    assert_error(call(client, "get", f"{base}/{funnel['id']}", key), 404, "not_found")


def test_funnel_validation_names_the_field_and_writes_nothing(client, key, site):
    base = f"sites/{site.public_id}/funnels"
    error = assert_error(
        call(client, "post", base, key, {"name": "x", "steps": STEPS[:1]}), 400, "invalid"
    )
    assert list(error["fields"]) == ["steps"]
    error = assert_error(
        call(client, "post", base, key, {"name": ["x"], "steps": STEPS}), 400, "invalid"
    )
    assert "name" in error["fields"] or "name" in error["message"]
    assert_error(call(client, "post", base, key, {"scope": "nope"}), 400, "invalid")
    assert_error(call(client, "post", base, key, ["not", "an", "object"]), 400, "invalid")
    assert_error(
        call(client, "post", base, key, {"name": "a\x00b", "steps": STEPS}), 400, "invalid"
    )
    response = client.post(
        f"/api/manage/v1/{base}",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert_error(response, 400, "parse_error")
    assert_error(call(client, "get", f"{base}/abc", key), 404, "not_found")
    assert not Funnel.objects.exists()


def test_viewers_read_funnels_and_reports_but_do_not_write(client, site):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    key = sites_key(viewer)
    base = f"sites/{site.public_id}"
    assert call(client, "get", f"{base}/funnels", key).status_code == 200
    assert_error(
        call(client, "post", f"{base}/funnels", key, {"name": "x", "steps": STEPS}),
        403,
        "forbidden",
    )
    for resource in ("webhooks", "alerts", "imports"):
        assert_error(call(client, "get", f"{base}/{resource}", key), 403, "forbidden")
    # Reports: a Viewer subscribes their own address, and sees only their own.
    Report.objects.create(
        site=site, email="boss@example.com", frequency="weekly", created_at="2026-01-01T00:00Z"
    )
    own = call(client, "post", f"{base}/reports", key, {"frequency": "monthly"})
    assert own.status_code == 201, own.json()
    assert own.json()["email"] == viewer.email.lower()
    assert [r["email"] for r in call(client, "get", f"{base}/reports", key).json()] == [
        viewer.email.lower()
    ]
    assert_error(
        call(
            client,
            "post",
            f"{base}/reports",
            key,
            {"frequency": "weekly", "email": "x@example.com"},
        ),
        403,
        "forbidden",
    )
    assert not Funnel.objects.exists() and Report.objects.count() == 2


# --- webhooks and alerts --------------------------------------------------------------------


def test_webhook_secret_is_shown_once_and_alerts_use_webhooks(client, key, site, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    base = f"sites/{site.public_id}"
    created = call(
        client,
        "post",
        f"{base}/webhooks",
        key,
        {"url": "http://127.0.0.1:9/hook", "format": "slack"},
    )
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    hook = Webhook.objects.get()
    assert secret not in hook.secret_sealed and secret.startswith(hook.secret_prefix)
    listed = call(client, "get", f"{base}/webhooks", key).json()
    assert listed == [{k: v for k, v in created.json().items() if k != "secret"}]
    goal = Goal.objects.create(site=site, name="Signup", event_name="Signup")
    alert = call(
        client,
        "post",
        f"{base}/alerts",
        key,
        {
            "kind": "goal",
            "goal": goal.pk,
            "threshold": "5",
            "webhooks": [hook.pk],
            "emails": ["a@example.com"],
        },
    )
    assert alert.status_code == 201, alert.json()
    assert alert.json()["webhooks"] == [hook.pk] and alert.json()["goal"] == goal.pk
    assert alert.json()["threshold"] == "5.00"
    refused = call(client, "post", f"{base}/alerts", key, {"kind": "spike"})
    assert_error(refused, 400, "invalid")  # neither an address nor a webhook
    assert_error(call(client, "post", f"{base}/alerts", key, {"kind": "nope"}), 400, "invalid")
    assert_error(
        call(client, "post", f"{base}/webhooks", key, {"url": "ftp://x", "format": "slack"}),
        400,
        "invalid",
    )
    assert Alert.objects.count() == 1 and Webhook.objects.count() == 1
    assert call(client, "delete", f"{base}/alerts/{alert.json()['id']}", key).status_code == 204
    assert call(client, "delete", f"{base}/webhooks/{hook.pk}", key).status_code == 204


# --- API clients --------------------------------------------------------------------------


def test_clients_created_in_a_session_show_the_secret_once_stored_hashed(client, owner, site):
    client.force_login(owner)
    created = client.post(
        "/api/manage/v1/clients",
        json.dumps({"type": "read", "site": site.public_id, "description": "Grafana"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    key = body["key"]
    stored = ApiClient.objects.get(public_id=body["id"])
    assert key not in (stored.key_hash, stored.key_prefix) and stored.key_last4 == key[-4:]
    assert body["site"] == site.public_id and body["type"] == "read"
    listed = client.get("/api/manage/v1/clients").json()
    assert body["id"] in [c["id"] for c in listed]
    assert key not in json.dumps(listed)
    assert client.delete(f"/api/manage/v1/clients/{body['id']}").status_code == 204
    stored.refresh_from_db()
    assert stored.revoked_at is not None


def test_a_key_lists_clients_but_never_mints_or_revokes_them(client, owner, key, site):
    assert call(client, "get", "clients", key).status_code == 200
    before = ApiClient.objects.count()
    assert_error(call(client, "post", "clients", key, {"type": "plausible"}), 403, "forbidden")
    own_id = ApiClient.objects.filter(user=owner).first().public_id
    assert_error(call(client, "delete", f"clients/{own_id}", key), 403, "forbidden")
    assert ApiClient.objects.count() == before
    assert not ApiClient.objects.filter(revoked_at__isnull=False).exists()


def test_session_writes_need_the_csrf_token(owner, site):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(
        f"/api/manage/v1/sites/{site.public_id}/funnels",
        json.dumps({"name": "x", "steps": STEPS}),
        content_type="application/json",
    )
    assert_error(response, 403, "forbidden")
    assert browser.get(f"/api/manage/v1/sites/{site.public_id}/funnels").status_code == 200
    assert not Funnel.objects.exists()


# --- credentials, tenants, unknown paths --------------------------------------------------


def test_credentials_are_required_and_checked(client, owner, site):
    base = f"sites/{site.public_id}/funnels"
    assert_error(call(client, "get", base), 401, "not_authenticated")
    assert_error(call(client, "get", base, "pl_" + "x" * 61), 401, "not_authenticated")
    stats_only = api_client_create(user=owner, type="plausible")[1]["key"]
    assert_error(call(client, "get", base, stats_only), 401, "not_authenticated")
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    assert_error(call(client, "get", base, read_key), 401, "not_authenticated")


def test_another_accounts_site_and_resources_are_not_found(client, key, site, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    stranger_site = SiteFactory(hostname="other.example")
    SiteMembershipFactory(site=stranger_site, user=UserFactory(), role="owner")
    funnel = Funnel.objects.create(site=stranger_site, name="theirs", steps=STEPS)
    for resource in ("funnels", "reports", "webhooks", "alerts", "imports"):
        assert_error(
            call(client, "get", f"sites/{stranger_site.public_id}/{resource}", key),
            404,
            "not_found",
        )
    assert_error(
        call(client, "get", f"sites/{site.public_id}/funnels/{funnel.pk}", key), 404, "not_found"
    )
    assert_error(
        call(client, "delete", f"sites/{site.public_id}/funnels/{funnel.pk}", key), 404, "not_found"
    )
    assert_error(
        call(
            client,
            "post",
            f"sites/{stranger_site.public_id}/funnels",
            key,
            {"name": "x", "steps": STEPS},
        ),
        404,
        "not_found",
    )
    assert list(Funnel.objects.values_list("name", flat=True)) == ["theirs"]
    assert_error(call(client, "get", "nope", key), 404, "not_found")
    assert_error(client.get("/api/manage/v2/anything"), 404, "not_found")


def test_imports_are_listed_with_their_progress(client, key, site):
    Import.objects.create(
        id="imp1", site=site, kind="plausible", file_hash="a" * 64, status="running", percent=40
    )
    listed = call(client, "get", f"sites/{site.public_id}/imports", key).json()
    assert [(i["id"], i["status"], i["percent"]) for i in listed] == [("imp1", "running", 40)]
    assert (
        call(client, "get", f"sites/{site.public_id}/imports/imp1", key).json()["kind"]
        == "plausible"
    )
    assert_error(call(client, "get", f"sites/{site.public_id}/imports/nope", key), 404, "not_found")


def test_the_document_is_generated_from_the_viewsets_and_keeps_every_other_operation():
    document = openapi_document()
    funnels = document["paths"]["/api/manage/v1/sites/{public_id}/funnels"]
    assert funnels["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FunnelInputRequest"
    }
    created = funnels["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/Funnel"}
    assert set(document["components"]["schemas"]["WebhookCreated"]["properties"]) >= {"secret"}
    assert funnels["get"]["security"] == [{"plausibleKey": []}, {"cookieAuth": []}]
    # The hand-written operations of the other views are all still there.
    for path in ("/api/event", "/matomo.php", "/api/v1/hit", "/api/v2/query", "/api/v1/sites"):
        assert path in document["paths"], path
    assert document["openapi"] == "3.1.0"
