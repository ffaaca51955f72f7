"""Sign-up (switchable), log-in, log-out, password change and reset."""

import re

from django.core import mail

from accounts.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


NEW_PASSWORD = "a-Long-pass-123"


def _signup(client, email: str, password: str = NEW_PASSWORD, url="/accounts/signup/"):
    return client.post(url, {"email": email, "password1": password, "password2": password})


def _page_text(response) -> str:
    """A page without what differs on every response (CSP nonces, CSRF tokens)."""
    text = response.content.decode()
    text = re.sub(r'(nonce|value)="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def _verify_link(message) -> str:
    return re.search(r"http://testserver(/accounts/verify/[^/\s]+/)", message.body).group(1)


def test_signup_creates_an_unverified_account_that_the_emailed_link_and_password_confirm(
    client, db, mailoutbox
):
    response = _signup(client, "New@Example.com")
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    assert "Check your email" in client.get(response["Location"]).content.decode()
    user = User.objects.get()
    assert (user.email, user.email_verified) == ("new@example.com", False)
    assert client.get("/").status_code == 302  # not logged in
    # It cannot log in before the address is confirmed.
    refused = client.post(
        "/accounts/login/", {"username": "new@example.com", "password": "a-Long-pass-123"}
    )
    assert refused.status_code == 200
    assert "Confirm your email address first" in refused.content.decode()
    assert client.get("/").status_code == 302

    [message] = mailoutbox
    assert message.to == ["new@example.com"]
    link = _verify_link(message)
    assert "for <strong>new@example.com</strong>" in client.get(link).content.decode()
    wrong = client.post(link, {"password": "not-the-password"})
    assert "This is not the account&#x27;s password." in wrong.content.decode()
    user.refresh_from_db()
    assert not user.email_verified
    confirmed = client.post(link, {"password": "a-Long-pass-123"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/"
    user.refresh_from_db()
    assert user.email_verified
    assert client.get("/").status_code == 200  # logged in
    client.logout()
    assert (
        client.post(
            "/accounts/login/", {"username": "new@example.com", "password": "a-Long-pass-123"}
        ).status_code
        == 302
    )


def test_a_tampered_or_expired_signup_link_is_refused(client, db, mailoutbox, monkeypatch):
    from datetime import timedelta

    from accounts import services

    _signup(client, "new@example.com")
    link = _verify_link(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = f"/accounts/verify/{token[:-2]}{'xy' if token[-2:] != 'xy' else 'yz'}/"
    assert client.post(tampered, {"password": "a-Long-pass-123"}).status_code == 404
    assert client.get(link).status_code == 200
    # Signed a second ago with a lifetime of zero: expired.
    monkeypatch.setattr(services, "EMAIL_LINK_MAX_AGE", timedelta(seconds=-1))
    assert client.post(link, {"password": "a-Long-pass-123"}).status_code == 404
    assert not User.objects.get().email_verified


def test_resending_the_link_answers_the_same_whatever_exists(client, db, mailoutbox):
    UserFactory(email="verified@example.com")
    _signup(client, "waiting@example.com")
    mailoutbox.clear()
    pages = [
        client.post("/accounts/verify/resend/", {"email": email})
        for email in ("waiting@example.com", "verified@example.com", "nobody@example.com")
    ]
    assert {p.status_code for p in pages} == {200}
    assert len({_page_text(p) for p in pages}) == 1
    [message] = mailoutbox
    assert message.to == ["waiting@example.com"] and "/accounts/verify/" in message.body


def test_signup_can_be_switched_off(client, db, settings):
    settings.SIGNUP_ENABLED = False
    assert client.get("/accounts/signup/").status_code == 404
    assert (
        client.post(
            "/accounts/signup/",
            {"email": "a@b.co", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123"},
        ).status_code
        == 404
    )
    assert not User.objects.exists()


def test_login_logout(client, db):
    user = UserFactory(email="me@example.com")
    assert client.get("/").status_code == 302
    assert (
        client.post(
            "/accounts/login/", {"username": "me@example.com", "password": "wrong"}
        ).status_code
        == 200
    )
    response = client.post("/accounts/login/", {"username": "ME@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert user.is_active


def test_password_change(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Another-pass-456",
            "new_password2": "Another-pass-456",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-pass-456")


def test_password_reset_by_email(client, db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = UserFactory(email="forgot@example.com")
    assert (
        client.post("/accounts/password/reset/", {"email": "forgot@example.com"}).status_code == 302
    )
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Brand-new-789", "new_password2": "Brand-new-789"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-789")
