"""Account settings: profile, password, account-level API clients."""

import re

import pytest

from accounts import keys
from accounts.models import ApiClient, Role, User
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def me(db):
    return UserFactory(email="me@example.com")


@pytest.mark.parametrize(
    "path", ["/account/", "/account/profile", "/account/password", "/account/clients"]
)
def test_account_pages_need_a_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_account_pages_render_with_their_nav(client, me):
    client.force_login(me)
    assert client.get("/account/")["Location"] == "/account/profile"
    for section in ("profile", "password", "clients"):
        content = client.get(f"/account/{section}").content.decode()
        assert f'href="/account/{section}" aria-current="page"' in content
        assert content.count('class="tab"') == 3


def _link(message, path: str) -> str:
    return re.search(rf"http://testserver({path}[^/\s]+/)", message.body).group(1)


def test_profile_changes_name_at_once_and_email_only_when_the_new_address_confirms(
    client, me, mailoutbox
):
    client.force_login(me)
    response = client.post(
        "/account/profile",
        {"full_name": "Ada <Lovelace>", "email": "Ada@Example.com", "current_password": PASSWORD},
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.full_name, me.email, me.pending_email) == (
        "Ada <Lovelace>",
        "me@example.com",
        "ada@example.com",
    )
    page = client.get("/account/profile").content.decode()
    assert "We sent a link to ada@example.com" in page
    assert 'value="Ada &lt;Lovelace&gt;"' in page
    assert 'data-pending-email="ada@example.com"' in page
    [message] = mailoutbox
    assert message.to == ["ada@example.com"]
    link = _link(message, "/accounts/email/confirm/")

    assert client.get(link).status_code == 200  # a page with a button: GET changes nothing
    me.refresh_from_db()
    assert me.email == "me@example.com"
    assert client.post(link)["Location"] == "/account/profile"
    me.refresh_from_db()
    assert (me.email, me.pending_email, me.email_verified) == ("ada@example.com", "", True)
    # The old address is told.
    notice = mailoutbox[-1]
    assert notice.to == ["me@example.com"] and "ada@example.com" in notice.body
    # Single use.
    assert client.post(link).status_code == 400


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com"])
def test_profile_answers_a_taken_address_like_a_free_one(client, me, email, mailoutbox):
    UserFactory(email="taken@example.com")
    client.force_login(me)
    response = client.post(
        "/account/profile", {"full_name": "New", "email": email, "current_password": PASSWORD}
    )
    assert response.status_code == 302
    assert "We sent a link to taken@example.com" in client.get("/account/profile").content.decode()
    me.refresh_from_db()
    assert (me.full_name, me.email) == ("New", "me@example.com")
    # Its owner hears about it; no link that could move the address exists.
    [message] = mailoutbox
    assert message.to == ["taken@example.com"] and "/accounts/email/confirm/" not in message.body


def test_profile_refuses_an_invalid_email(client, me):
    client.force_login(me)
    response = client.post(
        "/account/profile",
        {"full_name": "New", "email": "not-an-email", "current_password": PASSWORD},
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    me.refresh_from_db()
    assert (me.full_name, me.email, me.pending_email) == ("", "me@example.com", "")


@pytest.mark.parametrize("current_password", ["", "wrong-password"])
def test_a_new_email_needs_the_current_password(client, me, current_password):
    client.force_login(me)
    response = client.post(
        "/account/profile",
        {"full_name": "Me", "email": "thief@example.com", "current_password": current_password},
    )
    assert response.status_code == 200
    assert "Enter your current password to change the email address." in response.content.decode()
    me.refresh_from_db()
    assert (me.full_name, me.email) == ("", "me@example.com")
    # The name alone changes without it.
    client.post("/account/profile", {"full_name": "Me", "email": "ME@example.com"})
    me.refresh_from_db()
    assert (me.full_name, me.email) == ("Me", "me@example.com")


def test_password_change_keeps_the_session_and_the_new_password_logs_in(client, me):
    client.force_login(me)
    response = client.post(
        "/account/password",
        {
            "old_password": PASSWORD,
            "new_password1": "a-New-pass-456",
            "new_password2": "a-New-pass-456",
        },
    )
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # still logged in
    me.refresh_from_db()
    assert me.check_password("a-New-pass-456")


def test_password_change_with_a_wrong_old_password_changes_nothing(client, me):
    client.force_login(me)
    response = client.post(
        "/account/password",
        {
            "old_password": "wrong",
            "new_password1": "a-New-pass-456",
            "new_password2": "a-New-pass-456",
        },
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    me.refresh_from_db()
    assert me.check_password(PASSWORD)


def test_account_read_key_is_shown_once_and_revoking_it_refuses_it(client, me):
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=me, role=Role.VIEWER)
    client.force_login(me)
    response = client.post("/account/clients/new", {"type": "read", "description": "Laptop"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = re.search(r'id="secret-value">([^<]+)<', response.content.decode()).group(1)
    stored = ApiClient.objects.get()
    assert (stored.user, stored.site, stored.type) == (me, None, "read")
    assert stored.key_hash == keys.key_digest(key)

    page = client.get("/account/clients").content.decode()
    assert key not in page and f"sk_live_…{key[-4:]}" in page

    def read():
        return client.get(
            f"/api/v1/visitors?site={site.public_id}", HTTP_AUTHORIZATION=f"Bearer {key}"
        )

    assert read().status_code == 200
    assert client.post(f"/account/clients/{stored.public_id}/revoke").status_code == 302
    assert read().status_code == 401


def test_account_clients_list_only_the_users_own_account_clients(client, me):
    from accounts.services import api_client_create

    site = SiteFactory()
    SiteMembershipFactory(site=site, user=me, role=Role.OWNER)
    site_client, _ = api_client_create(user=me, type="key", site=site)
    someone_else, _ = api_client_create(user=UserFactory(), type="read")
    mine, _ = api_client_create(user=me, type="oauth")
    client.force_login(me)
    page = client.get("/account/clients").content.decode()
    assert f'data-client="{mine.public_id}"' in page
    assert site_client.public_id not in page and someone_else.public_id not in page
    for target in (site_client, someone_else):
        assert client.post(f"/account/clients/{target.public_id}/revoke").status_code == 404
        target.refresh_from_db()
        assert target.revoked_at is None


def test_account_client_with_forbidden_scopes_is_refused(client, me):
    client.force_login(me)
    response = client.post("/account/clients/new", {"type": "key", "scopes": ["visitors:read"]})
    assert response.status_code == 400
    assert not ApiClient.objects.exists()
    assert User.objects.count() == 1
