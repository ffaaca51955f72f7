"""Time on page uses Plausible's engaged time (#13 item 7): a page visit (session, path,
local day) that sent engagement events counts Σ ``e`` (at most 30 minutes); a page view
without any keeps the gap rule (to the session's next event that day)."""

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.services import api_client_create, oauth_token_issue
from sites import site_lookup
from stats import pirsch_selectors
from stats import query as q
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking import ingest
from tracking.protocols import plausible

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@pytest.fixture
def site(db):
    owner = UserFactory()
    site = SiteFactory(hostname="dummy.site", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    site.token = oauth_token_issue(
        client=api_client_create(user=owner, type="oauth", site=site)[0]
    )[0]
    return site


def send(at: datetime, ip: str, name: str, path: str, **extra) -> None:
    """A Plausible event as the tracker posts it, received at ``at`` (the adapter and the
    pipeline as ``/api/event`` runs them; only the clock is set)."""
    body = {"n": name, "u": f"https://dummy.site{path}", "d": "dummy.site", **extra}
    event = plausible.parse_event(body)
    hit = plausible.to_hit(
        event,
        site_lookup.site_by_domain("dummy.site"),
        user_agent=CHROME,
        ip=ip,
        accept_language="en",
    )
    hit.timestamp = at
    [outcome] = ingest.accept([hit])
    assert outcome.event_id


def page_seconds(client, site, day) -> int:
    response = client.get(
        "/api/v1/statistics/duration/page",
        {"id": site.public_id, "from": day.isoformat(), "to": day.isoformat()},
        HTTP_AUTHORIZATION=f"Bearer {site.token}",
    )
    assert response.status_code == 200
    [bucket] = response.json()
    return bucket["average_time_spent_seconds"]


def pages_time(client, site, day) -> dict[str, int]:
    response = client.get(
        "/api/v1/statistics/page",
        {
            "id": site.public_id,
            "from": day.isoformat(),
            "to": day.isoformat(),
            "include_avg_time_on_page": "true",
        },
        HTTP_AUTHORIZATION=f"Bearer {site.token}",
    )
    assert response.status_code == 200
    return {row["path"]: row["average_time_spent_seconds"] for row in response.json()}


def test_engaged_time_is_time_on_page(client, site, drain):
    day = timezone.now().date() - timedelta(days=2)
    start = datetime.combine(day, time(10), tzinfo=UTC)
    # Visitor 1: reads /article for 12 s of engaged time, the report 40 s after the view.
    send(start, "203.0.113.1", "pageview", "/article")
    send(start + timedelta(seconds=40), "203.0.113.1", "engagement", "/article", e=12000)
    # Visitor 2: no engagement reports, so the gap to the next page view (20 s) counts.
    send(start, "203.0.113.2", "pageview", "/pricing")
    send(start + timedelta(seconds=20), "203.0.113.2", "pageview", "/signup")
    # Visitor 3: engaged for over 30 minutes in two reports: capped.
    send(start, "203.0.113.3", "pageview", "/long")
    send(start + timedelta(minutes=20), "203.0.113.3", "engagement", "/long", e=1_200_000)
    send(start + timedelta(minutes=40), "203.0.113.3", "engagement", "/long", e=1_200_000)
    drain()
    expected = {day: (12_000 + 20_000 + 1_800_000, 3)}
    query = q.StatsQuery(site.pk, day, day, "UTC")
    raw = q.page_time_days_from_events(query)
    assert raw == expected
    # The embedded default (SQLite) measures it in Python: the same samples.
    assert {d: (sum(s), len(s)) for d, s in q.time_on_page_python(query).items()} == expected
    assert pages_time(client, site, day) == {
        "/article": 12,
        "/pricing": 20,
        "/long": 1800,
        "/signup": 0,
    }
    assert page_seconds(client, site, day) == round((12 + 20 + 1800) / 3)

    rollup_pending()  # both sources agree: rolled-up days give the same
    assert q._covered(query) == [day]
    assert q._page_time_days(query) == expected
    assert pages_time(client, site, day) == {
        "/article": 12,
        "/pricing": 20,
        "/long": 1800,
        "/signup": 0,
    }
    assert page_seconds(client, site, day) == round((12 + 20 + 1800) / 3)
    # ``manage.py reroll --all`` recomputes the rolled-up days the same way.
    call_command("reroll", "--all", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert q._page_time_days(query) == expected


def test_one_engaged_visit_is_one_sample_whatever_its_page_views(site, drain):
    """Two page views of /a in one visit with engagement: one sample (the visit's Σ e);
    the gap rule stays for /b, which has none, and per path in Pirsch's page details."""
    day = timezone.now().date() - timedelta(days=2)
    start = datetime.combine(day, time(9), tzinfo=UTC)
    send(start, "203.0.113.9", "pageview", "/a")
    send(start + timedelta(seconds=5), "203.0.113.9", "engagement", "/a", e=3000)
    send(start + timedelta(seconds=10), "203.0.113.9", "pageview", "/b")
    send(start + timedelta(seconds=70), "203.0.113.9", "pageview", "/a")
    send(start + timedelta(seconds=90), "203.0.113.9", "engagement", "/a", e=4000)
    drain()
    query = q.StatsQuery(site.pk, day, day, "UTC")
    assert q.page_time_days_from_events(query) == {day: (3000 + 4000 + 60_000, 2)}
    details = pirsch_selectors.page_details(query, ["/a", "/b"], time_on_page=True)
    assert (details["/a"]["seconds"], details["/b"]["seconds"]) == (7, 60)
    rolled_query = dataclasses.replace(query)
    rollup_pending()
    assert q._page_time_days(rolled_query) == {day: (67_000, 2)}
    details = pirsch_selectors.page_details(rolled_query, ["/a", "/b"], time_on_page=True)
    assert (details["/a"]["seconds"], details["/b"]["seconds"]) == (7, 60)
