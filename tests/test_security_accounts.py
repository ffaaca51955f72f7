"""Issue 21, items 1, 7 (CR/LF) and 8: who may join a site, what strangers learn, who gets
a hostname's events. Each test replays an attack; docs/security.md lists them.

The hostname checks run against real servers on loopback (a DNS server answering TXT
queries, an HTTP server serving the verification file): only where they are looked for
(``sites.verification.NAMESERVERS`` and ``FILE_PORTS``) is pointed at them.
"""

from __future__ import annotations

import html
import json
import re
import smtplib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.models import Role, User
from sites import site_lookup
from sites.models import Invitation, Site, SiteDomain, SiteMembership
from sites.services import site_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.drops import flush_drop_counts
from tracking.models import DroppedEventCount

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-Long-pass-123"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


# --- helpers ---------------------------------------------------------------------------


def signup(client, email: str, password: str = NEW_PASSWORD, url: str = "/accounts/signup/"):
    return client.post(url, {"email": email, "password1": password, "password2": password})


def log_in(client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def link_in(message, path: str) -> str:
    return re.search(rf"http://testserver({path}[^/\s]+/)", message.body).group(1)


def page_text(response) -> str:
    """A page without what differs on every response (CSP nonces, CSRF tokens)."""
    text = re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def invite(client, site, email: str, role: str = "viewer"):
    return client.post(
        f"/sites/{site.public_id}/settings/members/invite", {"email": email, "role": role}
    )


@pytest.fixture
def victim_site(db):
    site = SiteFactory(display_name="Corp", hostname="corp.example")
    owner = UserFactory(email="owner@corp.example")
    SiteMembershipFactory(site=site, user=owner, role=Role.OWNER)
    return site, owner


# --- Item 1: cross-tenant access through unverified e-mail ------------------------------


def test_squatting_a_colleagues_address_before_the_invitation_gets_no_dashboard_or_export(
    client, victim_site
):
    """The attacker signs up with the colleague's likely address, then the Owner invites
    it: before the fix the attacker was a member at once (dashboard and CSV 200)."""
    site, owner = victim_site
    attacker = client
    assert signup(attacker, "colleague@corp.example").status_code == 302
    attacker.logout()
    squatted = User.objects.get(email="colleague@corp.example")

    from django.test import Client

    owner_client = Client()
    owner_client.force_login(owner)
    assert invite(owner_client, site, "colleague@corp.example", "viewer").status_code == 302
    assert not SiteMembership.objects.filter(user=squatted).exists()

    # The squatter cannot log in with the unverified address ...
    refused = log_in(attacker, "colleague@corp.example", NEW_PASSWORD)
    assert "Confirm your email address first" in refused.content.decode()
    for path in (f"/sites/{site.public_id}/", f"/sites/{site.public_id}/export.csv"):
        assert attacker.get(path).status_code == 302  # to the log-in page
    # ... and even with a session, is not the verified owner of the invited address.
    attacker.force_login(squatted)
    for path in (f"/sites/{site.public_id}/", f"/sites/{site.public_id}/export.csv"):
        assert attacker.get(path).status_code == 404
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is None
    assert not SiteMembership.objects.filter(user=squatted).exists()
    squatted.refresh_from_db()
    assert not squatted.email_verified


def test_the_address_owner_following_the_squatters_link_does_not_verify_it(client, db):
    """The colleague gets the squatter's confirmation mail and clicks it: the link alone
    (without the squatter's password) must not turn the account into a verified one."""
    signup(client, "colleague@corp.example")
    link = link_in(mail.outbox[-1], "/accounts/verify/")
    client.logout()
    assert client.get(link).status_code == 200
    assert client.post(link, {"password": ""}).status_code == 200
    assert client.post(link, {"password": "a guess"}).status_code == 200
    assert not User.objects.get().email_verified
    assert client.get("/").status_code == 302


def test_the_real_owner_takes_a_squatted_address_over_by_password_reset(client, db):
    signup(client, "colleague@corp.example", "squatters-Pass-1")
    client.logout()
    mail.outbox.clear()
    client.post("/accounts/password/reset/", {"email": "colleague@corp.example"})
    [message] = mail.outbox
    reset = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form = client.get(reset, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Owners-new-789", "new_password2": "Owners-new-789"},
    )
    assert done.status_code == 302
    user = User.objects.get()
    assert user.email_verified and not user.check_password("squatters-Pass-1")
    assert log_in(client, "colleague@corp.example", "Owners-new-789").status_code == 302


def test_renaming_an_account_to_an_invited_address_does_not_make_it_an_admin(client, victim_site):
    """An existing tenant renamed his account to an address the Owner invites: before the
    fix the rename took effect at once and the invitation made him Admin (clients page 200)."""
    site, owner = victim_site
    tenant = UserFactory(email="tenant@other.example")
    client.force_login(tenant)
    response = client.post(
        "/account/profile",
        {"full_name": "", "email": "new-admin@corp.example", "current_password": PASSWORD},
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.email == "tenant@other.example"

    from django.test import Client

    owner_client = Client()
    owner_client.force_login(owner)
    invite(owner_client, site, "new-admin@corp.example", "admin")
    assert not SiteMembership.objects.filter(user=tenant).exists()
    assert client.get(f"/sites/{site.public_id}/settings/clients").status_code == 404
    # The invitation link (from the mailbox he does not have) would not help either.
    accept = link_in(mail.outbox[-1], "/accounts/invitations/")
    assert client.post(accept).status_code == 403
    assert not SiteMembership.objects.filter(user=tenant).exists()
    tenant.refresh_from_db()
    assert tenant.pending_email == "new-admin@corp.example"  # until that mailbox confirms


def test_a_confirmation_link_works_only_for_the_account_that_asked(client, db):
    asker = UserFactory(email="asker@example.com")
    client.force_login(asker)
    client.post(
        "/account/profile",
        {"full_name": "", "email": "fresh@example.com", "current_password": PASSWORD},
    )
    link = link_in(mail.outbox[-1], "/accounts/email/confirm/")
    other = UserFactory(email="other@example.com", pending_email="fresh@example.com")
    client.force_login(other)
    assert client.post(link).status_code == 400
    other.refresh_from_db()
    assert other.email == "other@example.com"
    client.logout()
    assert client.post(link)["Location"].startswith("/accounts/login/")
    asker.refresh_from_db()
    assert asker.email == "asker@example.com"


def test_an_unverified_account_cannot_accept_an_invitation_even_with_the_token(victim_site):
    from django.core.exceptions import PermissionDenied

    from sites.services import invitation_accept, invitation_create

    site, owner = victim_site
    squatter = UserFactory(email="colleague@corp.example", email_verified=False)
    invitation, _token = invitation_create(
        site=site, email="colleague@corp.example", role=Role.ADMIN, invited_by=owner
    )
    with pytest.raises(PermissionDenied):
        invitation_accept(invitation=invitation, user=squatter)
    assert not SiteMembership.objects.filter(user=squatter).exists()


# --- Item 8: enumeration ----------------------------------------------------------------


def test_signup_answers_the_same_for_new_and_existing_addresses(client, db):
    UserFactory(email="exists@example.com")
    answers = [signup(client, email) for email in ("exists@example.com", "fresh@example.com")]
    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, "/accounts/signup/done/"),
        (302, "/accounts/signup/done/"),
    ]
    assert User.objects.filter(email="exists@example.com").count() == 1
    assert User.objects.get(email="exists@example.com").check_password(PASSWORD)
    # The difference goes only to the addresses' owners.
    note, link = mail.outbox
    assert note.to == ["exists@example.com"] and "already has an account" in note.body
    assert "/accounts/verify/" not in note.body
    assert link.to == ["fresh@example.com"] and "/accounts/verify/" in link.body


