"""The sites list, adding a site and its install page."""

import html
import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from sites.models import Site, SiteDomain, SiteMembership
from stats.query import StatsQuery, totals, visitor_series
from stats.rollups import rollup_site
from stats.selectors import visitors_today_by_site
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


def member_site(user, role=Role.OWNER, **fields) -> Site:
    site = SiteFactory(**fields)
    SiteMembershipFactory(site=site, user=user, role=role)
    return site


def local_today(site: Site):
    return timezone.now().astimezone(ZoneInfo(site.timezone)).date()


def store_visits(site: Site, day, visitors: int) -> None:
    """``visitors`` distinct visitors with one page view each on the site's local ``day``."""
    zone = ZoneInfo(site.timezone)
    at = datetime.combine(day, time(0, 30), tzinfo=zone)
    if day == local_today(site):
        at = max(at, timezone.now() - timedelta(seconds=1))
    store(
        [
            event_row(site.pk, at, visitor=1000 + n, session=5000 + n, hostname=site.hostname)
            for n in range(visitors)
        ]
    )


def row_of(content: str, site: Site) -> str:
    match = re.search(rf'<tr data-site="{site.public_id}">(.*?)</tr>', content, re.S)
    assert match, f"no row for {site.public_id}"
    return match.group(1)


# --- Sites list ----------------------------------------------------------------------


def test_sites_list_needs_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sites_list_shows_todays_visitors_a_trend_and_a_dashboard_link(client, owner):
    site = member_site(owner, display_name="Blog <b>", timezone="Europe/Berlin")
    today = local_today(site)
    store_visits(site, today, 3)
    store_visits(site, today - timedelta(days=1), 2)
    store_visits(site, today - timedelta(days=29), 4)
    store_visits(site, today - timedelta(days=30), 7)  # outside the 30 days
    rollup_site(site)
    client.force_login(owner)

    content = client.get("/").content.decode()

    row = row_of(content, site)
    assert f'href="/sites/{site.public_id}/"' in row
    assert "Blog &lt;b&gt;" in row and "Blog <b>" not in row
    assert re.search(r"data-visitors-today>3<", row)
    assert "Visitors over the last 30 days: 9 in all, at most 4 a day" in row
    points = re.search(r'<polyline points="([^"]+)"', row).group(1).split()
    assert len(points) == 30
    # Oldest day first (4 visitors = the peak, top of the box), today last.
    heights = [float(p.split(",")[1]) for p in points]
    assert heights[0] == min(heights) == 2.0
    assert heights[-1] < heights[-2] < heights[1]


def test_sites_list_numbers_agree_with_the_statistics_query_layer(owner):
    sites = [
        member_site(owner, timezone=tz) for tz in ("UTC", "Pacific/Kiritimati", "America/Adak")
    ]
    for n, site in enumerate(sites):
        store_visits(site, local_today(site), n + 1)
        store_visits(site, local_today(site) - timedelta(days=1), 5)
    counts = visitors_today_by_site(sites)
    for site in sites:
        today = local_today(site)
        assert (
            counts[site.pk] == totals(StatsQuery(site.pk, today, today, site.timezone))["visitors"]
        )
        assert (
            visitor_series(StatsQuery(site.pk, today, today, site.timezone))[0]["visitors"]
            == (counts[site.pk])
        )
    assert [counts[s.pk] for s in sites] == [1, 2, 3]


def test_sites_list_reads_todays_counts_in_one_query_for_all_sites(client, owner):
    client.force_login(owner)
    first = member_site(owner)
    rollup_site(first)
    with CaptureQueriesContext(connection) as one_site:
        assert client.get("/").status_code == 200
    for _ in range(4):
        rollup_site(member_site(owner))
    with CaptureQueriesContext(connection) as five_sites:
        assert client.get("/").status_code == 200
    today_queries = [
        q["sql"] for q in five_sites.captured_queries if "COUNT(DISTINCT" in q["sql"].upper()
    ]
    assert len(today_queries) == 1
    # Past days come from rollups: a few small indexed reads per additional site, no raw scan.
    assert len(five_sites.captured_queries) - len(one_site.captured_queries) <= 4 * 3
    assert len([q for q in five_sites.captured_queries if "tracking_event" in q["sql"]]) == 1


def test_sites_list_shows_only_the_users_sites(client, owner):
    mine = member_site(owner, role=Role.VIEWER)
    other = member_site(UserFactory())
    client.force_login(owner)
    content = client.get("/").content.decode()
    assert mine.public_id in content
    assert other.public_id not in content and other.hostname not in content


def test_sites_list_without_sites_offers_to_add_one(client, owner):
    client.force_login(owner)
    content = client.get("/").content.decode()
    assert "No sites yet." in content and 'href="/sites/new"' in content


# --- Adding a site -------------------------------------------------------------------


