"""The notification models in the Django admin: list and change pages open, deliveries are
read-only, and a webhook's secret never appears."""

from __future__ import annotations

import pytest
from django.urls import reverse

from stats.notifications import services
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_open_and_never_show_a_webhook_secret(client, receiver):
    site = SiteFactory()
    report = services.report_create(site=site, email="a@example.org", frequency="daily")
    hook, secret = services.webhook_create(site=site, url=receiver.url, format="json")
    alert = services.alert_create(site=site, kind="spike", threshold=1, webhook_ids=[hook.pk])
    services.webhook_send_test(webhook=hook)
    from stats.notifications.models import Delivery

    delivery = Delivery.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name, obj in (
        ("report", report),
        ("alert", alert),
        ("webhook", hook),
        ("delivery", delivery),
    ):
        listing = client.get(reverse(f"admin:notifications_{name}_changelist"))
        change = client.get(reverse(f"admin:notifications_{name}_change", args=[obj.pk]))
        assert listing.status_code == change.status_code == 200, name
        for response in (listing, change):
            assert secret not in response.content.decode()
            assert hook.secret_sealed not in response.content.decode()
    assert client.get(reverse("admin:notifications_webhook_add")).status_code == 403
    before = (delivery.status, delivery.key)
    client.post(
        reverse("admin:notifications_delivery_change", args=[delivery.pk]), {"status": "pending"}
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.key) == before