def test_invitations_answer_the_same_for_existing_and_unknown_addresses(client, victim_site):
    site, owner = victim_site
    UserFactory(email="has-account@example.com")
    client.force_login(owner)
    pages = []
    for email in ("has-account@example.com", "no-account@example.com"):
        response = invite(client, site, email, "admin")
        assert (response.status_code, response["Location"]) == (
            302,
            f"/sites/{site.public_id}/settings/members",
        )
        page = client.get(response["Location"]).content.decode()
        assert f"An invitation was sent to {email}." in page
        pages.append(page)
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "has-account@example.com",
        "no-account@example.com",
    ]
    assert [m.to for m in mail.outbox] == [["has-account@example.com"], ["no-account@example.com"]]
    assert set(site.memberships.values_list("user__email", flat=True)) == {"owner@corp.example"}


def test_adding_a_site_answers_the_same_whether_another_tenant_has_the_hostname(client, db):
    SiteFactory(hostname="taken.example")
    me = UserFactory()
    client.force_login(me)
    for hostname in ("taken.example", "free.example"):
        response = client.post(
            "/sites/new", {"display_name": "Mine", "hostname": hostname, "timezone": "UTC"}
        )
        assert response.status_code == 302
        assert response["Location"].endswith("/settings/install")
        assert "already" not in html.unescape(client.get(response["Location"]).content.decode())
    assert Site.objects.filter(hostname="taken.example").count() == 2
    assert SiteMembership.objects.filter(user=me).count() == 2


