"""Sign-up (switchable), log-in, log-out, password change and reset."""

import re

from django.core import mail

from accounts.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


def test_signup_creates_an_account_and_logs_in(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "New@Example.com",
            "password1": "a-Long-pass-123",
            "password2": "a-Long-pass-123",
        },
    )
    assert response.status_code == 302
    assert User.objects.get().email == "new@example.com"
    assert client.get("/").status_code == 200


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
