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


def test_token_endpoint_is_throttled_per_client_id(client, oauth, frozen_window):
    _, payload, _ = oauth
    statuses = [
        token_request(client, payload["client_id"], "wrong", ip=f"198.51.100.{i}").status_code
        for i in range(11)
    ]
    assert statuses == [401] * 10 + [429]
    # The right secret is refused too while the client id is throttled.
    response = token_request(client, payload["client_id"], payload["client_secret"])
    assert response.status_code == 429
    assert set(response.json()) == {"validation", "error", "context"}
    assert int(response["Retry-After"]) >= 1


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