# --- Item 8: hostname squatting and verification ---------------------------------------


@pytest.fixture
def dns_server(monkeypatch):
    """A DNS server on loopback answering TXT queries from ``records`` (name → strings)."""
    records: dict[str, list[str]] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    def serve() -> None:
        while True:
            data, address = sock.recvfrom(4096)
            if not data:  # the fixture's stop datagram
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            if question.rdtype == dns.rdatatype.TXT and name in records:
                texts = [json.dumps(text) for text in records[name]]
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", *texts))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), address)

    from sites import verification

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setattr(verification, "NAMESERVERS", (("127.0.0.1", port),))
    yield records
    stopper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stopper.sendto(b"", ("127.0.0.1", port))
    stopper.close()
    thread.join(5)
    sock.close()


@pytest.fixture
def file_server(monkeypatch, dns_server):
    """An HTTP server on loopback serving ``files`` (path → body); ``requests`` lists paths."""
    files: dict[str, str] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            if body is not None:
                self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            return

    from sites import verification

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(verification, "FILE_PORTS", (("http", server.server_address[1]),))
    yield files, requests
    server.shutdown()
    server.server_close()
    thread.join(5)


def plausible_hit(client, domain: str):
    return client.post(
        "/api/event",
        data=json.dumps({"name": "pageview", "url": f"https://{domain}/", "domain": domain}),
        content_type="application/json",
        HTTP_USER_AGENT=UA,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )


def drops(site) -> int:
    flush_drop_counts()
    return sum(
        DroppedEventCount.objects.filter(site_id=site.pk, reason="unverified_hostname").values_list(
            "count", flat=True
        )
    )


def test_claiming_another_tenants_hostname_does_not_take_its_events(client, db, drain, request):
    """Before the fix the first claimant got every event for a name; the owner of the
    domain could not even add it. Now a second claim stops unverified routing, and the
    site that proves control of the name gets its events, the squatter none."""
    victim = site_create(display_name="Victim", hostname="shop.example")
    assert plausible_hit(client, "shop.example").status_code == 202
    assert [e.site_id for e in drain()] == [victim.pk]  # alone: routed as before

    squatter = site_create(display_name="Squatter", hostname="shop.example")
    site_lookup.clear()
    response = plausible_hit(client, "shop.example")
    assert (response.status_code, response["x-plausible-dropped"]) == (202, "1")
    assert [e.site_id for e in drain()] == [victim.pk]  # nothing new, for nobody
    assert (drops(victim), drops(squatter)) == (1, 1)

    # The squatter cannot verify without publishing at the domain; the victim can.
    dns_server = request.getfixturevalue("dns_server")
    assert call_verify(squatter) == {}
    dns_server["shop.example"] = [f"footfall-site-verification={victim.verification_token}"]
    assert call_verify(squatter) == {}  # the other site's token proves nothing for this one
    assert call_verify(victim) == {"shop.example": "dns"}
    assert plausible_hit(client, "shop.example").status_code == 202
    assert [e.site_id for e in drain()] == [victim.pk, victim.pk]


