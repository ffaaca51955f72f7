"""Session scope on the reads that issue #13 item 1 left out: the Pirsch platform shares,
the dashboard's exit panel and the live overview. Shares are of the period's visitors;
live counts take each session's value, not each recent event's own."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from stats import query as q
from stats.api.pirsch import platform_shares
from stats.dashboard import PANELS, panel_rows
from stats.selectors import live_overview
from tests.factories import SiteFactory
from tests.helpers import event_row, store

DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _two_visitors_three_sessions(site_id: int) -> None:
    """Visitor 1 comes twice on one day (desktop, leaving on /a; mobile, leaving on /b),
    visitor 2 once (desktop, leaving on /a): two visitors in the period."""
    store(
        [
            event_row(site_id, DAY, visitor=1, session=1, device_type="desktop", path="/a"),
            event_row(
                site_id,
                DAY + timedelta(hours=2),
                visitor=1,
                session=2,
                device_type="mobile",
                path="/b",
            ),
            event_row(site_id, DAY, visitor=2, session=3, device_type="desktop", path="/a"),
        ]
    )


def test_platform_shares_are_of_the_period_visitors(db):
    site = SiteFactory(timezone="UTC")
    _two_visitors_three_sessions(site.pk)
    query = q.StatsQuery(site.pk, DAY.date(), DAY.date(), "UTC")
    assert q.period_visitors(query) == 2
    assert platform_shares(query) == {
        "platform_desktop": 2,
        "platform_mobile": 1,
        "platform_unknown": 0,
        "relative_platform_desktop": 1.0,
        "relative_platform_mobile": 0.5,
        "relative_platform_unknown": 0.0,
    }


def test_dashboard_exit_shares_are_of_the_period_visitors(db):
    site = SiteFactory(timezone="UTC")
    _two_visitors_three_sessions(site.pk)
    query = q.StatsQuery(site.pk, DAY.date(), DAY.date(), "UTC")
    rows = panel_rows(PANELS["exit"], query)
    assert [(r["value"], r["visitors"], r["share"]) for r in rows] == [
        ("/a", 2, 1.0),
        ("/b", 1, 0.5),
    ]


def _noon(monkeypatch) -> datetime:
    """A fixed "now" far from midnight: the session's value is read per local day."""
    now = DAY.replace(hour=12)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_live_overview_counts_each_session_under_its_values(db, monkeypatch):
    site = SiteFactory(timezone="UTC")
    now = _noon(monkeypatch)
    google = {"channel": "Organic Search", "source": "Google", "referrer": "google.com"}
    store(
        [
            # Stored before the session had a place or a source: the session's later event
            # fills them in, so the visitor counts once, under DE and Google.
            event_row(site.pk, now - timedelta(seconds=120), visitor=1, session=1),
            event_row(
                site.pk,
                now - timedelta(seconds=60),
                visitor=1,
                session=1,
                country_code="DE",
                **google,
            ),
            # Another site's visitor never shows.
            event_row(SiteFactory().pk, now - timedelta(seconds=60), visitor=2, session=2),
        ]
    )
    overview = live_overview(site.pk, 300)
    assert overview["visitors"] == 1
    assert overview["countries"] == [{"country_code": "DE", "visitors": 1}]
    assert overview["sources"] == [{"source": "Google", "visitors": 1}]


def test_live_overview_takes_the_session_value_from_before_the_window(db, monkeypatch):
    site = SiteFactory(timezone="UTC")
    now = _noon(monkeypatch)
    store(
        [
            # The session's first event, outside the last 60 seconds, fixes its country.
            event_row(site.pk, now - timedelta(seconds=600), session=1, country_code="FR"),
            event_row(site.pk, now - timedelta(seconds=30), session=1, kind="heartbeat"),
        ]
    )
    overview = live_overview(site.pk, 60)
    assert overview["countries"] == [{"country_code": "FR", "visitors": 1}]
    assert overview["sources"] == [{"source": "", "visitors": 1}]


# --- identity-js lists: the raw part filters and groups on the sessions' values -------------


def _session_with_two_places(site_id: int) -> None:
    """One session stored before session scope: its first event in France, its second in
    Britain (a stored row keeps its own value), in Chrome then Firefox. The session is in
    France, in Chrome (its first event's), though the largest values are GB and Firefox."""
    store(
        [
            event_row(site_id, DAY, visitor=7, session=70, country_code="FR", browser="Chrome"),
            event_row(
                site_id,
                DAY + timedelta(minutes=5),
                visitor=7,
                session=70,
                country_code="GB",
                browser="Firefox",
                path="/next",
            ),
        ]
    )


def test_visitor_list_filters_and_groups_on_the_sessions_values(db):
    from stats.selectors import Period, visitor_list

    site = SiteFactory(timezone="UTC")
    _session_with_two_places(site.pk)
    period = Period.of_days(DAY.date(), DAY.date(), "UTC")
    assert visitor_list(site.pk, period, country="GB").count() == 0
    listing = visitor_list(site.pk, period, country="FR")
    assert listing.count() == 1
    (row,) = listing[0:10]
    assert (row["visitor_id"], row["country"], row["browser_name"]) == (7, "FR", "Chrome")
    assert (row["first_seen"], row["last_seen"]) == (DAY, DAY + timedelta(minutes=5))
    assert [r["visitor_id"] for r in visitor_list(site.pk, period, browser="firefox")[0:10]] == []
    assert [r["visitor_id"] for r in visitor_list(site.pk, period, search="chrome")[0:10]] == [7]


def test_session_list_shows_the_sessions_values(db):
    from stats.selectors import Period, session_list

    site = SiteFactory(timezone="UTC")
    _session_with_two_places(site.pk)
    period = Period.of_days(DAY.date(), DAY.date(), "UTC")
    (row,) = session_list(site.pk, period)[0:10]
    assert (row["session_id"], row["country"], row["browser_name"]) == (70, "FR", "Chrome")
    assert (row["started"], row["ended"]) == (DAY, DAY + timedelta(minutes=5))


def test_visitor_rows_of_the_embedded_default_filter_on_the_sessions_values(db):
    from stats.selectors import Period, visitor_rows

    site = SiteFactory(timezone="UTC")
    _session_with_two_places(site.pk)
    period = Period.of_days(DAY.date(), DAY.date(), "UTC")
    assert list(visitor_rows(site.pk, period, country="GB")) == []
    (row,) = visitor_rows(site.pk, period, country="FR")
    assert (row["visitor_id"], row["first_seen"], row["last_seen"], row["visits"]) == (
        7,
        DAY,
        DAY + timedelta(minutes=5),
        1,
    )
