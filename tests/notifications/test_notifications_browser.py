"""In real Chromium: an Owner subscribes a colleague to the weekly report and a Slack
channel to spike alerts, presses "Send a test" for each and sees them arrive at a real
SMTP server and a real HTTP receiver; then the scheduled report and a real spike arrive
once each, signed, and the colleague unsubscribes through the link in the mail.

A screenshot of the alerts page is saved to ``docs/screenshots/settings-alerts.png``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from stats.notifications import services, webhooks
from stats.notifications.models import Report
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.notifications.conftest import parts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"


def test_owner_sets_up_a_weekly_report_and_slack_spike_alerts(
    browser_context, live_server, smtp_server, receiver, settings
):
    base = live_server.url
    settings.SITE_URL = base  # links in the mails point at this server
    owner = UserFactory(email="owner@example.com")
    site = SiteFactory(display_name="Shop", hostname="shop.example", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    page = browser_context.new_page()
    page.goto(f"{base}/accounts/login/?next=/sites/{site.public_id}/settings/general")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Reports: a colleague (not a member) gets the weekly report; a test arrives by SMTP.
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Email address").fill("colleague@example.org")
    page.get_by_label("Every").select_option("weekly")
    page.get_by_role("button", name="Add report").click()
    row = page.locator("tr[data-report]")
    expect(row).to_contain_text("colleague@example.org")
    expect(row).to_contain_text("Weekly")
    row.get_by_role("button", name="Send a test").click()
    expect(page.get_by_text("Test report sent to colleague@example.org.")).to_be_visible()
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"].strip().startswith("[Test] Shop · weekly report")

    # Webhooks: a Slack channel; its signing secret is shown once.
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Name").fill("Slack #traffic")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Format").select_option("slack")
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("#secret-value").inner_text().strip()
    assert secret.startswith("whsec_")

    # Alerts: a spike alert to that channel, tested from its row.
    page.get_by_role("link", name="Alerts").click()
    page.get_by_label("When").select_option("spike")
    page.get_by_label("Threshold").fill("2")
    page.get_by_label("Slack #traffic").check()
    page.get_by_role("button", name="Add alert").click()
    alert_row = page.locator("tr[data-alert]")
    expect(alert_row).to_contain_text("Traffic spike")
    expect(alert_row).to_contain_text("Slack #traffic")
    alert_row.get_by_role("button", name="Send a test").click()
    expect(page.get_by_text(f"Test alert sent to {receiver.url}.")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "settings-alerts.png"), full_page=True)
    assert len(receiver.requests) == 1
    test_call = receiver.requests[0]
    assert webhooks.verify(
        secret, test_call.body, test_call.headers["Footfall-Signature"], now=int(time.time())
    )
    assert test_call.json()["text"].startswith("[Test] Traffic spike on Shop")

    # The real thing: a spike now, and the report at 09:00 next Monday in Berlin.
    now = datetime.now(UTC)
    store(
        [
            event_row(site.pk, now - timedelta(minutes=1), visitor=n, session=n, path="/sale")
            for n in range(3)
        ]
    )
    assert len(services.alerts_check(now)["fired"]) == 1
    assert services.alerts_check(now + timedelta(minutes=1))["fired"] == []
    assert len(receiver.requests) == 2
    spike = receiver.requests[1]
    assert webhooks.verify(
        secret, spike.body, spike.headers["Footfall-Signature"], now=int(time.time())
    )
    assert spike.json()["text"].startswith("Traffic spike on Shop: 3 current visitors")
    assert "Top pages: /sale (3)" in spike.json()["blocks"][1]["text"]["text"]

    berlin = now.astimezone(ZoneInfo("Europe/Berlin"))
    monday = (berlin + timedelta(days=7 - berlin.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    for moment in (monday - timedelta(minutes=1), monday, monday + timedelta(minutes=5)):
        services.reports_send_due(moment)
    reports = [m for m in smtp_server.messages if not m["Subject"].strip().startswith("[Test]")]
    assert len(reports) == 1
    assert reports[0]["To"] == "colleague@example.org"

    # The colleague unsubscribes from the mail's link, without an account.
    colleague = browser_context.browser.new_context()
    try:
        link = re.search(
            r"Unsubscribe: (\S+)", parts(reports[0])["text/plain"][0].get_content()
        ).group(1)
        assert link.startswith(base)
        unsubscribe_page = colleague.new_page()
        unsubscribe_page.goto(link)
        unsubscribe_page.get_by_role("button", name="Unsubscribe").click()
        expect(unsubscribe_page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    finally:
        colleague.close()
    assert not Report.objects.exists()


def test_the_notification_pages_meet_wcag_aa(browser_context, live_server, receiver):
    """axe-core on the Reports, Alerts, Webhooks, delivery log and unsubscribe pages, in both
    themes (as tests/test_accessibility_browser.py does for the other pages)."""
    from tests.test_accessibility_browser import AXE, violations

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/ensure_node_modules.sh (make test does).")
    axe_source = AXE.read_text()
    owner = UserFactory(email="owner@example.com")
    site = SiteFactory(display_name="Shop", hostname="shop.example")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    report = services.report_create(site=site, email="colleague@example.org", frequency="weekly")
    hook, _ = services.webhook_create(site=site, url=receiver.url, format="slack", name="Chat")
    services.alert_create(site=site, kind="spike", threshold=5, webhook_ids=[hook.pk])
    services.webhook_send_test(webhook=hook)
    from stats.notifications.channels import unsubscribe_token

    base, sid = live_server.url, site.public_id
    page = browser_context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    paths = [
        f"/sites/{sid}/settings/reports",
        f"/sites/{sid}/settings/alerts",
        f"/sites/{sid}/settings/webhooks",
        f"/sites/{sid}/settings/webhooks/{hook.pk}",
        "/notifications/unsubscribe/" + unsubscribe_token("r", report.pk, report.email),
        "/notifications/unsubscribe/not-a-token",
    ]
    found = []
    for theme in ("light", "dark"):
        for path in paths:
            page.goto(f"{base}{path}")
            page.wait_for_selector("main")
            if page.evaluate("document.documentElement.dataset.theme || 'light'") != theme:
                page.click("[data-theme-toggle]")
            found += [f"[{theme}] {line}" for line in violations(page, axe_source)]
    assert not found, "\n".join(found)
