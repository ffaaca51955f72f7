"""Webhooks against a real HTTP receiver: the signature, the formats, retries after a 500
with the delivery log, and the SSRF guard at saving and at delivery time."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from stats.notifications import services, webhooks
from stats.notifications.models import Delivery, DeliveryStatus, Webhook
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def site():
    return SiteFactory(display_name="Shop", hostname="shop.example")


def spike(site, receiver, format="slack", threshold=3):
    hook, secret = services.webhook_create(site=site, url=receiver.url, format=format, now=NOW)
    alert = services.alert_create(
        site=site, kind="spike", threshold=threshold, webhook_ids=[hook.pk], now=NOW
    )
    store(
        [
            event_row(
                site.pk,
                NOW - timedelta(minutes=2),
                visitor=n,
                session=n,
                path="/sale" if n < 3 else "/",
                source="Hacker News" if n < 3 else "",
            )
            for n in range(4)
        ]
    )
    return hook, secret, alert


def test_a_spike_reaches_slack_signed_with_the_top_sources_and_pages(site, receiver):
    _hook, secret, _alert = spike(site, receiver)

    result = services.alerts_check(NOW)

    assert [f["kind"] for f in result["fired"]] == ["spike"]
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/footfall"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Footfall-Event"] == "alert.spike"
    delivery = Delivery.objects.get()
    assert request.headers["Footfall-Delivery"] == str(delivery.pk)
    # The receiver verifies the signature with the secret shown once.
    assert webhooks.verify(
        secret, request.body, request.headers["Footfall-Signature"], now=int(time.time())
    )
    assert not webhooks.verify(
        "whsec_wrong", request.body, request.headers["Footfall-Signature"], now=int(time.time())
    )
    assert not webhooks.verify(
        secret, request.body + b" ", request.headers["Footfall-Signature"], now=int(time.time())
    )
    body = request.json()
    assert body["text"].startswith("Traffic spike on Shop: 4 current visitors")
    section = body["blocks"][1]["text"]["text"]
    assert "at or above your threshold of 3" in section
    assert "Top sources: Hacker News (3), Direct (1)" in section
    assert "Top pages: /sale (3), / (1)" in section
    assert delivery.status == DeliveryStatus.SENT


def test_the_signature_documented_in_docs_verifies(site, receiver):
    """The verification snippet of docs/notifications.md, run against a real delivery."""
    import hashlib
    import hmac

    _hook, secret, _alert = spike(site, receiver, format="json")
    services.alerts_check(NOW)
    request = receiver.requests[0]

    header = request.headers["Footfall-Signature"]
    fields = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert abs(time.time() - int(fields["t"])) < 300
    body = request.json()
    assert body["event"] == "alert.spike"
    assert body["site"] == {"id": site.public_id, "name": "Shop", "hostname": "shop.example"}
    assert body["value"] == 4
    assert body["top_sources"][0] == {"label": "Hacker News", "visitors": 3}


def test_a_500_is_retried_with_backoff_and_the_log_shows_the_responses(site, receiver, client):
    hook, _secret, _alert = spike(site, receiver)
    receiver.statuses = [500, 502]

    first = services.alerts_check(NOW)
    assert first["failed"][0]["error"] == "HTTP 500"
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    # Within the backoff nothing is sent; the alert itself is cooling down.
    assert services.alerts_check(NOW + timedelta(seconds=30))["fired"] == []
    assert len(receiver.requests) == 1
    services.alerts_check(NOW + timedelta(minutes=1))  # 502, next in 2 minutes
    services.alerts_check(NOW + timedelta(minutes=3))  # 200
    services.alerts_check(NOW + timedelta(minutes=10))
    assert len(receiver.requests) == 3
    # One firing, three tries of the same signed delivery.
    assert {r.headers["Footfall-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert [(t.status_code, t.response) for t in delivery.tries.order_by("at")] == [
        (500, "receiver says no"),
        (502, "receiver says no"),
        (200, "ok"),
    ]

    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client.force_login(owner)
    page = client.get(f"/sites/{site.public_id}/settings/webhooks/{hook.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "HTTP 500" in text and "HTTP 502" in text and "HTTP 200" in text


def test_receivers_that_keep_failing_are_given_up(site, receiver):
    spike(site, receiver)
    receiver.statuses = [503] * 20
    moment = NOW
    for _ in range(services.MAX_ATTEMPTS):
        services.alerts_check(moment)
        moment += services.MAX_BACKOFF
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, services.MAX_ATTEMPTS)
    services.alerts_check(moment + timedelta(hours=5))
    assert len(receiver.requests) == services.MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("format", "check"),
    [
        ("slack", lambda b: b["blocks"][0]["text"]["text"].startswith("Test from Footfall")),
        ("discord", lambda b: b["content"].startswith("Test from Footfall") and b["embeds"]),
        (
            "teams",
            lambda b: (
                b["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
                and b["attachments"][0]["content"]["body"][0]["text"].startswith(
                    "Test from Footfall"
                )
            ),
        ),
        ("mattermost", lambda b: b["text"].startswith("#### Test from Footfall")),
        ("json", lambda b: b["event"] == "webhook.test" and b["site"]["name"] == "Shop"),
    ],
)
def test_each_format_sends_a_test(site, receiver, format, check):
    hook, secret = services.webhook_create(site=site, url=receiver.url, format=format)
    outcome = services.webhook_send_test(webhook=hook)
    assert outcome["status"] == "sent"
    request = receiver.requests[0]
    assert check(request.json())
    assert webhooks.verify(
        secret, request.body, request.headers["Footfall-Signature"], now=int(time.time())
    )


def test_ntfy_publishes_json_to_the_server_root_with_the_topic(site, receiver):
    url = receiver.url.replace("/hooks/footfall", "/footfall-alerts")
    hook, _ = services.webhook_create(site=site, url=url, format="ntfy")
    services.webhook_send_test(webhook=hook)
    request = receiver.requests[0]
    assert request.path == "/"
    body = request.json()
    assert body["topic"] == "footfall-alerts"
    assert body["title"].startswith("Test from Footfall")


# --- the SSRF guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "http://93.184.215.14/hook",  # public, but not https
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
    ],
)
def test_private_addresses_and_plain_http_are_refused_when_saving(site, url):
    with pytest.raises(ValidationError):
        services.webhook_create(site=site, url=url, format="json")
    assert Webhook.objects.count() == 0


def test_a_public_https_url_is_accepted(site, monkeypatch):
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.215.14", 443))]
    )
    hook, secret = services.webhook_create(
        site=site, url="https://hooks.example.com/x", format="json"
    )
    assert secret.startswith("whsec_") and hook.secret_prefix == secret[:10]
    # Stored sealed, not in clear.
    assert secret not in hook.secret_sealed
    assert webhooks.unseal(hook.secret_sealed) == secret


def test_dns_switched_to_a_private_address_after_saving_is_refused_at_delivery(
    site, receiver, monkeypatch, settings
):
    """Saved while the name pointed at a public address; at delivery time it resolves to
    the loopback receiver: refused, nothing reaches it."""
    real = socket.getaddrinfo
    answers = {"hooks.example.com": "93.184.215.14"}

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    hook, _ = services.webhook_create(
        site=site, url="https://hooks.example.com/hooks/footfall", format="json"
    )
    answers["hooks.example.com"] = "127.0.0.1"

    outcome = services.webhook_send_test(webhook=hook)

    assert outcome["status"] == "failed"
    assert "private, loopback or link-local" in outcome["error"]
    assert receiver.requests == []
    attempt = Delivery.objects.get().tries.get()
    assert "127.0.0.1" in attempt.error


def test_the_allow_private_flag_is_read_at_delivery_time(site, receiver, settings):
    hook, _ = services.webhook_create(site=site, url=receiver.url, format="json")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    assert services.webhook_send_test(webhook=hook)["status"] == "failed"
    assert receiver.requests == []
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert services.webhook_send_test(webhook=hook)["status"] == "sent"
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(site, receiver):
    hook, _ = services.webhook_create(site=site, url=receiver.url, format="json")
    receiver.statuses = [302]
    outcome = services.webhook_send_test(webhook=hook)
    assert outcome["status"] == "failed" and outcome["error"] == "HTTP 302"
    assert len(receiver.requests) == 1


# --- hostile tracked text -------------------------------------------------------------------

HOSTILE = "<!channel> @channel @here [win](https://evil.example) <https://evil.example|x> *b*"


@pytest.mark.parametrize("format", ["slack", "discord", "teams", "mattermost"])
def test_tracked_text_cannot_mention_link_or_format_in_chat(site, receiver, format):
    """An error message is sent by any visitor's browser: in chat it must stay text."""
    hook, _ = services.webhook_create(site=site, url=receiver.url, format=format)
    services.alert_create(site=site, kind="error", webhook_ids=[hook.pk], now=NOW)
    store(
        [
            event_row(
                site.pk,
                NOW + timedelta(minutes=1),
                kind="error",
                name="js_exception",
                path="/[p](https://evil.example)",
                props={"message": HOSTILE},
            )
        ]
    )
    services.alerts_check(NOW + timedelta(minutes=2))
    body = receiver.requests[0].body.decode()
    rendered = json.loads(body)
    if format == "slack":
        section = rendered["blocks"][1]["text"]["text"]
        assert "<!channel>" not in section and "<https://evil" not in section
        assert "&lt;!channel&gt;" in section
        assert "<!channel>" not in rendered["text"]
    else:
        text = json.dumps(rendered, ensure_ascii=False)
        assert "[win](https://evil.example)" not in text
        assert "[p](https://evil.example)" not in text
        assert "@channel" not in text and "@here" not in text
        assert "@\u200bchannel" in text
    if format == "discord":
        assert rendered["allowed_mentions"] == {"parse": []}


def test_tracked_text_is_escaped_in_alert_emails(site, smtp_server):
    services.alert_create(site=site, kind="error", emails=["ops@example.org"], now=NOW)
    store(
        [
            event_row(
                site.pk,
                NOW + timedelta(minutes=1),
                kind="error",
                name="js_exception",
                props={"message": '<img src=x onerror="alert(1)"><script>alert(2)</script>'},
            )
        ]
    )
    services.alerts_check(NOW + timedelta(minutes=2))
    from tests.notifications.conftest import parts

    html = parts(smtp_server.messages[0])["text/html"][0].get_content()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
