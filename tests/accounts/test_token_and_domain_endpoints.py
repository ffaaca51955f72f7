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


def get_token_from(client, client_id, secret, ip):
    return client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": client_id, "client_secret": secret}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def frozen_clock(monkeypatch):
    """Every request of a test inside one rate-limit window and one backoff lock."""
    from analytics_project import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000_000.0)


def test_token_endpoint_backs_off_a_caller_who_keeps_guessing(client, site, owner, frozen_clock):
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    attacker = "198.51.100.90"
    statuses = [
        get_token_from(client, payload["client_id"], "wrong", attacker).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]  # the 5th failure locks this caller for 1 s
    locked = get_token_from(client, payload["client_id"], payload["client_secret"], attacker)
    assert locked.status_code == 429 and set(locked.json()) == PIRSCH_KEYS
    assert locked["Retry-After"] == "1"
    assert locked["X-RateLimit-Limit"] == "30"  # the per-caller limit, on every answer


def test_the_backoff_doubles_with_each_further_failure(client, site, owner, monkeypatch):
    from analytics_project import ratelimit

    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    waits = []
    for _ in range(4):
        response = get_token_from(client, payload["client_id"], "wrong", "198.51.100.91")
        while response.status_code == 401:  # failures until the next lock
            response = get_token_from(client, payload["client_id"], "wrong", "198.51.100.91")
        waits.append(int(response["Retry-After"]))
        now[0] += waits[-1]  # the lock ends; the next failure earns the next one
    assert waits == [1, 2, 4, 8]


def test_a_stranger_guessing_a_client_id_cannot_lock_the_integration_out(
    client, site, owner, frozen_clock
):
    """Issue #21 (5): wrong secrets used to spend the client's own per-minute budget."""
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    for i in range(40):  # from many addresses
        get_token_from(client, payload["client_id"], "wrong", f"198.51.100.{100 + i % 20}")
    response = get_token_from(client, payload["client_id"], payload["client_secret"], "192.0.2.200")
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "expires_at"}
    assert response["X-RateLimit-Limit"] == "30"
    assert response["X-RateLimit-Remaining"] == "29"


def test_a_right_secret_clears_the_callers_failures(client, site, owner, frozen_clock):
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    ip = "198.51.100.92"
    for _ in range(4):
        assert get_token_from(client, payload["client_id"], "wrong", ip).status_code == 401
    assert (
        get_token_from(client, payload["client_id"], payload["client_secret"], ip).status_code
        == 200
    )
    for _ in range(4):
        assert get_token_from(client, payload["client_id"], "wrong", ip).status_code == 401


def pirsch_calls(client, token, site, count):
    return [
        client.get(
            f"/api/v1/statistics/total?id={site.public_id}&from=2026-01-01&to=2026-01-02",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        for _ in range(count)
    ]


def test_the_pirsch_statistics_api_is_rate_limited_per_client(
    client, site, owner, frozen_clock, settings
):
    """Issue #21 (4): 70 calls a minute used to pass."""
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    token = get_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    responses = pirsch_calls(client, token, site, 70)
    statuses = [r.status_code for r in responses]
    assert settings.PIRSCH_API_RATE_LIMIT == 60  # the documented default
    assert statuses == [200] * 60 + [429] * 10
    refused = responses[60]
    assert set(refused.json()) == PIRSCH_KEYS
    assert refused.json()["error"] == ["too many requests, retry later"]
    assert int(refused["Retry-After"]) >= 1
    # The domain list counts against the same budget.
    assert domains(client, token).status_code == 429
    # Another client of the same account has its own budget.
    other = api_client_create(user=owner, type="oauth", site=site)[1]
    other_token = get_token(client, other["client_id"], other["client_secret"]).json()
    assert domains(client, other_token["access_token"]).status_code == 200


def test_every_rate_limited_answer_carries_the_rate_limit_headers(
    client, site, owner, frozen_clock, settings
):
    """Issue #13: X-RateLimit-* on 200s too, not only on the 429."""
    settings.PIRSCH_API_RATE_LIMIT = 3
    payload = api_client_create(user=owner, type="oauth", site=site)[1]
    token = get_token(client, payload["client_id"], payload["client_secret"]).json()["access_token"]
    responses = [*pirsch_calls(client, token, site, 2), domains(client, token)]
    responses += pirsch_calls(client, token, site, 1)
    bad_request = client.get(
        f"/api/v1/statistics/total?id={site.public_id}&from=nope",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert bad_request.status_code == 429
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    reset = 1_800_000_000 - 1_800_000_000 % 60 + 60
    for response in responses:
        assert response["X-RateLimit-Limit"] == "3"
        assert response["X-RateLimit-Reset"] == str(reset)
    settings.PIRSCH_API_RATE_LIMIT = 60
    fresh = api_client_create(user=owner, type="oauth", site=site)[1]
    fresh_token = get_token(client, fresh["client_id"], fresh["client_secret"]).json()
    invalid = client.get(
        f"/api/v1/statistics/total?id={site.public_id}&from=nope",
        HTTP_AUTHORIZATION=f"Bearer {fresh_token['access_token']}",
    )
    assert invalid.status_code == 400 and invalid["X-RateLimit-Remaining"] == "59"


def test_pirsch_writers_are_not_counted_against_the_reading_limit(
    client, site, owner, frozen_clock, settings
):
    settings.PIRSCH_API_RATE_LIMIT = 1
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    hit = {
        "url": "https://example.com/",
        "ip": "203.0.113.1",
        "user_agent": "Mozilla/5.0 Firefox/120.0",
    }
    for _ in range(3):
        response = client.post(
            "/api/v1/hit",
            data=json.dumps(hit),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response


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
