"""The Reports, Alerts and Webhooks settings pages: who may do what, bad input, the test
buttons, other sites' objects, and the webhook secret shown once."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from stats.notifications import services
from stats.notifications.models import Alert, Delivery, Report, Webhook
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    site = SiteFactory(hostname="blog.example.com", display_name="Blog")
    people = {"other": UserFactory(email="other@example.com")}
    for role in (Role.OWNER, Role.ADMIN, Role.VIEWER):
        people[role.value] = UserFactory(email=f"{role.value}@example.com")
        SiteMembershipFactory(site=site, user=people[role.value], role=role)
    other_site = SiteFactory(hostname="other.example.com")
    SiteMembershipFactory(site=other_site, user=people["other"], role=Role.OWNER)
    return site, other_site, people


def login(client, user):
    client.logout()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "reports", "alerts", "webhooks"),
    [
        ("owner", 200, 200, 200),
        ("admin", 200, 200, 200),
        ("viewer", 200, 403, 403),
        ("other", 404, 404, 404),
    ],
)
def test_who_may_open_each_page(client, world, who, reports, alerts, webhooks):
    site, _other_site, people = world
    login(client, people[who])
    base = f"/sites/{site.public_id}/settings"
    assert client.get(f"{base}/reports").status_code == reports
    assert client.get(f"{base}/alerts").status_code == alerts
    assert client.get(f"{base}/webhooks").status_code == webhooks


def test_anonymous_is_sent_to_log_in(client, world):
    site, _, _ = world
    response = client.get(f"/sites/{site.public_id}/settings/reports")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_owner_adds_any_address_and_a_viewer_only_themselves(client, world):
    site, _, people = world
    base = f"/sites/{site.public_id}/settings/reports"
    login(client, people["owner"])
    response = client.post(base, {"email": "Colleague@Example.org", "frequency": "weekly"})
    assert response.status_code == 302
    assert Report.objects.get().email == "colleague@example.org"
    assert b"Send a test" in client.get(base).content

    login(client, people["viewer"])
    page = client.get(base).content.decode()
    assert "colleague@example.org" not in page  # only their own subscriptions
    # An email field in the POST is ignored: a Viewer subscribes themselves only.
    client.post(base, {"email": "someone@example.org", "frequency": "daily"})
    assert sorted(Report.objects.values_list("email", "frequency")) == [
        ("colleague@example.org", "weekly"),
        ("viewer@example.com", "daily"),
    ]
    # ...and cannot remove or test another recipient's report.
    colleague = Report.objects.get(email="colleague@example.org")
    assert client.post(f"{base}/{colleague.pk}/delete").status_code == 404
    assert client.post(f"{base}/{colleague.pk}/test").status_code == 404
    own = Report.objects.get(email="viewer@example.com")
    assert client.post(f"{base}/{own.pk}/delete").status_code == 302
    assert not Report.objects.filter(pk=own.pk).exists()


def test_bad_input_is_answered_with_the_form_and_nothing_written(client, world):
    site, _, people = world
    login(client, people["owner"])
    base = f"/sites/{site.public_id}/settings"
    for path, data in [
        ("reports", {"email": "nope", "frequency": "weekly"}),
        ("reports", {"email": "a@b.org", "frequency": "hourly"}),
        ("alerts", {"kind": "spike", "threshold": "-1", "cooldown_hours": 12, "emails": "a@b.org"}),
        ("alerts", {"kind": "spike", "threshold": "1", "cooldown_hours": 12, "emails": ""}),
        ("alerts", {"kind": "spike", "threshold": "1", "cooldown_hours": 12, "emails": "bad"}),
        ("webhooks", {"url": "https://127.0.0.1/x", "format": "slack"}),
        ("webhooks", {"url": "javascript:alert(1)", "format": "json"}),
        ("webhooks", {"url": "https://example.org/x", "format": "irc"}),
    ]:
        response = client.post(f"{base}/{path}", data)
        assert response.status_code == 400, (path, data)
        assert b'class="error"' in response.content or b"alert-error" in response.content
    assert Report.objects.count() == Alert.objects.count() == Webhook.objects.count() == 0


def test_the_webhook_secret_is_shown_once(client, world, receiver):
    site, _, people = world
    login(client, people["admin"])
    base = f"/sites/{site.public_id}/settings/webhooks"
    response = client.post(base, {"name": "Team chat", "url": receiver.url, "format": "slack"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'id="secret-value">(whsec_[^<]+)<', response.content.decode()).group(1)
    hook = Webhook.objects.get()
    assert secret not in client.get(base).content.decode()
    assert hook.secret_prefix in client.get(base).content.decode()
    # The test button sends a signed message the receiver can verify with it.
    test = client.post(f"{base}/{hook.pk}/test")
    assert test.status_code == 302
    from stats.notifications.webhooks import verify

    request = receiver.requests[0]
    import time

    assert verify(secret, request.body, request.headers["Footfall-Signature"], now=int(time.time()))


def test_an_alert_is_added_with_a_webhook_and_tested(client, world, receiver, smtp_server):
    site, _, people = world
    hook, _ = services.webhook_create(site=site, url=receiver.url, format="discord")
    login(client, people["owner"])
    base = f"/sites/{site.public_id}/settings/alerts"
    response = client.post(
        base,
        {
            "kind": "spike",
            "threshold": "25",
            "cooldown_hours": "6",
            "emails": "ops@example.org, oncall@example.org",
            "webhooks": [str(hook.pk)],
        },
    )
    assert response.status_code == 302
    created = Alert.objects.get()
    assert created.emails == ["oncall@example.org", "ops@example.org"]
    assert list(created.webhooks.all()) == [hook]
    client.post(f"{base}/{created.pk}/test")
    assert len(receiver.requests) == 1
    assert (
        receiver.requests[0]
        .json()["content"]
        .startswith(
            "\\[Test\\] Traffic spike on Blog"  # Discord markdown, escaped: shows "[Test]"
        )
    )
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "oncall@example.org",
        "ops@example.org",
    ]


def test_other_sites_objects_are_404_and_untouched(client, world, receiver):
    site, other_site, people = world
    report = services.report_create(site=other_site, email="x@example.org", frequency="daily")
    hook, _ = services.webhook_create(site=other_site, url=receiver.url, format="json")
    other_alert = services.alert_create(
        site=other_site, kind="no-data", emails=["x@example.org"], webhook_ids=[hook.pk]
    )
    login(client, people["owner"])
    base = f"/sites/{site.public_id}/settings"
    for path in [
        f"reports/{report.pk}/delete",
        f"reports/{report.pk}/test",
        f"alerts/{other_alert.pk}/delete",
        f"alerts/{other_alert.pk}/test",
        f"webhooks/{hook.pk}/delete",
        f"webhooks/{hook.pk}/test",
    ]:
        assert client.post(f"{base}/{path}").status_code == 404, path
    assert client.get(f"{base}/webhooks/{hook.pk}").status_code == 404
    # Choosing another site's webhook for an alert is refused too.
    response = client.post(
        f"{base}/alerts",
        {"kind": "spike", "threshold": "1", "cooldown_hours": "12", "webhooks": [str(hook.pk)]},
    )
    assert response.status_code == 400
    assert Report.objects.count() == 1 and Webhook.objects.count() == 1
    assert Alert.objects.count() == 1
    assert Delivery.objects.count() == 0 and receiver.requests == []


def test_the_settings_navigation_links_the_new_sections(client, world):
    site, _, people = world
    login(client, people["owner"])
    page = client.get(f"/sites/{site.public_id}/settings/general").content.decode()
    for section in ("reports", "alerts", "webhooks"):
        assert f'href="/sites/{site.public_id}/settings/{section}"' in page


def test_a_viewer_finds_the_reports_page_from_the_dashboard(client, world):
    """Viewers may subscribe themselves, so the site navigation must lead them there."""
    site, _, people = world
    reports_link = f'href="/sites/{site.public_id}/settings/reports"'
    login(client, people["viewer"])
    assert reports_link in client.get(f"/sites/{site.public_id}/").content.decode()
    login(client, people["other"])
    assert client.get(f"/sites/{site.public_id}/").status_code == 404
