"""Session rows (``SessionDay``): equal to raw events, and every read through them equal to
the raw path under random filters, time zones, late data and sessions spanning midnight.
Attributes vary within sessions (later events lack them or bring others): session rows hold
the session's values (``tests.stats.session_scope_oracle``)."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from stats import query as q
from stats.models import SessionDay
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.stats.session_scope_oracle import scoped
from tests.strategies import ZONES, filter_draws, minutes_within, writes_a_site

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)

EVENTS = st.lists(
    st.tuples(
        minutes_within(6),
        st.integers(min_value=1, max_value=4),  # visitor
        st.integers(min_value=1, max_value=6),  # session (may span days and visitors)
        st.sampled_from(["pageview", "pageview", "custom", "heartbeat", "engagement"]),
        st.booleans(),  # interactive
        st.sampled_from(["/", "/a", "/b"]),
        st.sampled_from([("DE", "DE-BE", "Berlin"), ("GB", "GB-ENG", "London"), ("", "", "")]),
        st.sampled_from(["Chrome", "Firefox", ""]),
        st.sampled_from(["en", "de", ""]),  # varies within sessions, often missing
    ),
    max_size=40,
)
FILTER_VALUES = {
    "country": ["DE", "GB"],
    "city": ["Berlin", "London"],
    "browser": ["Chrome", "Firefox"],
    "language": ["en", "de"],
    "entry_path": ["/", "/a"],
}
FILTERS = filter_draws(FILTER_VALUES)
SETTINGS = writes_a_site(25, shrink=True)


def rows_of(site, events, received_at=None):
    return [
        event_row(
            site.pk,
            START + timedelta(minutes=minute),
            visitor=visitor,
            session=session,
            kind=kind,
            interactive=interactive,
            path=path,
            entry_path=path,
            country_code=geo[0],
            region=geo[1],
            city=geo[2],
            browser=browser,
            language=language,
            received_at=received_at,
        )
        for minute, visitor, session, kind, interactive, path, geo, browser, language in events
    ]


def expected_session_days(rows, tz):
    """SessionDay rows computed in Python from the stored event rows."""
    groups: dict[tuple, list[dict]] = {}
    for row in scoped(rows, tz):
        at = datetime.fromisoformat(row["timestamp"])
        key = (
            at.astimezone(ZoneInfo(tz)).date(),
            row["session_id"],
            row["visitor_id"],
            row["entry_path"],
            row["country_code"],
            row["city"],
            row["browser"],
            row["language"],
        )
        groups.setdefault(key, []).append({**row, "at": at})
    expected = set()
    for key, events in groups.items():
        views = sorted(
            (e for e in events if e["kind"] == "pageview"), key=lambda e: (e["at"], e["id"])
        )
        expected.add(
            (
                *key,
                min(e["at"] for e in events),
                max(e["at"] for e in events),
                len(views),
                sum(1 for e in events if e["kind"] == "custom" and e["interactive"]),
                views[-1]["path"] if views else "",
            )
        )
    return expected


def stored_session_days(site, tz):
    return {
        (
            r.day,
            r.session_id,
            r.visitor_id,
            r.entry_path,
            r.country_code,
            r.city,
            r.browser,
            r.language,
            r.first_at,
            r.last_at,
            r.pageviews,
            r.interactions,
            r.exit_path,
        )
        for r in SessionDay.objects.filter(site=site, tz=tz)
    }


def assert_reads_equal_raw(query):
    """Every read that may use rollups or session rows equals the raw path, day by day."""
    reference = dataclasses.replace(query, raw=True)
    raw_days = q.daily_from_events(reference)
    read_days = q.daily_metrics(query)
    for day in query.days():
        assert read_days.get(day, q.ZERO_METRICS) == raw_days.get(day, q.ZERO_METRICS), day
    for dimension in sorted(q.SESSION_DIMENSIONS):
        raw = q.dimension_days_from_events(reference, dimension)
        read = q._dimension_days(query, dimension)
        for day in query.days():
            assert read.get(day, {}) == raw.get(day, {}), (dimension, day)
    raw_exits = q.exit_days_from_events(reference)
    read_exits = q._dimension_days(query, "exit")
    for day in query.days():
        assert read_exits.get(day, {}) == raw_exits.get(day, {}), ("exit", day)
    raw_page_time = q.page_time_days_from_events(reference)
    read_page_time = q._page_time_days(query)
    for day in query.days():
        assert read_page_time.get(day, (0, 0)) == raw_page_time.get(day, (0, 0)), day
    sessions = q.session_summaries_from_events(reference)
    assert q.session_summaries(query) == sessions
    assert q.session_summaries(query, limit=2, offset=1) == sessions[1:3]


@SETTINGS
@given(events=EVENTS, late=EVENTS, tz=st.sampled_from(ZONES), filters=FILTERS)
def test_oracle_session_rows_equal_raw_events(db, events, late, tz, filters):
    site = SiteFactory(timezone=tz)
    rows = rows_of(site, events)
    store(rows)
    rollup_pending(NOW)
    # Late and back-dated events (Matomo cdt, Pirsch batches) land in already rolled-up days.
    late_rows = rows_of(site, late, received_at=NOW + timedelta(minutes=1))
    store(late_rows)
    rollup_pending(NOW + timedelta(minutes=5))

    assert stored_session_days(site, tz) == expected_session_days(rows + late_rows, tz)
    first, last = date(2026, 2, 28), date(2026, 3, 8)
    query_filters = {
        name: [prefix + FILTER_VALUES[name][index] for prefix, index in values]
        for name, values in filters.items()
    }
    for query in (
        q.StatsQuery(site.pk, first, last, tz),
        q.StatsQuery(site.pk, first, last, tz, query_filters),
        # Another time zone than the site's: nothing is covered, raw events answer.
        q.StatsQuery(site.pk, first, last, "Asia/Tokyo", query_filters),
    ):
        assert_reads_equal_raw(query)


def test_session_spanning_midnight_has_a_row_per_day(db):
    site = SiteFactory(timezone="Europe/Berlin")
    store(
        [
            event_row(site.pk, datetime(2026, 3, 1, 22, 50, tzinfo=UTC), session=1, path="/a"),
            event_row(site.pk, datetime(2026, 3, 1, 23, 10, tzinfo=UTC), session=1, path="/b"),
        ]
    )
    rollup_pending(NOW)
    assert [
        (r.day, r.pageviews, r.exit_path)
        for r in SessionDay.objects.filter(site=site).order_by("day")
    ] == [(date(2026, 3, 1), 1, "/a"), (date(2026, 3, 2), 1, "/b")]
    query = q.StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 2), "Europe/Berlin")
    # One session, counted on both days (like visitors); its list entry spans both.
    assert q.totals(query)["sessions"] == 2
    assert [
        (s["entry_path"], s["exit_path"], s["page_views"]) for s in q.session_summaries(query)
    ] == [("/a", "/b", 2)]


def test_rolling_up_again_replaces_session_rows(db):
    site = SiteFactory(timezone="UTC")
    store([event_row(site.pk, datetime(2026, 3, 1, 10, tzinfo=UTC), session=1)])
    rollup_pending(NOW)
    from stats.rollups import rollup_site_day

    rollup_site_day(site.pk, date(2026, 3, 1), "UTC")
    rollup_site_day(site.pk, date(2026, 3, 1), "UTC")
    assert SessionDay.objects.filter(site=site).count() == 1
