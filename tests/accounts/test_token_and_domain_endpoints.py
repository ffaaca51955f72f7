"""``POST /api/v1/token`` and ``GET /api/v1/domain``: the server-side integration flow."""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.services import api_client_create, api_client_revoke
from tests.factories import OrganizationFactory, SiteFactory, SiteMembershipFactory, UserFactory

PIRSCH_KEYS = {"validation", "error", "context"}
DOMAIN_FIELDS = {
    "id",
    "def_time",
    "mod_time",
    "user_id",
    "organization_id",
    "hostname",
    "subdomain",
    "identification_code",
    "public",
    "google_user_id",
    "google_user_email",
    "gsc_domain",
    "new_owner",
    "timezone",
    "group_by_title",
    "active_visitors_seconds",
    "disable_scripts",
    "statistics_start",
    "imported_statistics",
    "metadata",
    "theme_id",
    "theme",
    "custom_domain",
    "user_role",
    "settings",
    "theme_settings",
    "display_name",
    "subscription_active",
}


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", display_name="My Website", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def get_token(client, client_id, secret):
    return client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": client_id, "client_secret": secret}),
        content_type="application/json",
    )


def domains(client, credential):
    return client.get("/api/v1/domain", HTTP_AUTHORIZATION=f"Bearer {credential}")


def test_server_side_integration_flow_from_the_command_line(client, site, capsys):
    call_command(
        "client", "create", "--site", site.public_id, "--type", "oauth", "--description", "backend"
    )
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"id", "type", "scopes", "client_id", "client_secret"}
    response = get_token(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_at"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["expires_at"])
    response = domains(client, body["access_token"])
    assert response.status_code == 200
    [domain] = response.json()
    assert set(domain) == DOMAIN_FIELDS
    assert (
        domain["id"],
        domain["hostname"],
        domain["timezone"],
        domain["display_name"],
        domain["user_role"],
        domain["user_id"],
    ) == (
        site.public_id,
        "example.com",
        "Europe/Berlin",
        "My Website",
        "Owner",
        site.memberships.get().user.public_id,
    )


def test_wrong_or_missing_credentials(client, site, owner):
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    response = get_token(client, payload["client_id"], "x" * 64)
    assert response.status_code == 401 and set(response.json()) == PIRSCH_KEYS
    assert get_token(client, "nope", payload["client_secret"]).status_code == 401
    response = client.post("/api/v1/token", data="{}", content_type="application/json")
    assert response.status_code == 400 and set(response.json()["validation"]) == {
        "client_id",
        "client_secret",
    }
    assert (
        client.post("/api/v1/token", data="nope", content_type="application/json").status_code
        == 400
    )
    assert client.get("/api/v1/token").status_code == 405


def test_token_endpoint_is_rate_limited(client, site, owner):
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    statuses = [get_token(client, payload["client_id"], "wrong").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    response = get_token(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1 and response["X-RateLimit-Limit"] == "10"


def test_account_client_lists_every_accessible_domain_with_roles(client, owner, site):
    org = OrganizationFactory()
    from accounts.models import OrganizationMember

    OrganizationMember.objects.create(organization=org, user=owner, role="viewer")
    org_site = SiteFactory(hostname="org.example", organization=org)
    admin_site = SiteFactory(hostname="admin.example")
    SiteMembershipFactory(site=admin_site, user=owner, role="admin")
    SiteFactory(hostname="foreign.example")
    payload = api_client_create(user=owner, type="oauth")[1]
    token = get_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    listed = {d["hostname"]: d["user_role"] for d in domains(client, token).json()}
    assert listed == {"example.com": "Owner", "org.example": "Viewer", "admin.example": "Admin"}
    assert org_site.public_id in [d["id"] for d in domains(client, token).json()]


def test_domain_endpoint_refusals(client, owner, site):
    other = SiteFactory(hostname="other.example")
    other_owner = UserFactory()
    SiteMembershipFactory(site=other, user=other_owner, role="owner")
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    no_scope = api_client_create(user=owner, type="oauth", site=site, scopes=["statistics:read"])[1]
    no_scope_token = get_token(client, no_scope["client_id"], no_scope["client_secret"]).json()[
        "access_token"
    ]
    revoked_client, revoked = api_client_create(user=owner, type="oauth", site=site)
    revoked_token = get_token(client, revoked["client_id"], revoked["client_secret"]).json()[
        "access_token"
    ]
    api_client_revoke(client=revoked_client)
    expiring = api_client_create(user=owner, type="oauth", site=site)[1]
    expired_token = get_token(client, expiring["client_id"], expiring["client_secret"]).json()[
        "access_token"
    ]
    AccessToken.objects.filter(application__client_id=expiring["client_id"]).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    for credential, status in {
        "": 401,
        "garbage": 401,
        site.public_key: 401,
        read_key: 401,
        revoked_token: 401,
        expired_token: 401,
        pa_key: 403,
        no_scope_token: 403,
    }.items():
        response = domains(client, credential)
        assert response.status_code == status, credential
        assert set(response.json()) == PIRSCH_KEYS
    # Another site's client sees only its own site.
    other_payload = api_client_create(user=other_owner, type="oauth", site=other)[1]
    other_token = get_token(
        client, other_payload["client_id"], other_payload["client_secret"]
    ).json()["access_token"]
    assert [d["id"] for d in domains(client, other_token).json()] == [other.public_id]
    # A user without access sees nothing.
    stranger = api_client_create(user=UserFactory(), type="oauth")[1]
    stranger_token = get_token(client, stranger["client_id"], stranger["client_secret"]).json()[
        "access_token"
    ]
    assert domains(client, stranger_token).json() == []


def test_a_new_token_can_be_requested_after_expiry(client, owner, site):
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    first = get_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert domains(client, first).status_code == 401
    second = get_token(client, payload["client_id"], payload["client_secret"]).json()[
        "access_token"
    ]
    assert domains(client, second).status_code == 200
