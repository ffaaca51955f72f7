"""The README's run command on a bare machine: SQLite, no Redis, tasks in-process."""

import http.cookiejar
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.embedded import run_embedded

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

# Per Behaviour section, something the demo's signals put there (stats/demo.py).
BEHAVIOUR_DEMO = {
    "frustration": "Most frustrated visitors",
    "errors": "Cannot read properties of undefined",
    "clicks": "button.plan-toggle",
    "journeys": "→",
    "reading": "/blog/privacy-first-analytics",
    "forms": "form#signup",
    "vitals": "Largest Contentful Paint",
    "seo": "missing_h1",
}


@pytest.mark.slow
@pytest.mark.browser
def test_run_command_serves_the_product_with_the_embedded_default(tmp_path, browser_context):
    with run_embedded(tmp_path) as product:
        base = product.base
        email, password = product.demo_login()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password}
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
        )
        sites_page = opener.open(request).read().decode()
        assert "Demo site" in sites_page
        assert (tmp_path / "footfall.sqlite3").exists()
        # The demo's month of traffic reads back through the dashboard on SQLite too.
        dashboard_path = re.search(r'href="(/sites/[^/"]+/)"', sites_page).group(1)
        dashboard = opener.open(f"{base}{dashboard_path}?period=30d").read().decode()
        page_views = re.search(
            r'data-kpi="views".*?class="kpi-value">([^<]+)<', dashboard, re.S
        ).group(1)
        assert int(page_views.replace(",", "")) > 0
        pages = opener.open(f"{base}{dashboard_path}panels/pages?period=30d").read().decode()
        assert "/pricing" in pages
        # The default view compares two populated months, not "new" against nothing.
        default = opener.open(f"{base}{dashboard_path}").read().decode()
        changes = re.findall(r'<span aria-hidden="true">[↑↓]</span> \d+%', default)
        assert len(changes) >= 3, default
        # Visitors are on the site when it starts: Live has someone to show.
        live = opener.open(f"{base}{dashboard_path}live/data").read().decode()
        current = re.search(r"data-live-count>(\d+)<", live).group(1)
        assert int(current) > 0
        # Every Behaviour section shows the demo's signals, not an empty state.
        for section, expected in BEHAVIOUR_DEMO.items():
            html = opener.open(f"{base}{dashboard_path}behaviour/{section}").read().decode()
            assert "data-empty-reason" not in html, section
            assert expected in html, section
        # The demo funnel converts, with the paid plans' revenue on its last step.
        funnels = opener.open(f"{base}{dashboard_path}funnels").read().decode()
        funnel_path = re.search(r'href="(/sites/[^/"]+/funnels/\d+)"', funnels).group(1)
        funnel = opener.open(f"{base}{funnel_path}").read().decode()
        assert "Pricing to sign-up" in funnel and "EUR" in funnel
        converted = re.search(r"([\d.]+) % convert", funnel).group(1)
        assert float(converted) > 0
        # The demo shop's Matomo orders and abandoned carts are on the Ecommerce page.
        shop = opener.open(f"{base}{dashboard_path}ecommerce").read().decode()
        assert "data-empty-reason" not in shop and "Business plan" in shop
        orders = re.search(r'data-kpi="orders">\s*<div class="kpi-label">Orders</div>\s*'
                           r'<div class="kpi-value">(\d+)<', shop)  # fmt: skip
        assert int(orders.group(1)) > 0
        assert int(re.search(r"Abandoned carts <span[^>]*>\((\d+):", shop).group(1)) > 0
        # The weekly report and the alerts an owner would set up are there.
        reports = opener.open(f"{base}{dashboard_path}settings/reports").read().decode()
        assert email in reports and "Weekly" in reports
        alerts = opener.open(f"{base}{dashboard_path}settings/alerts").read().decode()
        assert "Traffic spike" in alerts and "New JavaScript error" in alerts
        # The months before the demo's own days come from a Plausible export imported with
        # the real import: complete in settings, merged (and said so) on a year's dashboard.
        imports = opener.open(f"{base}{dashboard_path}settings/imports").read().decode()
        assert 'badge-good">complete' in imports
        year = opener.open(f"{base}{dashboard_path}?period=12mo").read().decode()
        assert "Includes imported data (Plausible)" in year
        # The README's tour: the same demo pages in a real browser.
        tour(
            browser_context,
            base,
            (email, password),
            [
                (f"{dashboard_path}?period=12mo", "demo-dashboard.png"),
                (f"{dashboard_path}behaviour/", "demo-behaviour.png"),
                (funnel_path, "demo-funnel.png"),
                (f"{dashboard_path}ecommerce", "demo-ecommerce.png"),
            ],
        )


def tour(context, base: str, login: tuple[str, str], shots: list[tuple[str, str]]) -> None:
    """Log in with Chromium and photograph the demo's sections for the README's tour."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", login[0])
    page.fill("input[name=password]", login[1])
    page.click("button[type=submit]")
    page.wait_for_selector("text=Demo site")
    for path, name in shots:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-empty-reason]").count() == 0, path
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    page.close()
