"""Authentication hardening: log-in and token brute-force limits, constant-time secret
comparison, token expiry, revoked clients, secrets stored only as hashes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts import keys
from accounts.models import ApiClient
from accounts.services import api_client_create, oauth_token_issue
from accounts.throttling import FAILURES_PER_ACCOUNT, FAILURES_PER_IP
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

PASSWORD = "correct-horse-battery"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


def log_in(client, email, password, ip="198.51.100.20"):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_five_failed_log_ins_lock_the_address_for_that_ip(client, db):
    user = UserFactory()
    for _ in range(FAILURES_PER_ACCOUNT):
        assert log_in(client, user.email, "wrong").status_code == 200
    locked = log_in(client, user.email, PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 15 * 60
    assert "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another IP, or another address from this IP, is not locked by this pair.
    assert log_in(client, user.email, PASSWORD, ip="198.51.100.21").status_code == 302


def test_a_successful_log_in_clears_the_failures(client, db):
    user = UserFactory()
    for _ in range(FAILURES_PER_ACCOUNT - 1):
        log_in(client, user.email, "wrong")
    assert log_in(client, user.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(FAILURES_PER_ACCOUNT - 1):
        assert log_in(client, user.email, "wrong").status_code == 200
    assert log_in(client, user.email, PASSWORD).status_code == 302


def test_password_spraying_from_one_ip_is_locked(client, db):
    for index in range(FAILURES_PER_IP):
        assert log_in(client, f"nobody{index}@example.com", "wrong").status_code == 200
    user = UserFactory()
    assert log_in(client, user.email, PASSWORD).status_code == 429


def test_a_locked_log_in_does_not_check_the_password(client, db, monkeypatch):
    user = UserFactory()
    for _ in range(FAILURES_PER_ACCOUNT):
        log_in(client, user.email, "wrong")
    calls = []
    from django.contrib.auth import forms

    monkeypatch.setattr(forms, "authenticate", lambda *a, **k: calls.append(1))
    assert log_in(client, user.email, "wrong").status_code == 429
    assert calls == []


def test_throttle_keys_never_hold_the_address_or_ip_in_clear(client, db, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    import redis

    user = UserFactory()
    log_in(client, user.email, "wrong", ip="198.51.100.77")
    store = redis.Redis.from_url(settings.REDIS_URL)
    for key in store.keys("*"):
        assert b"198.51.100.77" not in key and user.email.encode() not in key
        value = store.get(key) if store.type(key) == b"string" else b""
        assert b"198.51.100.77" not in (value or b"")


@pytest.fixture
def oauth(db):
    owner = UserFactory()
    site = SiteFactory(hostname="auth.example")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client_obj, payload = api_client_create(user=owner, type="oauth", site=site)
    return client_obj, payload, site


def token_request(client, client_id, secret, ip="198.51.100.30"):
    return client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": client_id, "client_secret": secret}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def frozen_window(monkeypatch):
    """Fixed-window counters: keep every request of a test inside one window."""
    from analytics_project import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000_000.0)


def test_wrong_secrets_lock_the_guessing_caller_not_the_client(client, oauth, frozen_window):
    """Issue #21 (5): anyone who knew a client_id could block the integration."""
    _, payload, _ = oauth
    attacker = [
        token_request(client, payload["client_id"], "wrong", ip="198.51.100.31").status_code
        for _ in range(11)
    ]
    assert attacker == [401] * 5 + [429] * 6
    # The guessing caller is refused even with the right secret while it waits...
    response = token_request(
        client, payload["client_id"], payload["client_secret"], "198.51.100.31"
    )
    assert response.status_code == 429
    assert set(response.json()) == {"validation", "error", "context"}
    assert int(response["Retry-After"]) >= 1
    # ...but the integration itself, from its own address, gets its token.
    response = token_request(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == 200


def test_token_endpoint_is_throttled_per_ip(client, db, frozen_window):
    statuses = [token_request(client, f"id-{i}", "x").status_code for i in range(31)]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


def test_key_digests_are_compared_in_constant_time(monkeypatch):
    calls = []
    import hmac

    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    key = "pa_" + "a" * 45
    assert keys.digest_matches(key, keys.key_digest(key)) is True
    assert keys.digest_matches(key, keys.key_digest("pa_" + "b" * 45)) is False
    assert len(calls) == 2


def test_oauth_secrets_and_tokens_are_stored_only_as_hashes(client, oauth):
    client_obj, payload, _ = oauth
    response = token_request(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == 200
    token = response.json()["access_token"]
    application = client_obj.application
    application.refresh_from_db()
    assert application.client_secret != payload["client_secret"]
    assert application.client_secret.startswith("pbkdf2_")
    stored = AccessToken.objects.get(application=application)
    assert token not in (stored.token or "")
    assert stored.token_checksum and stored.token_checksum != token


@pytest.mark.parametrize("kind", ["key", "read", "matomo"])
def test_api_keys_are_stored_only_as_digests(db, kind):
    owner = UserFactory()
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client_obj, payload = api_client_create(user=owner, type=kind, site=site)
    raw = payload["key"]
    stored = ApiClient.objects.filter(pk=client_obj.pk).values().get()
    assert not any(isinstance(v, str) and raw in v for v in stored.values())


def test_an_expired_token_is_refused_in_pirschs_shape(client, oauth):
    client_obj, _, site = oauth
    token, _ = oauth_token_issue(client=client_obj)
    AccessToken.objects.filter(application=client_obj.application).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    for path in (
        "/api/v1/domain",
        f"/api/v1/statistics/total?id={site.public_id}&from=2026-01-01&to=2026-01-02",
    ):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401, path
        body = response.json()
        assert set(body) == {"validation", "error", "context"}
        assert body["error"] == ["The access token is invalid or has expired."]
    response = client.post(
        "/api/v1/hit",
        data=json.dumps(
            {"url": "https://auth.example/", "ip": "203.0.113.1", "user_agent": CHROME}
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 401


def test_a_revoked_client_is_refused_at_once(client, oauth):
    from accounts.services import api_client_revoke

    client_obj, payload, _ = oauth
    token, _ = oauth_token_issue(client=client_obj)
    assert client.get("/api/v1/domain", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    api_client_revoke(client=client_obj)
    response = client.get("/api/v1/domain", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert set(response.json()) == {"validation", "error", "context"}
    # Nor can it fetch a new token.
    assert token_request(client, payload["client_id"], payload["client_secret"]).status_code == 401


@pytest.mark.parametrize(
    ("kind", "path", "method"),
    [("key", "/api/v1/hit", "post"), ("read", "/api/v1/visitors", "get")],
)
def test_a_revoked_key_is_refused_at_once(client, db, kind, path, method):
    from accounts.services import api_client_revoke

    owner = UserFactory()
    site = SiteFactory(hostname="revoked.example")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client_obj, payload = api_client_create(user=owner, type=kind, site=site)
    hit = {"url": "https://revoked.example/", "ip": "203.0.113.2", "user_agent": CHROME}

    def call():
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {payload['key']}"}
        if method == "post":
            return client.post(
                path, data=json.dumps(hit), content_type="application/json", **kwargs
            )
        return client.get(path, **kwargs)

    assert call().status_code == 200
    api_client_revoke(client=client_obj)
    response = call()
    assert response.status_code == 401
    assert set(response.json()) == (
        {"validation", "error", "context"} if kind == "key" else {"error"}
    )


def test_token_limit_per_ip_counts_the_client_behind_a_trusted_proxy(client, db, frozen_window):
    """Behind the reverse proxy (a trusted peer) each client has its own bucket."""
    for i in range(30):
        response = client.post(
            "/api/v1/token",
            data=json.dumps({"client_id": f"id-{i}", "client_secret": "x"}),
            content_type="application/json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.40",
        )
        assert response.status_code == 401
    other = client.post(
        "/api/v1/token",
        data=json.dumps({"client_id": "id-x", "client_secret": "x"}),
        content_type="application/json",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.41",
    )
    assert other.status_code == 401  # another client behind the same proxy is not throttled


# --- the Django admin's log-in (issue #21, item 2) -------------------------------------------


@pytest.fixture
def superuser(db):
    from accounts.models import User

    return User.objects.create_superuser(email="root@example.com", password=PASSWORD)


def admin_log_in(client, email, password, ip="198.51.100.20"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_admin_log_in_refuses_the_right_password_after_repeated_failures(client, superuser):
    """12 wrong passwords for a superuser, then the right one, used to work."""
    statuses = [admin_log_in(client, superuser.email, "wrong").status_code for _ in range(12)]
    assert statuses == [200] * FAILURES_PER_ACCOUNT + [429] * (12 - FAILURES_PER_ACCOUNT)
    response = admin_log_in(client, superuser.email, PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still not in


def test_a_lock_on_the_product_log_in_also_locks_the_admin_log_in(client, superuser):
    for _ in range(FAILURES_PER_ACCOUNT):
        log_in(client, superuser.email, "wrong")
    assert log_in(client, superuser.email, PASSWORD).status_code == 429
    assert admin_log_in(client, superuser.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # ...and the other way round: failures on the admin count for the product's form.
    for _ in range(FAILURES_PER_ACCOUNT):
        admin_log_in(client, superuser.email, "wrong", ip="198.51.100.22")
    assert log_in(client, superuser.email, PASSWORD, ip="198.51.100.22").status_code == 429


def test_a_locked_ip_is_locked_on_the_admin_log_in(client, superuser):
    for index in range(FAILURES_PER_IP):
        log_in(client, f"nobody{index}@example.com", "wrong")
    assert admin_log_in(client, superuser.email, PASSWORD).status_code == 429


def test_any_authenticate_call_honours_the_lock(rf, superuser):
    """The backend itself refuses a locked caller: no password check anywhere."""
    from django.contrib.auth import authenticate

    request = rf.post("/elsewhere/", REMOTE_ADDR="198.51.100.23")
    for _ in range(FAILURES_PER_ACCOUNT):
        assert authenticate(request, username=superuser.email, password="wrong") is None
    assert authenticate(request, username=superuser.email, password=PASSWORD) is None
    other = rf.post("/elsewhere/", REMOTE_ADDR="198.51.100.24")
    assert authenticate(other, username=superuser.email, password=PASSWORD) == superuser
    # Named by the user model's own field, too.
    assert authenticate(request, email=superuser.email, password=PASSWORD) is None
    assert authenticate(other, email=superuser.email, password=PASSWORD) == superuser


def test_the_admin_log_in_still_works(client, superuser):
    response = admin_log_in(client, superuser.email, PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- shared-link passwords (issue #21, item 5) ----------------------------------------------


@pytest.fixture
def protected_link(db):
    from sites.sharing import shared_link_create

    site = SiteFactory(hostname="shared.example")
    _link, token = shared_link_create(site=site, password="open sesame")
    return site, token


def open_link(client, token, password, ip):
    return client.post(f"/share/{token}/", {"password": password}, REMOTE_ADDR=ip)


def test_a_stranger_guessing_a_link_password_does_not_lock_out_its_viewers(
    client, protected_link, frozen_window
):
    """The limit counted per link: anyone with the URL locked every viewer out."""
    from django.test import Client

    site, token = protected_link
    stranger = [open_link(client, token, "guess", "198.51.100.60") for _ in range(12)]
    assert [r.status_code for r in stranger] == [403] * 12
    assert b"Too many attempts" in stranger[-1].content
    assert b"Too many attempts" in open_link(client, token, "open sesame", "198.51.100.60").content
    viewer = Client()
    response = open_link(viewer, token, "open sesame", "192.0.2.61")
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/"


def test_link_password_failures_back_off_per_caller(client, protected_link, monkeypatch):
    from analytics_project import ratelimit
    from sites import sharing

    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    _site, token = protected_link
    for _ in range(sharing.PASSWORD_FAILURES_BEFORE_LOCK - 1):
        assert b"not right" in open_link(client, token, "guess", "198.51.100.62").content
    assert b"Too many" in open_link(client, token, "guess", "198.51.100.62").content
    now[0] += sharing.PASSWORD_LOCK_SECONDS - 1
    assert b"Too many" in open_link(client, token, "open sesame", "198.51.100.62").content
    now[0] += 1  # the first lock is over; the next failure locks for twice as long
    assert b"Too many" in open_link(client, token, "guess", "198.51.100.62").content
    now[0] += sharing.PASSWORD_LOCK_SECONDS
    assert b"Too many" in open_link(client, token, "open sesame", "198.51.100.62").content
    now[0] += sharing.PASSWORD_LOCK_SECONDS
    assert open_link(client, token, "open sesame", "198.51.100.62").status_code == 302


# --- password-reset mail (issue #21, item 9) ------------------------------------------------


def reset(client, email, ip="198.51.100.70"):
    return client.post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_mail_is_throttled_per_address(client, db, mailoutbox, frozen_window):
    """8 requests sent 8 mails."""
    from accounts.throttling import RESET_MAILS_PER_ADDRESS

    user = UserFactory()
    responses = [reset(client, user.email, ip=f"198.51.100.{71 + i}") for i in range(8)]
    assert [r.status_code for r in responses] == [302] * 8
    assert {r["Location"] for r in responses} == {"/accounts/password/reset/done/"}
    assert len(mailoutbox) == RESET_MAILS_PER_ADDRESS == 5
    assert {tuple(m.to) for m in mailoutbox} == {(user.email,)}


def test_password_reset_mail_is_throttled_per_caller(client, db, mailoutbox, frozen_window):
    from accounts.throttling import RESET_REQUESTS_PER_CALLER

    users = [UserFactory() for _ in range(RESET_REQUESTS_PER_CALLER + 3)]
    responses = [reset(client, user.email) for user in users]
    assert [r.status_code for r in responses] == [302] * len(users)
    assert len(mailoutbox) == RESET_REQUESTS_PER_CALLER
    # Another caller still gets its mail.
    reset(client, users[-1].email, ip="192.0.2.80")
    assert len(mailoutbox) == RESET_REQUESTS_PER_CALLER + 1


def test_a_throttled_reset_answers_exactly_like_a_sent_one(client, db, mailoutbox, frozen_window):
    """No enumeration: unknown, throttled and sent requests look the same."""
    user = UserFactory()
    for _ in range(5):
        reset(client, user.email)
    throttled = reset(client, user.email)
    unknown = reset(client, "nobody@example.com")
    sent = reset(client, UserFactory().email)
    assert len(mailoutbox) == 6
    for response in (throttled, unknown, sent):
        assert (response.status_code, response["Location"]) == (
            302,
            "/accounts/password/reset/done/",
        )
