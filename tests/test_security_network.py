"""Attacks through forwarding headers (issue #21, items 3 and 10).

Behind nginx (``proxy_add_x_forwarded_for``) or HAProxy (``option forwardfor``) the proxy
*appends* the address it saw: ``X-Forwarded-For: <whatever the client sent>, <client>``.
The test client's peer is 127.0.0.1, a trusted proxy by default, so every request here is
what our server sees behind such a proxy: the attacker rotates the leftmost entry, the
rightmost is its real address.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.throttling import FAILURES_PER_IP
from tests.factories import SiteFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ATTACKER = "198.51.100.50"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def behind_proxy(spoofed: str, real: str = ATTACKER) -> dict:
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"{spoofed}, {real}"}


@pytest.fixture
def frozen_window(monkeypatch):
    from analytics_project import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000_000.0)


def test_rotating_the_leftmost_entry_does_not_dodge_the_log_in_lock(client, db):
    """35 wrong log-ins with a rotated entry used to never hit the lock."""
    statuses = [
        client.post(
            "/accounts/login/",
            {"username": f"nobody{i}@example.com", "password": "wrong"},
            **behind_proxy(f"10.9.{i}.1"),
        ).status_code
        for i in range(35)
    ]
    assert statuses == [200] * FAILURES_PER_IP + [429] * (35 - FAILURES_PER_IP)
    user = UserFactory()
    refused = client.post(
        "/accounts/login/",
        {"username": user.email, "password": "correct-horse-battery"},
        **behind_proxy("192.0.2.1"),
    )
    assert refused.status_code == 429
    # Another client behind the same proxy is not locked.
    other = client.post(
        "/accounts/login/",
        {"username": user.email, "password": "correct-horse-battery"},
        **behind_proxy("10.9.0.1", real="198.51.100.51"),
    )
    assert other.status_code == 302


def test_rotating_the_leftmost_entry_does_not_dodge_the_token_limit(client, db, frozen_window):
    statuses = [
        client.post(
            "/api/v1/token",
            data=json.dumps({"client_id": f"id-{i}", "client_secret": "x"}),
            content_type="application/json",
            **behind_proxy(f"203.0.113.{i}"),
        ).status_code
        for i in range(31)
    ]
    assert statuses == [401] * 30 + [429]


def collect(client, site, page="/page", **extra):
    body = {"k": site.public_key, "u": f"https://{site.hostname}{page}", "e": [{"t": "pageview"}]}
    return client.post(
        "/api/collect",
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_USER_AGENT=UA,
        **extra,
    )


def test_rotating_the_leftmost_entry_does_not_mint_visitors(client, db, drain):
    """One client used to count as 5 visitors."""
    site = SiteFactory(hostname="visitors.example")
    for i in range(5):
        assert collect(client, site, **behind_proxy(f"192.0.2.{i + 1}")).status_code == 202
    events = drain()
    assert len(events) == 5
    assert len({event.visitor_id for event in events}) == 1
    # A different real client behind the same proxy is a different visitor.
    assert collect(client, site, **behind_proxy("192.0.2.1", real="198.51.100.99")).status_code
    assert len({event.visitor_id for event in drain()}) == 2


def test_excluded_addresses_are_matched_against_the_real_client(client, db, drain):
    site = SiteFactory(hostname="excluded.example", excluded_ips=[ATTACKER, "192.0.2.0/24"])
    # An excluded client cannot get itself counted by prepending another address...
    assert collect(client, site, "/excluded", **behind_proxy("203.0.113.5")).status_code == 202
    # ...and nobody else gets dropped because a stranger's address was prepended.
    real = behind_proxy("192.0.2.7", real="198.51.100.98")
    assert collect(client, site, "/counted", **real).status_code == 202
    assert [e.path for e in drain()] == ["/counted"]


def test_a_chain_of_trusted_proxies_is_walked_to_the_client(client, db, drain, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "10.0.0.0/8"]
    site = SiteFactory(hostname="chain.example", excluded_ips=[ATTACKER])
    # client → edge proxy 10.1.1.1 → inner proxy 10.2.2.2 → us (peer 127.0.0.1).
    chain = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {ATTACKER}, 10.1.1.1"}
    assert collect(client, site, **chain).status_code == 202
    assert drain() == []  # the excluded real client, two hops away, was recognised
    # From a peer that is not a trusted proxy the header means nothing at all.
    direct = {"REMOTE_ADDR": "198.51.100.97", "HTTP_X_FORWARDED_FOR": ATTACKER}
    assert collect(client, site, **direct).status_code == 202
    assert len(drain()) == 1


def test_protocol_ip_fields_still_decide_where_the_protocol_documents_them(client, db):
    """Plausible documents X-Forwarded-For's first valid entry as its IP field."""
    SiteFactory(hostname="plausible-ip.example")
    response = client.post(
        "/api/event",
        data=json.dumps(
            {
                "name": "pageview",
                "url": "https://plausible-ip.example/",
                "domain": "plausible-ip.example",
            }
        ),
        content_type="text/plain",
        HTTP_USER_AGENT=UA,
        HTTP_X_DEBUG_REQUEST="true",
        **behind_proxy("203.0.113.44"),
    )
    assert response.json() == {"ip": "203.0.113.44"}


# --- X-Forwarded-Proto (item 10) ----------------------------------------------------------


def test_forwarded_proto_from_a_client_is_not_believed(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    spoofed = client.get(
        "/accounts/login/", REMOTE_ADDR="203.0.113.70", HTTP_X_FORWARDED_PROTO="https"
    )
    assert spoofed.status_code == 301
    assert spoofed["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in spoofed


def test_forwarded_proto_from_a_trusted_proxy_is_believed(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    proxied = client.get(
        "/accounts/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https"
    )
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")


def production_settings(**overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_")) and key != "DEBUG"
    }
    env.update({"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(64), **overrides})
    return env


def setting(name: str, **overrides) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, django; os.environ['DJANGO_SETTINGS_MODULE']='analytics_project.settings';"
            f"django.setup(); from django.conf import settings; print(settings.{name})",
        ],
        cwd=ROOT,
        env=production_settings(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hsts_is_on_by_default_in_production_and_can_be_turned_off():
    assert setting("SECURE_HSTS_SECONDS") == "31536000"
    assert setting("SECURE_HSTS_SECONDS", SECURE_HSTS_SECONDS="0") == "0"
    assert setting("SECURE_HSTS_SECONDS", DEBUG="true") == "0"  # Django's default in development