def call_verify(site) -> dict:
    from sites.services import site_verify_domains

    return site_verify_domains(site=site)


def test_the_latest_verification_wins_a_shared_name(db, dns_server):
    first = site_create(display_name="Old owner", hostname="moved.example")
    second = site_create(display_name="New owner", hostname="moved.example")
    dns_server["moved.example"] = [f"footfall-site-verification={first.verification_token}"]
    call_verify(first)
    assert site_lookup.site_by_domain("moved.example").id == first.pk
    dns_server["moved.example"] = [f"footfall-site-verification={second.verification_token}"]
    call_verify(second)
    assert site_lookup.site_by_domain("moved.example").id == second.pk


def test_a_shared_name_is_resolved_once_per_cache_fill(db, dns_server, django_assert_num_queries):
    site = site_create(display_name="A", hostname="busy.example")
    site_create(display_name="B", hostname="busy.example")
    SiteDomain.objects.filter(site=site).update(verified_at="2026-01-01T00:00:00Z")
    site_lookup.clear()
    with django_assert_num_queries(1):
        assert site_lookup.site_by_domain("busy.example").id == site.pk
    with django_assert_num_queries(0):
        for _ in range(50):
            assert site_lookup.site_by_domain("busy.example").id == site.pk


def test_a_hostname_is_verified_by_a_file_on_the_site(db, file_server, settings):
    from sites import verification

    files, requests = file_server
    settings.SITE_VERIFICATION_ALLOW_PRIVATE = True  # the test server is on loopback
    site = site_create(display_name="Local", hostname="127.0.0.1")
    files[verification.FILE_PATH] = "someone-elses-token\n"
    assert call_verify(site) == {}
    files[verification.FILE_PATH] = f"{site.verification_token}\n"
    assert call_verify(site) == {"127.0.0.1": "file"}
    assert SiteDomain.objects.get(site=site).verified_at is not None
    assert requests == [verification.FILE_PATH, verification.FILE_PATH]


def test_the_file_is_never_fetched_from_a_private_address_by_default(db, file_server):
    from sites import verification

    files, requests = file_server
    for host in ("127.0.0.1", "localhost"):
        site = site_create(display_name="Internal", hostname=host)
        files[verification.FILE_PATH] = site.verification_token
        assert call_verify(site) == {}
    assert requests == []
    assert not SiteDomain.objects.filter(verified_at__isnull=False).exists()


def test_the_settings_page_button_verifies_for_owners_and_admins_only(client, db, dns_server):
    site = site_create(display_name="Blog", hostname="blog.example")
    dns_server["blog.example"] = [f"footfall-site-verification={site.verification_token}"]
    url = f"/sites/{site.public_id}/settings/general/verify"
    viewer, stranger, admin = UserFactory(), UserFactory(), UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)
    SiteMembershipFactory(site=site, user=admin, role=Role.ADMIN)
    client.force_login(stranger)
    assert client.post(url).status_code == 404
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert SiteDomain.objects.get(site=site).verified_at is None
    client.force_login(admin)
    page = client.get(f"/sites/{site.public_id}/settings/general").content.decode()
    assert f"footfall-site-verification={site.verification_token}" in page
    assert "Not verified" in page
    response = client.post(url)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Verified: blog.example (dns)." in page
    assert SiteDomain.objects.get(site=site).verified_at is not None


