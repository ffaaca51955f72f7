"""The dashboard's Behaviour pages: access per role, the numbers, empty states and escaping."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from stats import insights
from stats.behaviour_views import SECTIONS
from stats.selectors import Period
from tests.factories import (
    OrganizationFactory,
    OrganizationMemberFactory,
    SiteFactory,
    SiteMembershipFactory,
    UserFactory,
)
from tests.helpers import event_row, store

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RANGE = {"period": "custom", "from": "2026-01-05", "to": "2026-01-05"}
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created per test; PBKDF2 would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def at(seconds: float) -> datetime:
    return NOON + timedelta(seconds=seconds)


@pytest.fixture
def site(db):
    return SiteFactory(hostname="behaviour.site", behaviour_collectors=True)


@pytest.fixture
def members(site):
    users = {}
    for role in ("owner", "admin", "viewer"):
        users[role] = UserFactory()
        SiteMembershipFactory(site=site, user=users[role], role=role)
    return users


def signal(site, seconds, name, visitor=1, session=1, path="/", **props):
    kind = "error" if name in insights.ERROR_TYPES else "behaviour"
    return event_row(
        site.pk,
        at(seconds),
        visitor=visitor,
        session=session,
        kind=kind,
        name=name,
        path=path,
        props=props,
        protocol="footfall",
    )


def view(site, seconds, visitor=1, session=1, path="/"):
    return event_row(
        site.pk, at(seconds), visitor=visitor, session=session, path=path, protocol="footfall"
    )


@pytest.fixture
def hostile_traffic(site):
    """One of each signal, with a script tag wherever the snippet sends a string."""
    store(
        [
            view(site, 0, path="/"),
            view(site, 1, path=f"/{XSS}"),
            signal(site, 2, "rage_click", selector=XSS, clicks=5),
            signal(site, 3, "dead_click", selector="div.card"),
            signal(site, 4, "js_exception", message=XSS, source=f"https://x/{XSS}.js", line=3),
            signal(site, 5, "form_abandon", form=XSS, fields_touched=2, last_field=XSS),
            signal(site, 6, "form_hesitation", form=XSS, field=XSS, hesitation_ms=1500),
            signal(site, 7, "web_vitals", path=f"/{XSS}", lcp=1800, cls=0.05, inp=120),
            signal(site, 8, "seo_diagnostics", path=f"/{XSS}", issues=["missing_h1"]),
            event_row(
                site.pk,
                at(9),
                kind="engagement",
                name="reading_behavior",
                path=f"/{XSS}",
                duration_ms=4000,
                scroll_depth=60,
                props={"visible_ms": 8000, "active_ms": 4000, "scroll_velocity": 120.0},
            ),
        ]
    )


def page(client, site, section, **params):
    return client.get(f"/sites/{site.public_id}/behaviour/{section}", {**RANGE, **params})


@pytest.mark.parametrize("section", list(SECTIONS))
@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
def test_every_section_renders_for_every_role(
    client, site, members, hostile_traffic, section, role
):
    client.force_login(members[role])
    response = page(client, site, section)
    assert response.status_code == 200
    html = response.content.decode()
    assert SECTIONS[section].title in html
    assert "<script>alert(1)" not in html
    assert SECTIONS[section].empty not in html


def test_a_viewer_through_the_organization_sees_the_pages(client, db):
    organization = OrganizationFactory()
    site = SiteFactory(hostname="org-behaviour.site", organization=organization)
    member = OrganizationMemberFactory(organization=organization, role="viewer").user
    client.force_login(member)
    assert page(client, site, "errors").status_code == 200


@pytest.mark.parametrize("section", list(SECTIONS))
def test_another_organizations_user_gets_404(client, site, members, hostile_traffic, section):
    stranger = UserFactory()
    SiteMembershipFactory(site=SiteFactory(hostname="stranger.site"), user=stranger, role="owner")
    client.force_login(stranger)
    response = page(client, site, section)
    assert response.status_code == 404
    assert XSS not in response.content.decode() and ESCAPED not in response.content.decode()


@pytest.mark.parametrize("section", list(SECTIONS))
def test_anonymous_visitors_are_sent_to_log_in(client, site, section):
    response = page(client, site, section)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_site_or_section_is_404(client, site, members):
    client.force_login(members["owner"])
    assert page(client, site, "nonsense").status_code == 404
    assert client.get("/sites/doesnotexist/behaviour/errors").status_code == 404
    response = client.get(f"/sites/{site.public_id}/behaviour/", RANGE)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/sites/{site.public_id}/behaviour/frustration?")


def test_behaviour_pages_refuse_writes(client, site, members):
    client.force_login(members["owner"])
    response = client.post(f"/sites/{site.public_id}/behaviour/errors")
    assert response.status_code == 405


@pytest.mark.parametrize(
    "section",
    ["frustration", "errors", "clicks", "journeys", "reading", "forms", "vitals", "seo"],
)
def test_user_strings_render_escaped(client, site, members, hostile_traffic, section):
    client.force_login(members["viewer"])
    html = page(client, site, section).content.decode()
    assert "<script>alert(1)" not in html
    if section != "frustration":
        assert ESCAPED in html


def test_pages_show_the_selectors_numbers(client, site, members, hostile_traffic):
    client.force_login(members["viewer"])
    period = Period.of_days(NOON.date(), NOON.date(), "UTC")
    frustration = insights.frustration(site.pk, period)
    score = frustration.scores[0]
    # 1 rage click (15) + 1 dead click (5) + 1 error (10) + 1 form abandon (15) + 1 rapid (5).
    assert (score.visitor_id, score.score) == ("v_0000000000000001", 50)
    html = page(client, site, "frustration").content.decode()
    assert f'<th scope="row" class="mono">{score.visitor_id}</th>' in html
    assert '<td class="num"><strong>50</strong></td>' in html
    html = page(client, site, "vitals").content.decode()
    assert "1800 ms" in html and 'class="badge badge-good">good</span>' in html
    html = page(client, site, "reading").content.decode()
    assert "50.0%" in html  # attention: 4 s active of 8 s visible


def test_the_range_comes_from_the_url(client, site, members, hostile_traffic):
    client.force_login(members["owner"])
    default = client.get(f"/sites/{site.public_id}/behaviour/clicks").content.decode()
    assert SECTIONS["clicks"].empty in default
    assert "div.card" in page(client, site, "clicks").content.decode()
    bare = client.get(
        f"/sites/{site.public_id}/behaviour/clicks", {"from": "2026-01-05", "to": "2026-01-05"}
    )
    assert "div.card" in bare.content.decode()
    broken = page(client, site, "clicks", **{"from": "2026-13-40"}).content.decode()
    assert "Showing the last 30 days" in broken


def test_empty_state_points_admins_to_tracking_settings(client, site, members):
    site.behaviour_collectors = False
    site.save(update_fields=["behaviour_collectors"])
    client.force_login(members["admin"])
    html = page(client, site, "clicks").content.decode()
    assert SECTIONS["clicks"].empty in html
    assert "collector is off for this site" in html
    assert f'href="/sites/{site.public_id}/settings/tracking#collectors-title"' in html
    client.force_login(members["viewer"])
    html = page(client, site, "clicks").content.decode()
    assert f'href="/sites/{site.public_id}/settings/tracking' not in html
    assert "An Owner or Admin can enable it" in html


def reason(html: str) -> str | None:
    """The empty state's reason, or None when the section shows data."""
    found = re.search(r'data-empty-reason="([a-z_]+)"', html)
    return found.group(1) if found else None


