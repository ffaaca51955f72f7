"""A funnel in real Chromium: an Owner creates it in the dashboard, one visitor goes through
it on pages carrying the Footfall snippet, another on pages that report like Plausible's
tracker (its `{n, u, d, r}` text/plain POST to `/api/event`), the events travel through the
real stream and consumer, and the funnel page shows each step's visitors."""

from __future__ import annotations

import re

import pytest

from stats.models import Funnel
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.tracking import test_snippet_browser as snippet_browser
from tests.tracking.test_snippet_browser import named, wait_for

# The snippet tests' fixtures: pages served at example.test, and the site's tag.
pages = snippet_browser.pages
tag = snippet_browser.tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SNIPPET_PAGE = """<!doctype html><html><head><title>{title}</title>{tag}</head>
<body><h1>{title}</h1><button id="signup" onclick="footfall('Signup')">Sign up</button></body></html>"""
# What Plausible's tracker sends: a text/plain JSON body with n (name), u (url), d (domain), r.
PLAUSIBLE_PAGE = """<!doctype html><html><head><title>{title}</title><script>
window.plausible = function (name) {{
  return fetch('{base}/api/event', {{method: 'POST', headers: {{'Content-Type': 'text/plain'}},
    body: JSON.stringify({{n: name, u: location.href, d: 'example.test', r: document.referrer || null}})}})
    .then(function (r) {{ document.body.dataset.sent = (document.body.dataset.sent || '') + r.status; }});
}};
plausible('pageview');
</script></head><body><h1>{title}</h1>
<button id="signup" onclick="plausible('Signup')">Sign up</button></body></html>"""


def test_a_funnel_created_in_the_dashboard_counts_real_traffic(
    browser_context,
    chromium,
    live_server,
    pages,
    tag,
    drain,
):
    owner = UserFactory(email="owner@example.test")
    site = SiteFactory(display_name="Example shop", hostname="example.test", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    base = live_server.url
    admin = browser_context.new_page()
    admin.set_default_timeout(20_000)
    admin.goto(f"{base}/accounts/login/?next=/sites/{site.public_id}/funnels")
    admin.fill("input[name=username]", "owner@example.test")
    admin.fill("input[name=password]", "correct-horse-battery")
    admin.click("button[type=submit]")
    admin.wait_for_url(f"**/sites/{site.public_id}/funnels")
    admin.click("text=New funnel")
    admin.fill("#funnel-name", "Checkout")
    admin.fill("#funnel-steps", "page:*/pricing\nevent:Signup\npage:/checkout|/cart")
    admin.select_option("#funnel-window", "1h")
    admin.click("text=Create funnel")
    admin.wait_for_url(re.compile(rf".*/sites/{site.public_id}/funnels/\d+$"))
    funnel = Funnel.objects.get(site=site)
    assert admin.url.endswith(f"/funnels/{funnel.pk}")
    assert (funnel.name, funnel.window_seconds, len(funnel.steps)) == ("Checkout", 3600, 3)

    # Visitor 1, through the snippet: /pricing, Signup, /checkout.
    snippet_tag = tag(site)
    for path, title in (("/pricing", "Pricing"), ("/checkout", "Checkout")):
        pages.add(path, SNIPPET_PAGE.format(title=title, tag=snippet_tag))
    shopper = browser_context.new_page()
    shopper.goto(pages.url("/pricing"))
    shopper.wait_for_function("window.footfall && window.footfall._")
    shopper.click("#signup")
    wait_for(drain, lambda events: len(named(events, "Signup")) == 1)
    shopper.goto(pages.url("/checkout"))
    wait_for(drain, lambda events: len(named(events, "pageview")) == 2)

    # Visitor 2 (another browser), through Plausible's protocol: /pricing, Signup, no checkout.
    pages.add("/plausible/pricing", PLAUSIBLE_PAGE.format(title="Pricing", base=base))
    other = chromium.new_context(user_agent=FIREFOX)
    try:
        reader = other.new_page()
        reader.goto(pages.url("/plausible/pricing"))
        reader.wait_for_function("document.body.dataset.sent === '202'")
        reader.click("#signup")
        reader.wait_for_function("document.body.dataset.sent === '202202'")
    finally:
        other.close()
    events = wait_for(drain, lambda events: len(named(events, "Signup")) == 2)
    assert {e.protocol for e in events} == {"footfall", "plausible"}

    # The funnel page (today, where the events are) shows the steps.
    admin.goto(f"{base}/sites/{site.public_id}/funnels/{funnel.pk}?period=today")
    counts = admin.locator("[data-funnel-chart] [data-visitors]").all_inner_texts()
    assert counts == ["2", "2", "1"]
    assert "Checkout" in admin.locator("h1").inner_text()
