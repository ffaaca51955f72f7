"""API clients: creation rules, secrets shown once and stored hashed, revocation."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from oauth2_provider.models import AccessToken, Application

from accounts import keys
from accounts.authentication import AuthenticationFailed, authenticate_bearer
from accounts.models import ApiClient, Role
from accounts.services import api_client_create, api_client_revoke, oauth_token_issue
from sites.permissions import matomo_token_site_role, principal_may
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory


@pytest.fixture
def site(owner):
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


def all_database_text() -> str:
    """Every text value of the clients' and tokens' tables, to search for leaked secrets."""
    chunks = []
    with connection.cursor() as cursor:
        for table in (
            "accounts_apiclient",
            "oauth2_provider_application",
            "oauth2_provider_accesstoken",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


def test_key_shapes_match_what_the_official_sdks_check(owner, site):
    pa = api_client_create(user=owner, type="key", site=site)[1]["key"]
    sk = api_client_create(user=owner, type="read", site=site)[1]["key"]
    matomo = api_client_create(user=owner, type="matomo", site=site)[1]["key"]
    oauth = api_client_create(user=owner, type="oauth", site=site)[1]
    assert pa.startswith("pa_") and len(pa) == 48
    assert sk.startswith("sk_live_") and len(sk) == 40
    assert len(matomo) == 32 and all(c in "0123456789abcdef" for c in matomo)
    assert len(oauth["client_id"]) == 32 and len(oauth["client_secret"]) == 64


def test_secrets_are_stored_only_as_hashes(client, owner, site):
    payloads = [
        api_client_create(user=owner, type=t, site=site)[1]
        for t in ("key", "read", "matomo", "oauth")
    ]
    oauth = payloads[-1]
    import json

    token = client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": oauth["client_id"], "client_secret": oauth["client_secret"]}),
        content_type="application/json",
    ).json()["access_token"]
    text = all_database_text()
    for secret in [p["key"] for p in payloads[:3]] + [oauth["client_secret"], token]:
        assert secret not in text
    assert Application.objects.get().client_secret.startswith("pbkdf2_sha256$")
    assert AccessToken.objects.get().token == ""
    stored = ApiClient.objects.get(type="key")
    assert stored.key_hash == keys.key_digest(payloads[0]["key"])
    assert stored.masked_secret == f"pa_…{payloads[0]['key'][-4:]}"


def test_digest_comparison_is_constant_time(monkeypatch, owner, site):
    calls = []
    import hmac

    real = hmac.compare_digest
    monkeypatch.setattr(keys.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    authenticate_bearer(f"Bearer {key}", allowed_kinds={"key"})
    assert calls


def test_pa_keys_are_write_only_and_scopes_are_checked(owner, site):
    with pytest.raises(ValidationError):
        api_client_create(user=owner, type="key", site=site, scopes=["statistics:read"])
    with pytest.raises(ValidationError):
        api_client_create(user=owner, type="oauth", site=site, scopes=["everything"])
    client, payload = api_client_create(
        user=owner, type="oauth", site=site, scopes=["statistics:read"]
    )
    assert payload["scopes"] == ["statistics:read"] and client.scopes == ["statistics:read"]


def test_only_owners_and_admins_create_site_clients(site):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    with pytest.raises(PermissionDenied):
        api_client_create(user=viewer, type="key", site=site)
    with pytest.raises(PermissionDenied):
        api_client_create(user=UserFactory(), type="key", site=site)
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    assert api_client_create(user=admin, type="key", site=site)[0].site == site


def test_revoked_clients_are_refused_immediately(owner, site):
    client, payload = api_client_create(user=owner, type="key", site=site)
    oauth_client, _ = api_client_create(user=owner, type="oauth", site=site)
    token, _expires = oauth_token_issue(client=oauth_client)
    assert authenticate_bearer(f"Bearer {payload['key']}", allowed_kinds={"key"}).client == client
    api_client_revoke(client=client)
    api_client_revoke(client=oauth_client)
    with pytest.raises(AuthenticationFailed):
        authenticate_bearer(f"Bearer {payload['key']}", allowed_kinds={"key"})
    with pytest.raises(AuthenticationFailed):
        authenticate_bearer(f"Bearer {token}", allowed_kinds={"oauth"})


def test_a_client_never_exceeds_its_creators_current_role(owner, site):
    from sites.permissions import forget_cached_roles
    from sites.services import membership_remove, membership_set

    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    _client, _payload = api_client_create(user=admin, type="oauth")
    principal = authenticate_bearer(
        f"Bearer {oauth_token_issue(client=_client)[0]}", allowed_kinds={"oauth"}
    )
    assert principal_may(principal, "hits:write", site) and principal_may(
        principal, "site:manage", site
    )
    membership_set(site=site, user=admin, role="viewer")
    forget_cached_roles()
    assert principal_may(principal, "statistics:read", site)
    assert not principal_may(principal, "hits:write", site) and not principal_may(
        principal, "site:manage", site
    )
    membership_remove(site=site, user=admin)
    forget_cached_roles()
    assert not principal_may(principal, "statistics:read", site)


def test_matomo_token_grants_the_creators_role(owner, site):
    token = api_client_create(user=owner, type="matomo", site=site)[1]["key"]
    assert matomo_token_site_role(token, site.pk) == Role.OWNER
    assert matomo_token_site_role(token, SiteFactory().pk) is None
    assert matomo_token_site_role("0" * 32, site.pk) is None
    assert matomo_token_site_role("", site.pk) is None


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic abc", "Bearer " + "x" * 600])
def test_malformed_authorization_headers(db, header):
    with pytest.raises(AuthenticationFailed):
        authenticate_bearer(header, allowed_kinds={"oauth", "key", "read"})


def test_public_keys_are_refused_on_the_api(site):
    with pytest.raises(AuthenticationFailed, match="Public keys"):
        authenticate_bearer(f"Bearer {site.public_key}", allowed_kinds={"oauth", "key", "read"})