@pytest.mark.parametrize("section", [s for s in SECTIONS.values() if s.collector])
def test_a_collector_switched_off_is_the_reason_given(client, site, members, section):
    store([view(site, 0)])
    site.settings = {"collectors": {section.collector: False}}
    site.save(update_fields=["settings"])
    client.force_login(members["owner"])
    html = page(client, site, section.slug).content.decode()
    assert reason(html) == "collector_off"
    assert section.empty in html and section.all_clear not in html
    assert f'href="/sites/{site.public_id}/settings/tracking#collectors-title"' in html


@pytest.mark.parametrize("section", list(SECTIONS.values()), ids=lambda s: s.slug)
def test_a_period_without_page_views_says_so(client, site, members, section):
    store([view(site, -86_400 * 3)])  # traffic, but days before the range shown
    client.force_login(members["owner"])
    html = page(client, site, section.slug).content.decode()
    assert reason(html) == "no_traffic"
    assert "The site has no page views in this period." in html
    assert f'href="/sites/{site.public_id}/settings/install"' in html
    assert section.all_clear not in html


@pytest.mark.parametrize("section", list(SECTIONS.values()), ids=lambda s: s.slug)
def test_traffic_without_signals_is_all_clear(client, site, members, section):
    store([view(site, 0, path="/"), view(site, 0, visitor=2, session=2, path="/pricing")])
    client.force_login(members["owner"])
    html = page(client, site, section.slug).content.decode()
    assert reason(html) == "all_clear"
    assert section.empty in html and section.all_clear in html
    assert "collector is off" not in html


