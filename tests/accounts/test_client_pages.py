"""Site API clients in the settings pages: created with the secret shown once, listed masked,
revoked with immediate effect on the API."""

import json
import re

import pytest
from django.db import connection

from accounts import keys
from accounts.models import ApiClient, Role
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def site(db):
    return SiteFactory(hostname="shop.example.com")


@pytest.fixture
def admin(site):
    user = UserFactory(email="admin@example.com")
    SiteMembershipFactory(site=site, user=user, role=Role.ADMIN)
    return user


def clients_url(site, tail: str = "") -> str:
    return f"/sites/{site.public_id}/settings/clients{tail}"


def create(client, site, **data):
    return client.post(clients_url(site, "/new"), data)


def shown(content: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]+)<', content).group(1)


def database_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in (
            "accounts_apiclient",
            "oauth2_provider_application",
            "oauth2_provider_accesstoken",
            "django_session",
        ):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


@pytest.mark.parametrize(
    ("kind", "pattern", "masked_prefix"),
    [
        ("key", r"pa_[A-Za-z0-9]{45}", "pa_…"),
        ("read", r"sk_live_[A-Za-z0-9]{32}", "sk_live_…"),
        ("matomo", r"[0-9a-f]{32}", "…"),
    ],
)
def test_each_key_kind_is_shown_once_stored_hashed_and_listed_masked(
    client, site, admin, kind, pattern, masked_prefix
):
    client.force_login(admin)
    response = create(client, site, type=kind, description="Backend <server>")
    content = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = shown(content, "secret-value")
    assert re.fullmatch(pattern, secret)
    assert 'data-copy="#secret-value"' in content
    stored = ApiClient.objects.get()
    assert (stored.type, stored.site, stored.user) == (kind, site, admin)
    assert stored.key_hash == keys.key_digest(secret)
    assert secret not in database_text()

    later = client.get(clients_url(site)).content.decode()
    assert secret not in later
    assert f"{masked_prefix}{secret[-4:]}" in later
    assert "Backend &lt;server&gt;" in later and "Backend <server>" not in later


def test_oauth_client_shows_id_and_secret_once_and_the_secret_gets_a_token(client, site, admin):
    client.force_login(admin)
    content = create(client, site, type="oauth").content.decode()
    client_id, secret = shown(content, "secret-client-id"), shown(content, "secret-value")
    assert len(client_id) == 32 and len(secret) == 64
    assert secret not in database_text()
    later = client.get(clients_url(site)).content.decode()
    assert secret not in later and client_id not in later and f"{client_id[:6]}…" in later
    token = client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": client_id, "client_secret": secret}),
        content_type="application/json",
    )
    assert token.status_code == 200


def test_chosen_scopes_are_kept_and_forbidden_ones_refused(client, site, admin):
    client.force_login(admin)
    create(client, site, type="read", scopes=["statistics:read"])
    assert ApiClient.objects.get().scopes == ["statistics:read"]
    refused = create(client, site, type="key", scopes=["statistics:read"])
    assert refused.status_code == 400
    assert "Scopes not allowed for a key client: statistics:read." in refused.content.decode()
    assert 'id="secret-value"' not in refused.content.decode()
    assert ApiClient.objects.count() == 1
    assert create(client, site, type="bogus").status_code == 400
    assert ApiClient.objects.count() == 1


def test_revoking_an_access_key_refuses_it_on_the_api_at_once(client, site, admin, drain):
    client.force_login(admin)
    key = shown(create(client, site, type="key").content.decode(), "secret-value")
    stored = ApiClient.objects.get()

    def send_event():
        return client.post(
            "/api/v1/event",
            data=json.dumps(
                {
                    "url": "https://shop.example.com/checkout",
                    "ip": "203.0.113.9",
                    "user_agent": CHROME,
                    "event_name": "Purchase",
                }
            ),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    assert send_event().status_code == 200
    page = client.get(clients_url(site)).content.decode()
    assert f'action="/sites/{site.public_id}/settings/clients/{stored.public_id}/revoke"' in page
    response = client.post(clients_url(site, f"/{stored.public_id}/revoke"))
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert send_event().status_code == 401
    assert len(drain()) == 1  # only the event sent before revoking
    page = client.get(clients_url(site)).content.decode()
    assert "Revoked" in page and f"/{stored.public_id}/revoke" not in page


def test_clients_of_other_sites_and_accounts_cannot_be_revoked_here(client, site, admin):
    from accounts.services import api_client_create

    other_owner = UserFactory()
    other_site = SiteFactory()
    SiteMembershipFactory(site=other_site, user=other_owner, role=Role.OWNER)
    foreign, _ = api_client_create(user=other_owner, type="key", site=other_site)
    account, _ = api_client_create(user=admin, type="read")
    client.force_login(admin)
    for target in (foreign, account):
        assert client.post(clients_url(site, f"/{target.public_id}/revoke")).status_code == 404
        target.refresh_from_db()
        assert target.revoked_at is None
    page = client.get(clients_url(site)).content.decode()
    assert foreign.public_id not in page and account.public_id not in page


def test_clients_created_by_others_are_listed_with_their_creator(client, site, admin):
    from accounts.services import api_client_create

    owner = UserFactory(email="owner@example.com")
    SiteMembershipFactory(site=site, user=owner, role=Role.OWNER)
    theirs, _ = api_client_create(user=owner, type="read", site=site, description="Theirs")
    client.force_login(admin)
    page = client.get(clients_url(site)).content.decode()
    assert f'data-client="{theirs.public_id}"' in page and "owner@example.com" in page
