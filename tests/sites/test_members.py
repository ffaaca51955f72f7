"""Members: invitations (always emailed, for existing and new people), accepting, expiry,
role rules, ownership."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from sites.models import Invitation, SiteMembership
from sites.selectors import invitation_token_digest
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def site(db):
    return SiteFactory(display_name="Blog", hostname="blog.example.com")


@pytest.fixture
def owner(site):
    user = UserFactory(email="owner@example.com")
    SiteMembershipFactory(site=site, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def admin(site):
    user = UserFactory(email="admin@example.com")
    SiteMembershipFactory(site=site, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def viewer(site):
    user = UserFactory(email="viewer@example.com")
    SiteMembershipFactory(site=site, user=user, role=Role.VIEWER)
    return user


def url(site, tail: str) -> str:
    return f"/sites/{site.public_id}/settings/{tail}"


def membership(site, user) -> SiteMembership:
    return SiteMembership.objects.get(site=site, user=user)


def roles(site) -> dict[str, str]:
    return dict(site.memberships.values_list("user__email", "role"))


def invite(client, site, email, role="viewer"):
    return client.post(url(site, "members/invite"), {"email": email, "role": role})


def emailed_link() -> str:
    message = mail.outbox[0]
    return re.search(r"http://testserver(/accounts/invitations/[^/\s]+/)", message.body).group(1)


# --- Inviting --------------------------------------------------------------------------


def test_inviting_an_existing_user_sends_an_invitation_that_they_accept(client, site, owner):
    friend = UserFactory(email="friend@example.com")
    client.force_login(owner)
    response = invite(client, site, "Friend@Example.com", "admin")
    assert response.status_code == 302
    assert "friend@example.com" not in roles(site)  # nothing granted by typing an address
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("friend@example.com", Role.ADMIN)
    page = client.get(url(site, "members")).content.decode()
    assert "An invitation was sent to friend@example.com." in page
    link = emailed_link()
    client.force_login(friend)
    assert client.post(link).status_code == 302
    assert roles(site)["friend@example.com"] == Role.ADMIN


def test_inviting_a_member_again_is_refused(client, site, owner, viewer):
    client.force_login(owner)
    response = invite(client, site, "viewer@example.com", "admin")
    assert response.status_code == 400
    assert "viewer@example.com is already a member of this site." in response.content.decode()
    assert roles(site)["viewer@example.com"] == Role.VIEWER


def test_inviting_an_unknown_address_emails_a_link_and_stores_only_its_hash(client, site, owner):
    client.force_login(owner)
    response = invite(client, site, "new@example.com", "admin")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new@example.com",
        Role.ADMIN,
        owner,
    )
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert invitation.expires_at - timezone.now() <= timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and "Blog" in message.subject
    token = emailed_link().rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash == invitation_token_digest(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_invitation")
        assert token not in repr(cursor.fetchall())
    page = client.get(url(site, "members")).content.decode()
    assert 'data-invitation="new@example.com"' in page
    assert not User.objects.filter(email="new@example.com").exists()


def test_inviting_again_replaces_the_pending_invitation(client, site, owner):
    client.force_login(owner)
    invite(client, site, "new@example.com")
    first = emailed_link()
    invite(client, site, "new@example.com", "admin")
    assert Invitation.objects.get().role == Role.ADMIN
    assert client.get(first).status_code == 404


def test_bad_invitations_are_refused(client, site, owner):
    client.force_login(owner)
    assert invite(client, site, "not-an-email").status_code == 400
    assert invite(client, site, "x@example.com", "superuser").status_code == 400
    assert not Invitation.objects.exists() and mail.outbox == []


def test_an_invitation_can_be_withdrawn(client, site, admin):
    client.force_login(admin)
    invite(client, site, "new@example.com")
    link = emailed_link()
    invitation = Invitation.objects.get()
    assert client.post(url(site, f"invitations/{invitation.pk}/revoke")).status_code == 302
    assert not Invitation.objects.exists()
    assert client.get(link).status_code == 404


# --- Accepting -------------------------------------------------------------------------


def test_a_new_person_signs_up_from_the_link_and_joins_with_the_invited_role(client, site, owner):
    client.force_login(owner)
    invite(client, site, "new@example.com", "admin")
    link = emailed_link()
    client.logout()

    page = client.get(link)
    assert page.status_code == 200
    content = page.content.decode()
    assert "You are invited to <strong>Blog</strong>" in content
    signup_url = re.search(r'href="(/accounts/signup/\?[^"]+)"', content).group(1)
    assert client.post(link).status_code == 302  # not logged in: to the log-in page
    assert not SiteMembership.objects.filter(user__email="new@example.com").exists()

    signup = client.get(signup_url.replace("&amp;", "&"))
    assert 'value="new@example.com"' in signup.content.decode()
    response = client.post(
        signup_url.replace("&amp;", "&"),
        {
            "email": "new@example.com",
            "password1": "a-Long-pass-123",
            "password2": "a-Long-pass-123",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    # The address is confirmed by the emailed link and the password; then back to the invitation.
    verify = re.search(r"http://testserver(/accounts/verify/[^/\s]+/)", mail.outbox[-1].body)
    confirmed = client.post(verify.group(1), {"password": "a-Long-pass-123"})
    assert confirmed.status_code == 302 and confirmed["Location"] == link
    accepted = client.post(link)
    assert accepted.status_code == 302
    assert accepted["Location"] == f"/sites/{site.public_id}/"
    assert roles(site)["new@example.com"] == Role.ADMIN
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by.email == "new@example.com"
    # Single use.
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_an_existing_account_accepts_after_logging_in(client, site, owner):
    client.force_login(owner)
    invite(client, site, "later@example.com")
    link = emailed_link()
    client.logout()
    UserFactory(email="later@example.com")  # signed up some other way meanwhile
    response = client.post(
        f"/accounts/login/?next={link}", {"username": "later@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == link
    assert client.post(link).status_code == 302
    assert roles(site)["later@example.com"] == Role.VIEWER


def test_the_link_works_only_for_the_invited_address(client, site, owner):
    client.force_login(owner)
    invite(client, site, "new@example.com", "admin")
    link = emailed_link()
    intruder = UserFactory(email="intruder@example.com")
    client.force_login(intruder)
    response = client.post(link)
    assert response.status_code == 403
    assert "This invitation was sent to new@example.com" in response.content.decode()
    assert not SiteMembership.objects.filter(user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_expired_invitation_cannot_be_accepted(client, site, owner):
    client.force_login(owner)
    invite(client, site, "late@example.com")
    link = emailed_link()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(UserFactory(email="late@example.com"))
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert "late@example.com" not in roles(site)


def test_an_unknown_token_is_404(client, db):
    assert client.get("/accounts/invitations/not-a-token/").status_code == 404


def test_accepting_keeps_a_stronger_role(client, site, owner, admin):
    from sites.services import invitation_accept, invitation_create

    invitation, _token = invitation_create(
        site=site, email="admin@example.com", role=Role.VIEWER, invited_by=owner
    )
    invitation_accept(invitation=invitation, user=admin)
    assert roles(site)["admin@example.com"] == Role.ADMIN


# --- Role rules ------------------------------------------------------------------------


def test_admin_manages_viewers_and_admins(client, site, owner, admin, viewer):
    client.force_login(admin)
    assert (
        client.post(
            url(site, f"members/{membership(site, viewer).pk}/role"), {"role": "admin"}
        ).status_code
        == 302
    )
    assert roles(site)["viewer@example.com"] == Role.ADMIN
    assert (
        client.post(url(site, f"members/{membership(site, viewer).pk}/remove")).status_code == 302
    )
    assert "viewer@example.com" not in roles(site)


def test_admin_cannot_grant_owner_or_touch_owners(client, site, owner, admin, viewer):
    client.force_login(admin)
    page = client.get(url(site, "members")).content.decode()
    assert '<option value="owner"' not in page
    assert f"members/{membership(site, owner).pk}/remove" not in page
    before = roles(site)
    owner_id, viewer_id = membership(site, owner).pk, membership(site, viewer).pk
    refused = [
        invite(client, site, "x@example.com", "owner"),
        client.post(url(site, f"members/{viewer_id}/role"), {"role": "owner"}),
        client.post(url(site, f"members/{owner_id}/role"), {"role": "viewer"}),
        client.post(url(site, f"members/{owner_id}/remove")),
        client.post(url(site, "members/transfer"), {"membership": viewer_id}),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert roles(site) == before
    assert not Invitation.objects.exists()


def test_owner_can_make_another_owner_and_then_step_down(client, site, owner, admin):
    client.force_login(owner)
    client.post(url(site, f"members/{membership(site, admin).pk}/role"), {"role": "owner"})
    assert roles(site)["admin@example.com"] == Role.OWNER
    client.post(url(site, f"members/{membership(site, owner).pk}/role"), {"role": "viewer"})
    assert roles(site)["owner@example.com"] == Role.VIEWER


def test_the_last_owner_cannot_be_demoted_or_removed(client, site, owner, admin):
    client.force_login(owner)
    owner_id = membership(site, owner).pk
    demote = client.post(url(site, f"members/{owner_id}/role"), {"role": "admin"})
    remove = client.post(url(site, f"members/{owner_id}/remove"))
    assert demote.status_code == remove.status_code == 302
    assert roles(site)["owner@example.com"] == Role.OWNER
    page = client.get(url(site, "members")).content.decode()
    assert "A site needs at least one Owner" in page


def test_members_of_another_site_cannot_be_changed(client, site, owner):
    stranger = SiteMembershipFactory(site=SiteFactory(), role=Role.VIEWER)
    client.force_login(owner)
    assert (
        client.post(url(site, f"members/{stranger.pk}/role"), {"role": "admin"}).status_code == 404
    )
    assert client.post(url(site, f"members/{stranger.pk}/remove")).status_code == 404
    assert (
        client.post(url(site, "members/transfer"), {"membership": stranger.pk}).status_code == 404
    )
    stranger.refresh_from_db()
    assert stranger.role == Role.VIEWER


# --- Ownership transfer ----------------------------------------------------------------


def test_owner_transfers_ownership_and_becomes_admin(client, site, owner, viewer):
    client.force_login(owner)
    page = client.get(url(site, "members")).content.decode()
    assert "Transfer ownership" in page
    response = client.post(
        url(site, "members/transfer"), {"membership": membership(site, viewer).pk}
    )
    assert response.status_code == 302
    assert roles(site) == {"owner@example.com": Role.ADMIN, "viewer@example.com": Role.OWNER}
    # The former owner is now an Admin: no more danger zone, still members.
    assert client.get(url(site, "danger")).status_code == 403
    assert client.get(url(site, "members")).status_code == 200


def test_transfer_to_oneself_is_refused(client, site, owner):
    client.force_login(owner)
    client.post(url(site, "members/transfer"), {"membership": membership(site, owner).pk})
    assert roles(site) == {"owner@example.com": Role.OWNER}


def test_admin_sees_no_transfer_section(client, site, owner, admin):
    client.force_login(admin)
    assert "Transfer ownership" not in client.get(url(site, "members")).content.decode()
