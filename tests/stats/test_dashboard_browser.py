"""The dashboard in real Chromium: log in, read the numbers, filter by clicking a row, remove
the filter, switch the range, and watch the live badge change without a reload after a hit
arrives through the real Plausible endpoint and the real consumer.

Screenshots of the run are saved to ``docs/screenshots/`` (dashboard light and dark, live).
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import USER_AGENT
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = ["/", "/pricing", "/blog", "/docs", "/about"]
COUNTRIES = [
    ("DE", "DE-BE", "Berlin"),
    ("GB", "GB-ENG", "London"),
    ("US", "US-CA", "San Francisco"),
]
SOURCES = [("", "", "Direct"), ("google.com/search", "Google", "Organic Search")]
AGENTS = [("Chrome", "Windows", "desktop", "XL"), ("Safari", "iOS", "mobile", "S")]


def demo_traffic(site) -> None:
    """Two weeks of small, varied traffic ending 30 minutes ago (so nobody is live yet)."""
    rows = []
    end = datetime.now(UTC) - timedelta(minutes=30)
    visitor = 0
    for days_ago in range(14):
        for n in range(3 + (days_ago * 7) % 5):
            visitor += 1
            country, region, city = COUNTRIES[(visitor + days_ago) % 3]
            referrer, source, channel = SOURCES[visitor % 2]
            browser, os_name, device, screen = AGENTS[visitor % 2]
            start = end - timedelta(days=days_ago, minutes=n * 7)
            visit = {
                "visitor": visitor,
                "session": visitor,
                "entry_path": PAGES[visitor % len(PAGES)],
                "country_code": country,
                "region": region,
                "city": city,
                "referrer": referrer,
                "source": source,
                "channel": channel,
                "browser": browser,
                "os": os_name,
                "device_type": device,
                "screen_class": screen,
                "language": "en",
            }
            for hit in range(1 + visitor % 3):
                rows.append(
                    event_row(
                        site.pk,
                        start + timedelta(minutes=hit),
                        path=PAGES[(visitor + hit) % len(PAGES)],
                        **visit,
                    )
                )
            if visitor % 4 == 0:
                rows.append(
                    event_row(
                        site.pk,
                        start + timedelta(minutes=2),
                        kind="custom",
                        name="Signup",
                        props={"plan": "pro"},
                        path="/pricing",
                        **visit,
                    )
                )
    store(rows)


def kpi_value(page, key: str) -> str:
    return page.locator(f'[data-kpi="{key}"] .kpi-value').inner_text()


def send_plausible_pageview(base: str, hostname: str, path: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/event",
        data=json.dumps(
            {"name": "pageview", "url": f"http://{hostname}{path}", "domain": hostname}
        ).encode(),
        headers={
            "User-Agent": USER_AGENT,
            "X-Forwarded-For": "198.51.100.7",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_dashboard_in_a_real_browser(browser_context, live_server, drain):
    user = UserFactory(email="owner@example.test")
    site = SiteFactory(display_name="Example shop", hostname="example.test", timezone="UTC")
    SiteMembershipFactory(site=site, user=user, role="owner")
    demo_traffic(site)
    base = live_server.url
    page = browser_context.new_page()
    page.set_default_timeout(20_000)

    # Log in.
    page.goto(f"{base}/accounts/login/?next=/sites/{site.public_id}/%3Fperiod%3D30d")
    page.fill("input[name=username]", "owner@example.test")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/sites/{site.public_id}/?period=30d")

    # The numbers, and every panel loaded through HTMX.
    visitors_30d = int(kpi_value(page, "visitors").replace(",", ""))
    assert visitors_30d > 0
    page.wait_for_selector("#panel-pages .bar-row a.label")
    for group in ("sources", "locations", "devices", "languages", "events"):
        page.wait_for_selector(f"#panel-{group} .panel-body")
    assert page.locator("#panel-pages .panel-loading").count() == 0
    assert page.locator("svg.chart[role=img] polyline.series-visitors").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # Click a row: the whole dashboard is filtered, a chip shows it.
    page.locator("#panel-pages .bar-row a.label", has_text="/pricing").first.click()
    page.wait_for_url("**path=%2Fpricing**")
    chip = page.locator(".chips .chip")
    assert chip.count() == 1
    assert "Page is /pricing" in " ".join(chip.inner_text().split())
    filtered = int(kpi_value(page, "visitors").replace(",", ""))
    assert 0 < filtered < visitors_30d
    page.wait_for_selector("#panel-pages .bar-row")
    assert page.locator("#panel-pages .bar-row .label").first.inner_text() == "/pricing"

    # Remove it: back to the unfiltered numbers.
    chip.locator("a").click()
    page.wait_for_url(lambda address: "path=" not in address)
    assert page.locator(".chips .chip").count() == 0
    assert int(kpi_value(page, "visitors").replace(",", "")) == visitors_30d

    # Switch the range with the picker (submits on change).
    page.select_option("#period", "7d")
    page.wait_for_url("**period=7d**")
    assert page.locator("#period").input_value() == "7d"
    visitors_7d = int(kpi_value(page, "visitors").replace(",", ""))
    assert 0 < visitors_7d < visitors_30d

    # Dark theme (the toggle is remembered), for the screenshot.
    page.click("[data-theme-toggle]")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.wait_for_selector("#panel-pages .bar-row a.label")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-dark.png"), full_page=True)
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.click("[data-theme-toggle]")

    # Phone width: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_selector("#panel-pages .bar-row a.label")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('.chart-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15)"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Live: nobody now; a hit through the Plausible endpoint shows up without a reload.
    badge = page.locator("#live-badge [data-live-count]")
    assert badge.inner_text() == "0"
    page.evaluate("window.__notReloaded = true")
    assert send_plausible_pageview(base, site.hostname, "/live-now") == 202
    deadline = time.monotonic() + 20
    while not any(e.path == "/live-now" for e in drain()):
        assert time.monotonic() < deadline, "the hit was not stored"
        time.sleep(0.2)
    # (The page's CSP forbids eval, so the badge is watched with a locator assertion.)
    expect(badge).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.__notReloaded === true")

    # The realtime view lists the page being read now.
    page.goto(f"{base}/sites/{site.public_id}/live")
    page.wait_for_selector("#live-data .bar-row")
    assert "/live-now" in page.locator("#live-data").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-live.png"), full_page=True)


def test_viewer_sees_no_settings_link(browser_context, live_server):
    viewer = UserFactory(email="viewer@example.test")
    site = SiteFactory(hostname="example.test")
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/sites/{site.public_id}/")
    page.fill("input[name=username]", "viewer@example.test")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/sites/{site.public_id}/")
    nav = page.locator("nav.site-nav")
    assert "Dashboard" in nav.inner_text()
    assert "Settings" not in nav.inner_text()
