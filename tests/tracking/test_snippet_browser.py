"""The snippet in real Chromium: a page with the one-tag install sends every signal.

The test pages are served by a tiny HTTP server of the test's own at
``http://example.test:<port>/`` (Chromium maps example.test to 127.0.0.1, so the snippet
does not treat the page as localhost); the snippet and the collection endpoint come from
the running product (``live_server``), so every request is a real cross-origin one. The
events travel through the Redis stream and are written by the real consumer (``drain``).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking import snippet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@pytest.fixture
def pages():
    """Serve HTML registered with ``pages.add(path, html)`` at ``pages.url(path)``."""
    served: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            html = served.get(self.path.split("?", 1)[0], "<!doctype html><title>Bye</title>")
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    yield SimpleNamespace(
        add=served.__setitem__, url=lambda path: f"http://example.test:{port}{path}", port=port
    )
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh_collectors():
    snippet.forget_cached_collectors()
    yield
    snippet.forget_cached_collectors()


@pytest.fixture
def tag(live_server):
    def _tag(site, **attributes) -> str:
        html = snippet.snippet_tag(site, live_server.url)
        extra = "".join(
            f' data-{name.replace("_", "-")}="{value}"' for name, value in attributes.items()
        )
        return html.replace("></script>", f"{extra}></script>")

    return _tag


def wait_for(drain, predicate, timeout: float = 20.0) -> list:
    """Drain until ``predicate(events)`` holds (beacons arrive after the page is left)."""
    deadline = time.monotonic() + timeout
    while True:
        events = drain()
        if predicate(events):
            return events
        if time.monotonic() > deadline:
            seen = [(e.kind, e.name, e.path) for e in events]
            raise AssertionError(f"expected events did not arrive; stored: {seen}")
        time.sleep(0.2)


def named(events, name) -> list:
    return [e for e in events if e.name == name]


CORE_PAGE = """<!doctype html>
<html><head><title>Shop</title>
<script>
window.footfall = window.footfall || function () { (window.footfall.q = window.footfall.q || []).push(arguments) };
footfall('Queued', {props: {early: 'yes'}});
</script>
{tag}
</head><body style="margin:0">
<h1>Shop</h1>
<a id="out" href="https://elsewhere.example/path?x=1">Elsewhere</a>
<a id="pdf" href="/files/report.pdf?v=2">Report</a>
<form id="signup" action="/thanks"><input id="email" name="email"><button id="go">Go</button></form>
<button id="item" onclick="history.pushState({}, '', '/shop/item')">Item</button>
<div style="height:3000px"></div>
<script>
// The test page keeps the browser here: links and the form do not navigate.
document.addEventListener('click', function (e) { if (e.target.closest('a')) e.preventDefault(); });
document.addEventListener('submit', function (e) { e.preventDefault(); });
</script>
</body></html>"""


def test_core_signals_from_a_real_browser(browser_context, pages, tag, drain, live_server):
    site = SiteFactory(hostname="example.test")
    pages.add("/shop", CORE_PAGE.replace("{tag}", tag(site)))
    requests = []
    page = browser_context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(pages.url("/shop"))
    page.wait_for_function("window.footfall && window.footfall._")
    page.evaluate(
        "footfall('Signup', {props: {plan: 'pro', seats: 3}, revenue: {amount: 9.5, currency: 'EUR'}})"
    )
    page.click("#out")
    page.click("#pdf")
    page.click("#go")
    page.mouse.wheel(0, 1500)
    page.wait_for_function("window.scrollY >= 1500")
    depth = page.evaluate(
        "Math.round((scrollY + innerHeight) / document.documentElement.scrollHeight * 100)"
    )
    wait_for(drain, lambda events: len(named(events, "Form: Submission")) == 1)
    page.click("#item")  # an SPA navigation: engagement of /shop, page view of /shop/item
    wait_for(drain, lambda events: len(named(events, "pageview")) == 2)
    page.goto(pages.url("/bye"))  # leaving: the beacon with the engagement of /shop/item
    events = wait_for(drain, lambda events: len(named(events, "reading_behavior")) == 2)

    summary = sorted((e.kind, e.name, e.path) for e in events)
    assert summary == [
        ("custom", "File Download", "/shop"),
        ("custom", "Form: Submission", "/shop"),
        ("custom", "Outbound Link: Click", "/shop"),
        ("custom", "Queued", "/shop"),
        ("custom", "Signup", "/shop"),
        ("engagement", "reading_behavior", "/shop"),
        ("engagement", "reading_behavior", "/shop/item"),
        ("pageview", "pageview", "/shop"),
        ("pageview", "pageview", "/shop/item"),
    ]
    assert {e.protocol for e in events} == {"footfall"}
    assert {e.hostname for e in events} == {"example.test"}
    assert len({e.session_id for e in events}) == 1
    assert named(events, "Queued")[0].props == {"early": "yes"}
    [signup] = named(events, "Signup")
    assert signup.props == {"plan": "pro", "seats": "3"}
    assert (str(signup.revenue_amount), signup.revenue_currency) == ("9.5000", "EUR")
    assert named(events, "Outbound Link: Click")[0].props == {
        "url": "https://elsewhere.example/path?x=1"
    }
    assert named(events, "File Download")[0].props == {
        "url": f"http://example.test:{pages.port}/files/report.pdf"
    }
    assert named(events, "Form: Submission")[0].props == {"form": "form#signup"}
    [first_view] = [e for e in named(events, "pageview") if e.path == "/shop"]
    assert (first_view.title, first_view.screen_width, first_view.browser) == (
        "Shop",
        1280,
        "Chrome",
    )
    shop, item = sorted(named(events, "reading_behavior"), key=lambda e: e.path)
    assert (shop.scroll_depth, shop.props["scroll_depth"]) == (depth, depth)
    assert shop.duration_ms == shop.props["active_ms"] > 0
    assert shop.props["visible_ms"] >= shop.props["active_ms"]
    assert 3000 < shop.props["page_height"] < 3400  # the 3,000 px spacer and what is above it
    assert shop.props["scroll_velocity"] > 0
    assert item.props["scroll_velocity"] == 0
    # No behaviour collectors for this site: the second file is never loaded.
    assert not [url for url in requests if "footfall.behaviour.js" in url]
    assert f"{live_server.url}/js/footfall.js" in requests


BEHAVIOUR_PAGE = """<!doctype html>
<html><head><title>Shop</title>{tag}
<script>
function crash() { setTimeout(function () { throw new Error('boom'); }); }
function reject() { Promise.reject(new Error('nope')); }
function complain() { console.error('bad thing', 42); console.warn('careful'); }
</script>
</head><body>
<h1>Catalogue</h1><h1>Offers</h1>
<img src="{gif}" width="10" height="10">
<div class="hero big" style="height:80px">Hero</div>
<button id="buy">Buy</button>
<span id="vanish">Close</span>
<button id="slow">Slow</button>
<form id="signup"><input id="email"><input id="name"></form>
<script>
document.getElementById('vanish').addEventListener('click', function (e) { e.target.remove(); });
document.getElementById('slow').addEventListener('click', function () {
  var start = performance.now(); while (performance.now() - start < 80) {}
});
</script>
</body></html>"""


def behaviour_site():
    owner = UserFactory()
    site = SiteFactory(hostname="example.test", behaviour_collectors=True)
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site, owner


def open_behaviour_page(browser_context, pages, tag, site):
    pages.add("/behaviour", BEHAVIOUR_PAGE.replace("{tag}", tag(site)).replace("{gif}", GIF))
    page = browser_context.new_page()
    page.goto(pages.url("/behaviour"))
    page.wait_for_function("window.footfall && window.footfall._ && window.footfall._.loaded")
    return page


def rage_click(page, selector: str, clicks: int = 5) -> None:
    box = page.locator(selector).bounding_box()
    for _ in range(clicks):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_behaviour_signals_from_a_real_browser(browser_context, pages, tag, drain, client):
    site, owner = behaviour_site()
    page = open_behaviour_page(browser_context, pages, tag, site)
    page.click("#slow")  # the first input (FID) and a slow interaction (INP)
    rage_click(page, "#buy")
    page.click("div.hero")  # nothing happens: a dead click after 1 s
    page.wait_for_timeout(1300)
    page.click("#vanish")  # the element removes itself: a phantom click
    page.wait_for_timeout(200)
    page.evaluate("crash(); reject(); complain(); complain();")
    page.click("#email")
    page.wait_for_timeout(400)
    page.keyboard.type("ab")
    page.click("#name")
    page.keyboard.type("x")
    page.wait_for_timeout(300)
    page.goto(pages.url("/bye"))
    expected = {
        "pageview",
        "rage_click",
        "dead_click",
        "phantom_click",
        "js_exception",
        "promise_rejection",
        "console_error",
        "console_warning",
        "form_hesitation",
        "form_abandon",
        "web_vitals",
        "seo_diagnostics",
        "reading_behavior",
    }
    events = wait_for(drain, lambda events: expected <= {e.name for e in events})
    source = pages.url("/behaviour")

    assert {e.path for e in events} == {"/behaviour"}
    assert len({e.session_id for e in events}) == 1
    kinds = {e.name: e.kind for e in events}
    assert {name for name, kind in kinds.items() if kind == "error"} == {
        "js_exception",
        "promise_rejection",
        "console_error",
        "console_warning",
    }
    assert {name for name, kind in kinds.items() if kind == "behaviour"} == {
        "rage_click",
        "dead_click",
        "phantom_click",
        "form_hesitation",
        "form_abandon",
        "web_vitals",
        "seo_diagnostics",
    }
    assert [e.props for e in named(events, "rage_click")] == [
        {"selector": "button#buy", "clicks": 5}
    ]
    assert [e.props for e in named(events, "dead_click")] == [{"selector": "div.hero.big"}]
    assert [e.props for e in named(events, "phantom_click")] == [{"selector": "span#vanish"}]

    [exception] = named(events, "js_exception")
    assert exception.props["message"] == "Uncaught Error: boom"
    assert (exception.props["source"], exception.props["line"] > 0) == (source, True)
    [rejection] = named(events, "promise_rejection")
    assert rejection.props["message"] == "nope"
    assert (rejection.props["source"], rejection.props["line"] > 0) == (source, True)
    [console_error] = named(events, "console_error")  # said twice, reported once
    assert (console_error.props["message"], console_error.props["source"]) == (
        "bad thing 42",
        source,
    )
    [warning] = named(events, "console_warning")
    assert warning.props["message"] == "careful"

    hesitations = {e.props["field"]: e.props for e in named(events, "form_hesitation")}
    assert set(hesitations) == {"input#email", "input#name"}
    assert hesitations["input#email"]["form"] == "form#signup"
    assert hesitations["input#email"]["hesitation_ms"] >= 400
    assert [e.props for e in named(events, "form_abandon")] == [
        {"form": "form#signup", "fields_touched": 2, "last_field": "input#name"}
    ]

    [vitals] = named(events, "web_vitals")
    assert {"lcp", "cls", "inp", "fid", "ttfb"} <= set(vitals.props)
    assert vitals.props["inp"] >= 72  # the 80 ms busy click, in 8 ms steps
    assert vitals.props["lcp"] > 0 and vitals.props["ttfb"] >= 0 and vitals.props["cls"] >= 0

    [seo] = named(events, "seo_diagnostics")
    assert seo.props == {
        "issues": [
            "missing_meta_description",
            "multiple_h1",
            "images_without_alt",
            "missing_canonical",
        ],
        "h1_count": 2,
        "images_without_alt": 1,
        "title_length": 4,
        "description_length": 0,
    }
    # Form field values and element texts never leave the page.
    stored = repr([(e.props, e.title) for e in events])
    assert "ab" not in stored.replace("abandon", "") and "Hero" not in stored

    # The same signals, read back through the insights API.
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]

    def insight(name: str) -> dict:
        response = client.get(f"/api/v1/insights/{name}", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 200, response.content
        return response.json()["data"]

    clicks = {e["selector"]: e for e in insight("clicks")["elements"]}
    assert (clicks["button#buy"]["rage_clicks"], clicks["button#buy"]["url"]) == (1, "/behaviour")
    assert clicks["div.hero.big"]["dead_clicks"] == 1
    assert clicks["span#vanish"]["phantom_clicks"] == 1
    errors = {(e["type"], e["message"]): e["count"] for e in insight("errors")["errors"]}
    assert errors == {
        ("js_exception", "Uncaught Error: boom"): 1,
        ("promise_rejection", "nope"): 1,
        ("console_error", "bad thing 42"): 1,
        ("console_warning", "careful"): 1,
    }
    [score] = insight("frustration")["scores"]
    assert (
        score["rage_clicks"],
        score["dead_clicks"],
        score["errors"],
        score["form_abandons"],
    ) == (
        1,
        1,
        3,
        1,
    )
    assert score["score"] > 0
    forms = insight("forms")
    assert [(a["form"], a["last_field"]) for a in forms["abandonments"]] == [
        ("form#signup", "input#name")
    ]
    assert {h["field"] for h in forms["hesitations"]} == {"input#email", "input#name"}
    [seo_page] = insight("seo")["pages"]
    assert (seo_page["url"], seo_page["issue_count"]) == ("/behaviour", 4)
    vitals = insight("web-metrics")["web_vitals"]
    assert vitals["inp"]["samples"] == 1 and vitals["inp"]["p50"] >= 72
    [reading] = insight("reading")["pages"]
    assert reading["url"] == "/behaviour" and reading["reports"] >= 1


def test_collectors_switched_off_load_nothing_and_send_nothing(browser_context, pages, tag, drain):
    site, _ = behaviour_site()
    site.settings = {
        "collectors": {
            "clicks": False,
            "errors": True,
            "forms": False,
            "vitals": False,
            "seo": False,
        }
    }
    site.save()
    page = open_behaviour_page(browser_context, pages, tag, site)
    rage_click(page, "#buy")
    page.evaluate("complain()")
    page.goto(pages.url("/bye"))
    events = wait_for(
        drain, lambda events: {"console_error", "reading_behavior"} <= {e.name for e in events}
    )
    assert sorted({e.name for e in events}) == [
        "console_error",
        "console_warning",
        "pageview",
        "reading_behavior",
    ]


def test_identity_events_api_returns_the_browsers_rage_clicks(
    browser_context, pages, tag, drain, client
):
    site, owner = behaviour_site()
    key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    page = open_behaviour_page(browser_context, pages, tag, site)
    rage_click(page, "#buy", clicks=6)
    page.goto(pages.url("/bye"))
    wait_for(drain, lambda events: named(events, "rage_click"))
    response = client.get(
        "/api/v1/events", {"type": "rage_click"}, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200
    [event] = response.json()["data"]
    assert event["name"] == "rage_click"
    assert event["data"] == {
        "url": "/behaviour",
        "title": "Shop",
        "props": {"selector": "button#buy", "clicks": 6},
    }


def test_localhost_pages_are_ignored_unless_allowed(
    browser_context, pages, tag, drain, live_server
):
    site = SiteFactory(hostname="example.test")
    pages.add("/plain", f"<!doctype html><title>Local</title>{tag(site)}<h1>Local</h1>")
    pages.add(
        "/allowed",
        f"<!doctype html><title>Local</title>{tag(site, allow_localhost='true')}<h1>Local</h1>",
    )
    page = browser_context.new_page()
    page.goto(f"http://localhost:{pages.port}/plain")
    page.wait_for_function("window.footfall && window.footfall._")
    page.goto(f"http://localhost:{pages.port}/allowed")
    events = wait_for(drain, lambda events: named(events, "pageview"))
    assert [(e.hostname, e.path) for e in named(events, "pageview")] == [("localhost", "/allowed")]
    assert not [e for e in events if e.path == "/plain"]


def test_do_not_track_is_respected_when_the_tag_asks(browser_context, pages, tag, drain):
    site = SiteFactory(hostname="example.test")
    pages.add(
        "/private", f"<!doctype html><title>P</title>{tag(site, respect_dnt='true')}<h1>P</h1>"
    )
    pages.add("/counted", f"<!doctype html><title>C</title>{tag(site)}<h1>C</h1>")
    browser_context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    page = browser_context.new_page()
    page.goto(pages.url("/private"))
    page.wait_for_function("window.footfall && window.footfall._")
    page.evaluate("footfall('Signup')")  # the API stays callable, and sends nothing
    page.goto(pages.url("/counted"))
    events = wait_for(drain, lambda events: named(events, "pageview"))
    assert [(e.name, e.path) for e in events if e.kind != "engagement"] == [
        ("pageview", "/counted")
    ]


def test_hash_mode_counts_fragment_routes_as_pages(browser_context, pages, tag, drain):
    site = SiteFactory(hostname="example.test")
    pages.add("/app", f"<!doctype html><title>App</title>{tag(site, hash='true')}<h1>App</h1>")
    page = browser_context.new_page()
    page.goto(pages.url("/app#/inbox"))
    wait_for(drain, lambda events: named(events, "pageview"))
    # Misuse of the API and a second copy of the tag never throw into the page.
    assert (
        page.evaluate(
            """() => { footfall(); footfall(null, 5); footfall('   '); footfall('Odd', {props: 7});
                   const again = document.createElement('script');
                   again.src = document.querySelector('script[data-site]').src;
                   again.dataset.site = 'pk_live_x'; document.head.appendChild(again);
                   return 'still running'; }"""
        )
        == "still running"
    )
    page.evaluate("location.hash = '#/settings'")
    events = wait_for(drain, lambda events: len(named(events, "pageview")) == 2)
    assert [e.path for e in named(events, "pageview")] == ["/app#/inbox", "/app#/settings"]
    assert [(e.name, e.props) for e in events if e.kind == "custom"] == [("Odd", {})]
    [reading] = named(events, "reading_behavior")  # the engagement of the route left
    assert reading.path == "/app#/inbox"


EARLY_ERROR_PAGE = """<!doctype html>
<html><head><title>Early</title>{tag}
<script>
// Throw as soon as the core runs, long before footfall.behaviour.js can have arrived.
var waiting = setInterval(function () {
  if (window.footfall && window.footfall._ && !window.footfall._.loaded) {
    clearInterval(waiting);
    window.thrownBeforeBehaviour = true;
    Promise.reject(new Error('early nope'));
    throw new Error('early boom');
  }
}, 1);
</script>
</head><body><h1>Early</h1></body></html>"""


def test_errors_thrown_before_the_behaviour_file_loads_are_reported(
    browser_context, pages, tag, drain
):
    site, _owner = behaviour_site()
    pages.add("/early", EARLY_ERROR_PAGE.replace("{tag}", tag(site)))
    page = browser_context.new_page()
    page.goto(pages.url("/early"))
    page.wait_for_function("window.footfall && window.footfall._ && window.footfall._.loaded")
    assert page.evaluate("window.thrownBeforeBehaviour === true")
    page.goto(pages.url("/bye"))
    events = wait_for(
        drain, lambda events: {"js_exception", "promise_rejection"} <= {e.name for e in events}
    )
    [exception] = named(events, "js_exception")
    assert exception.props["message"] == "Uncaught Error: early boom"
    assert exception.props["source"] == pages.url("/early")
    [rejection] = named(events, "promise_rejection")
    assert rejection.props["message"] == "early nope"