def test_a_frustration_list_of_zeros_becomes_the_all_clear_message(client, site, members):
    store([view(site, 0), view(site, 300, visitor=2, session=2)])
    client.force_login(members["owner"])
    html = page(client, site, "frustration").content.decode()
    assert reason(html) == "all_clear"
    assert "No frustration signals in this period." in html
    assert "Most frustrated visitors" not in html
    store([signal(site, 301, "rage_click", visitor=2, session=2, selector="button", clicks=5)])
    html = page(client, site, "frustration").content.decode()
    assert reason(html) is None
    assert "Most frustrated visitors" in html


@pytest.mark.parametrize("section", list(SECTIONS.values()), ids=lambda s: s.slug)
def test_sections_with_data_show_no_empty_state(client, site, members, hostile_traffic, section):
    client.force_login(members["owner"])
    assert reason(page(client, site, section.slug).content.decode()) is None


def test_long_lists_are_paged(client, site, members):
    store(
        [
            signal(site, i, "dead_click", visitor=i, session=i, selector=f"div.item-{i:02d}")
            for i in range(30)
        ]
    )
    client.force_login(members["owner"])
    first = page(client, site, "clicks").content.decode()
    assert "1–25 of 30" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = page(client, site, "clicks", page=2).content.decode()
    assert "26–30 of 30" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert second.count('<th scope="row" class="mono">div.item-') == 5
    assert page(client, site, "clicks", page="x").status_code == 200


@pytest.mark.browser
def test_behaviour_pages_in_a_real_browser(
    client, live_server, browser_context, site, members, hostile_traffic
):
    """Signed in, the sections switch through their tabs and user strings stay text."""
    client.force_login(members["viewer"])
    base = live_server.url
    browser_context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    dialogs = []
    tab = browser_context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console_errors = []  # e.g. a Content-Security-Policy violation
    tab.on(
        "console",
        lambda m: (
            console_errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    failed = []  # every response but the browser's own favicon request must succeed
    tab.on(
        "response",
        lambda r: (
            failed.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    tab.goto(f"{base}/sites/{site.public_id}/behaviour/frustration?{urlencode(RANGE)}")
    scores = tab.get_by_role("table", name="Most frustrated visitors")
    assert scores.locator("tbody th").all_inner_texts() == ["v_0000000000000001"]
    tab.get_by_role("link", name="Errors", exact=True).click()
    tab.wait_for_url("**/behaviour/errors?**")
    errors = tab.get_by_role("table", name="Errors and warnings, grouped by message")
    assert errors.locator("tbody th").all_inner_texts() == [XSS]
    assert tab.locator("nav.tabs a[aria-current=page]").inner_text() == "Errors"
    tab.get_by_role("link", name="Web vitals").click()
    tab.wait_for_url("**/behaviour/vitals?**")
    assert tab.locator("svg.vitals-strip").count() == 3  # LCP, INP and CLS were measured
    assert dialogs == [] and console_errors == [] and failed == []
