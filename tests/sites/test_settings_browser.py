"""The admin pages in real Chromium: log in, add a site, copy the snippet, watch the install
page turn green when a real hit arrives, create an access key and see its secret once, and
check that a Viewer cannot reach the settings.

Screenshots of the run are saved to ``docs/screenshots/`` (sites, install, settings-clients).
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts.models import ApiClient, Role
from sites.models import Site
from stats.rollups import rollup_site
from tests.browser import USER_AGENT
from tests.factories import SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"


def log_in(page, base: str, email: str, next_path: str = "/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def send_plausible_pageview(base: str, hostname: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/event",
        data=json.dumps(
            {"name": "pageview", "url": f"https://{hostname}/pricing", "domain": hostname}
        ).encode(),
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def past_month_of_visits(site: Site) -> list[int]:
    """Visitors on each of the 29 days before today (site's zone), stored and rolled up."""
    zone = ZoneInfo(site.timezone)
    today = datetime.now(zone).date()
    counts, rows = [], []
    for days_ago in range(29, 0, -1):
        visitors = 3 + (days_ago * 7) % 11
        counts.append(visitors)
        noon = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=zone)
        rows += [
            event_row(site.pk, noon, visitor=days_ago * 100 + n, session=days_ago * 100 + n)
            for n in range(visitors)
        ]
    store(rows)
    rollup_site(site)
    return counts


def test_owner_adds_a_site_installs_it_and_creates_a_key(browser_context, live_server, drain):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    UserFactory(email="owner@example.com")
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = browser_context.new_page()
    log_in(page, base, "owner@example.com")

    # Add a site from the (empty) sites list.
    expect(page.get_by_text("No sites yet.")).to_be_visible()
    page.get_by_role("link", name="Add your first site").click()
    page.get_by_label("Name", exact=True).fill("Shop")
    page.get_by_label("Hostname").fill("https://www.shop.example.org/")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Add site").click()
    site = Site.objects.get()
    assert site.hostname == "shop.example.org"
    assert page.url == f"{base}/sites/{site.public_id}/settings/install"

    # The snippet: the copy button puts exactly the shown tag in the clipboard.
    shown_tag = page.locator("#snippet-tag").inner_text().strip()
    assert shown_tag == (
        f'<script defer src="{base}/js/footfall.js" data-site="{site.public_key}"></script>'
    )
    page.get_by_role("button", name="Copy snippet").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == shown_tag
    expect(page.locator("#id-idsite")).to_have_text(str(site.pk))
    expect(page.locator("#id-pid")).to_have_text(site.public_id)

    # Waiting → received, by HTMX polling, after a real hit through the real consumer.
    status = page.locator("#install-status")
    expect(status).to_have_attribute("data-state", "waiting")
    assert send_plausible_pageview(base, "shop.example.org") == 202
    assert len(drain()) == 1
    expect(status).to_have_attribute("data-state", "received", timeout=15_000)
    expect(status).to_contain_text("Receiving events.")
    page.screenshot(path=str(SCREENSHOTS / "install.png"), full_page=True)

    # An access key: its secret is shown once.
    page.get_by_role("link", name="API clients").first.click()
    page.get_by_label("Kind").select_option("key")
    page.get_by_label("Description").fill("Backend server")
    page.get_by_role("button", name="Create").click()
    secret = page.locator("#secret-value").inner_text().strip()
    assert re.fullmatch(r"pa_[A-Za-z0-9]{45}", secret)
    page.get_by_role("button", name="Copy key").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(SCREENSHOTS / "settings-clients.png"), full_page=True)
    stored = ApiClient.objects.get()
    page.goto(f"{base}/sites/{site.public_id}/settings/clients")
    content = page.content()
    assert secret not in content
    expect(page.locator(f'tr[data-client="{stored.public_id}"]')).to_contain_text(
        f"pa_…{secret[-4:]}"
    )
    expect(page.locator("#secret-value")).to_have_count(0)

    # The sites list shows today's visitor and the trend line (with a month of history).
    history = past_month_of_visits(site)
    page.goto(f"{base}/")
    row = page.locator(f'tr[data-site="{site.public_id}"]')
    expect(row.locator("[data-visitors-today]")).to_have_text("1")
    expect(row.locator("svg.sparkline title")).to_have_text(
        f"Visitors over the last 30 days: {sum(history) + 1} in all, at most {max(history)} a day"
    )
    page.screenshot(path=str(SCREENSHOTS / "sites.png"), full_page=True)


def test_a_viewer_cannot_reach_the_settings(browser_context, live_server):
    owner = UserFactory(email="owner@example.com")
    viewer = UserFactory(email="viewer@example.com")
    from sites.services import site_create

    site = site_create(display_name="Shop", hostname="shop.example.org", owner=owner)
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)
    page = browser_context.new_page()
    log_in(page, live_server.url, "viewer@example.com")
    expect(page.locator(f'tr[data-site="{site.public_id}"]')).to_be_visible()
    for section in ("general", "members", "clients", "install"):
        response = page.goto(f"{live_server.url}/sites/{site.public_id}/settings/{section}")
        assert response.status == 403
        expect(page.get_by_role("heading", name="You cannot do this")).to_be_visible()
        expect(page.locator("form[action*='/settings/']")).to_have_count(0)
