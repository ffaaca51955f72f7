"""Accessibility: every page a site owner uses, audited in real Chromium with axe-core (the
engine behind Lighthouse's and Deque's audits) against WCAG 2.1 A and AA, in the light and
the dark theme. axe-core is installed from npm by the project's own ``package.json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sites.sharing import shared_link_create
from stats.behaviour_views import SECTIONS
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.stats.test_dashboard_browser import demo_traffic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/ensure_node_modules.sh (make test does).")
    return AXE.read_text()


def violations(page, axe_source: str) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now, one line each."""
    # Evaluated through the DevTools protocol: the pages' CSP forbids injected scripts.
    page.evaluate(axe_source)
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => `${v.impact} ${v.id}: ${v.help} — `"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))",
        WCAG,
    )
    return [f"{page.url}: {line}" for line in found]


def _shop_orders(site) -> None:
    """Two Matomo orders and an abandoned cart in the last day, as the adapter stores them."""
    from datetime import UTC, datetime, timedelta

    from tests.helpers import event_row, store

    now = datetime.now(UTC) - timedelta(hours=2)
    items = '[["SKU-1","Team plan",["Plans"],"49",2]]'
    common = {"kind": "custom", "protocol": "matomo", "revenue_currency": ""}
    store(
        [
            event_row(site.pk, now, session=901, visitor=901, name="Ecommerce Order",
                      props={"order_id": "A-1", "items": items, "subtotal": "98", "tax": "18.62"},
                      revenue_amount="116.62", **common),
            event_row(site.pk, now, session=902, visitor=902, name="Ecommerce Order",
                      props={"order_id": "A-2", "items": items}, revenue_amount="98", **common),
            event_row(site.pk, now, session=903, visitor=903, name="Cart Update",
                      props={"cart_total": "98", "items": items}, **common),
        ]
    )  # fmt: skip


def test_every_page_meets_wcag_aa(browser_context, live_server, axe_source):
    user = UserFactory(email="owner@example.test")
    site = SiteFactory(display_name="Example shop", hostname="example.test", timezone="UTC")
    SiteMembershipFactory(site=site, user=user, role="owner")
    demo_traffic(site)
    _link, token = shared_link_create(site=site, label="Board")
    from stats.models import Funnel  # issue #15: the Funnels pages

    funnel = Funnel.objects.create(
        site=site,
        name="Pricing to docs",
        steps=[
            {"name": "/pricing", "alternatives": [{"type": "page", "path": "/pricing"}]},
            {"name": "/docs", "alternatives": [{"type": "page", "path": "/docs"}]},
        ],
    )
    _shop_orders(site)  # issue #15: the Ecommerce page with data
    base, sid = live_server.url, site.public_id
    page = browser_context.new_page()
    page.set_default_timeout(20_000)

    found = []
    for path in ("/accounts/signup/", "/accounts/password/reset/", "/accounts/login/"):
        page.goto(f"{base}{path}")
        found += violations(page, axe_source)
    page.fill("input[name=username]", "owner@example.test")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    pages = [
        ("/", "main"),
        (f"/sites/{sid}/?period=30d", "#panel-pages .bar-row"),
        (f"/sites/{sid}/panels/pages/details?period=30d", "main"),
        (f"/sites/{sid}/live", "#live-data"),
        (f"/sites/{sid}/behaviour/", "main"),
        *((f"/sites/{sid}/behaviour/{section}", "main") for section in SECTIONS),
        (f"/sites/{sid}/funnels", "main"),
        (f"/sites/{sid}/funnels/new", "main"),
        (f"/sites/{sid}/funnels/{funnel.pk}?period=30d&breakdown=country", "[data-funnel-chart]"),
        (f"/sites/{sid}/funnels/{funnel.pk}/edit", "main"),
        (f"/sites/{sid}/funnels/{funnel.pk}/dropped?step=2&period=30d", "main"),
        (f"/sites/{sid}/ecommerce?period=30d", "[data-ecommerce=orders]"),
        (f"/sites/{sid}/ecommerce?period=custom&from=2020-01-01&to=2020-01-31", "main"),
        (f"/sites/{sid}/settings/general", "main"),
        (f"/sites/{sid}/settings/install", "main"),
        (f"/sites/{sid}/settings/members", "main"),
        (f"/sites/{sid}/settings/clients", "main"),
        (f"/sites/{sid}/settings/tracking", "main"),
        (f"/sites/{sid}/settings/danger", "main"),
        ("/sites/new", "main"),
        ("/account/", "main"),
        (f"/share/{token}/", "main"),
    ]
    for theme in ("light", "dark"):
        for path, ready in pages:
            page.goto(f"{base}{path}")
            page.wait_for_selector(ready)
            page.wait_for_load_state("networkidle")  # HTMX panels loaded
            if page.evaluate("document.documentElement.dataset.theme || 'light'") != theme:
                page.click("[data-theme-toggle]")
                page.wait_for_load_state("networkidle")
            found += [f"[{theme}] {line}" for line in violations(page, axe_source)]
    assert not found, "\n".join(found)