def test_site_verify_command(capsys, db, dns_server):
    site = site_create(display_name="Blog", hostname="cli.example")
    with pytest.raises(CommandError, match=r"cli\.example is not verified"):
        call_command("site", "verify", "--site", site.public_id)
    out = json.loads(capsys.readouterr().out)
    assert out["domains"] == {"cli.example": None}
    assert out["verification_token"] == site.verification_token
    dns_server["cli.example"] = [f"footfall-site-verification={site.verification_token}"]
    call_command("site", "verify", "--site", str(site.pk))
    out = json.loads(capsys.readouterr().out)
    assert out["verified_now"] == {"cli.example": "dns"}
    assert out["domains"]["cli.example"] is not None
    with pytest.raises(CommandError, match="Unknown site"):
        call_command("site", "verify", "--site", "nope")


def test_changing_the_hostname_starts_unverified(client, db, dns_server):
    owner = UserFactory()
    site = site_create(display_name="Blog", hostname="before.example", owner=owner)
    SiteDomain.objects.filter(site=site).update(verified_at="2026-01-01T00:00:00Z")
    client.force_login(owner)
    client.post(
        f"/sites/{site.public_id}/settings/general",
        {"display_name": "Blog", "hostname": "after.example", "timezone": "UTC"},
    )
    assert list(SiteDomain.objects.filter(site=site).values_list("domain", "verified_at")) == [
        ("after.example", None)
    ]


# --- Item 7 (part): a site name with CR/LF ----------------------------------------------


@pytest.mark.parametrize(
    "name", ["Shop\r\nBcc: all@example.com", "Shop\nX", "Shop\x00", "A\u2028B"]
)
def test_a_site_name_with_line_breaks_is_refused_and_nothing_is_saved(client, db, name):
    me = UserFactory()
    client.force_login(me)
    response = client.post(
        "/sites/new", {"display_name": name, "hostname": "shop.example", "timezone": "UTC"}
    )
    assert response.status_code == 200
    assert "The name cannot contain line breaks or control characters." in html.unescape(
        response.content.decode()
    )
    assert not Site.objects.exists()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        site_create(display_name=name, hostname="shop.example")
    assert not Site.objects.exists()


def test_an_invitation_for_a_site_whose_name_has_crlf_is_still_sent(client, victim_site):
    """A row saved before names were checked: the mail's subject is one line, not a 500."""
    site, owner = victim_site
    Site.objects.filter(pk=site.pk).update(display_name="Corp\r\nBcc: all@example.com")
    client.force_login(owner)
    assert invite(client, site, "new@example.com").status_code == 302
    [message] = mail.outbox
    assert message.subject == "You are invited to Corp Bcc: all@example.com on Footfall"
    assert message.to == ["new@example.com"] and not message.bcc
    assert Invitation.objects.count() == 1


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


def test_an_invitation_whose_mail_fails_leaves_nothing_behind(client, victim_site, settings):
    site, owner = victim_site
    settings.EMAIL_BACKEND = "tests.test_security_accounts.FailingBackend"
    client.force_login(owner)
    response = invite(client, site, "new@example.com")
    assert response.status_code == 503
    assert "could not be sent, so nothing was saved" in response.content.decode()
    assert not Invitation.objects.exists()


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_site_name_is_either_refused_or_mailed_on_one_line(name):
    """Property: whatever the name, the form refuses it or the invitation mail builds."""
    from django.core.exceptions import ValidationError

    from sites.models import Invitation, validate_display_name
    from sites.services import invitation_send

    try:
        validate_display_name(name)
    except ValidationError:
        assert any(not c.isprintable() and c != " " for c in name)
        return
    mail.outbox = []
    site = Site(display_name=name, hostname="x.example")
    invitation_send(
        invitation=Invitation(site=site, email="a@example.com", role=Role.VIEWER),
        accept_url="https://footfall.example/accounts/invitations/t/",
    )
    [message] = mail.outbox
    message.message()  # builds the headers: a CR/LF in the subject raises BadHeaderError
    assert not any(c in message.subject for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