def test_add_site_creates_it_with_the_user_as_owner_and_opens_the_install_page(client, owner):
    client.force_login(owner)
    assert client.get("/sites/new").status_code == 200
    response = client.post(
        "/sites/new",
        {
            "display_name": "My blog",
            "hostname": "https://www.Blog.Example.com/",
            "timezone": "Asia/Tokyo",
        },
    )
    site = Site.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/settings/install"
    assert (site.display_name, site.hostname, site.timezone) == (
        "My blog",
        "blog.example.com",
        "Asia/Tokyo",
    )
    assert SiteMembership.objects.get(site=site).user == owner
    assert SiteMembership.objects.get(site=site).role == Role.OWNER
    assert list(SiteDomain.objects.values_list("domain", flat=True)) == ["blog.example.com"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"display_name": "x", "hostname": "not a host!", "timezone": "UTC"},
            "is not a valid hostname",
        ),
        (
            {"display_name": "x", "hostname": "ok.example", "timezone": "Mars/Base"},
            "Select a valid choice",
        ),
        ({"display_name": "x", "hostname": "", "timezone": "UTC"}, "This field is required"),
        (
            {
                "display_name": "Evil\r\nBcc: x@example.com",
                "hostname": "ok.example",
                "timezone": "UTC",
            },
            "The name cannot contain line breaks or control characters.",
        ),
    ],
)
def test_add_site_refuses_bad_input_and_writes_nothing(client, owner, data, message):
    SiteFactory(hostname="taken.example")
    client.force_login(owner)
    response = client.post("/sites/new", data)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert Site.objects.count() == 1
    assert not SiteMembership.objects.exists()


def test_add_site_needs_a_login_and_csrf(db):
    from django.test import Client

    anonymous = Client()
    assert anonymous.post("/sites/new", {"hostname": "a.example"}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory())
    assert (
        strict.post(
            "/sites/new", {"display_name": "a", "hostname": "a.example", "timezone": "UTC"}
        ).status_code
        == 403
    )
    assert not Site.objects.exists()


# --- Install page --------------------------------------------------------------------


def test_install_page_shows_the_escaped_tag_and_every_identifier(client, owner):
    site = member_site(owner, hostname="blog.example.com")
    client.force_login(owner)
    response = client.get(f"/sites/{site.public_id}/settings/install")
    content = response.content.decode()
    assert response.status_code == 200
    tag = f'<script defer src="http://testserver/js/footfall.js" data-site="{site.public_key}"></script>'
    # Shown as text to copy (escaped), never as a live script tag of the page.
    assert html.escape(tag, quote=True) in content or html.escape(tag, quote=False) in content
    assert tag not in content
    assert 'data-copy="#snippet-tag"' in content
    assert 'id="id-domain">blog.example.com<' in content
    assert f'id="id-idsite">{site.pk}<' in content
    assert f'id="id-pid">{site.public_id}<' in content
    assert f'id="id-pirsch">{site.public_id}<' in content
    for endpoint in ("/api/event", "/matomo.php", "/log", "/api/v1/hit"):
        assert f"http://testserver{endpoint}" in content
    assert f'href="/sites/{site.public_id}/settings/clients"' in content
    assert 'data-state="waiting"' in content
    assert 'hx-trigger="every 3s"' in content


def test_install_status_turns_green_after_a_real_hit_is_written(client, owner, drain):
    site = member_site(owner, hostname="dummy.site")
    client.force_login(owner)
    status_url = f"/sites/{site.public_id}/settings/install/status"
    waiting = client.get(status_url).content.decode()
    assert 'data-state="waiting"' in waiting and 'hx-trigger="every 3s"' in waiting

    hit = client.post(
        "/api/event",
        data=json.dumps({"name": "pageview", "url": "https://dummy.site/", "domain": "dummy.site"}),
        content_type="application/json",
        HTTP_USER_AGENT=CHROME,
        HTTP_X_FORWARDED_FOR="127.0.0.1",
    )
    assert hit.status_code == 202
    still_waiting = client.get(status_url).content.decode()
    drain()

    received = client.get(status_url).content.decode()
    site.refresh_from_db()
    assert site.first_event_at is not None
    assert 'data-state="received"' in received
    assert "hx-trigger" not in received  # polling stops
    assert f'href="/sites/{site.public_id}/"' in received
    if settings.REDIS_URL:
        assert 'data-state="waiting"' in still_waiting  # written by the consumer, not the request


def test_install_page_is_for_owners_and_admins(client, owner):
    site = member_site(owner)
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role=Role.VIEWER)
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role=Role.ADMIN)
    for user, status in ((admin, 200), (viewer, 403), (UserFactory(), 404)):
        client.force_login(user)
        assert client.get(f"/sites/{site.public_id}/settings/install").status_code == status
        assert client.get(f"/sites/{site.public_id}/settings/install/status").status_code == status
