"""Rollups: idempotent, incremental, late data, and the oracle: rollups == raw events."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stats import query as q
from stats.models import DailySiteStats, RollupState
from stats.rollups import rollup_pending
from stats.tasks import rollup_pending as rollup_task
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.strategies import ZONES, minutes_within, writes_a_site

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def site(db):
    return SiteFactory(timezone="America/New_York")


def test_rollup_matches_raw_and_is_idempotent(site):
    store(
        [
            event_row(
                site.pk, datetime(2026, 3, 10, 3, 30, tzinfo=UTC), visitor=1, session=1
            ),  # 9 March in New York
            event_row(
                site.pk, datetime(2026, 3, 10, 3, 40, tzinfo=UTC), visitor=1, session=1, path="/b"
            ),
            event_row(site.pk, datetime(2026, 3, 10, 15, 0, tzinfo=UTC), visitor=2, session=2),
            event_row(
                site.pk,
                datetime(2026, 3, 10, 15, 5, tzinfo=UTC),
                visitor=2,
                session=2,
                kind="heartbeat",
            ),
        ]
    )
    assert rollup_pending(NOW) == 2
    rows = {
        r.day: (r.visitors, r.views, r.sessions, r.bounces, r.duration_ms)
        for r in DailySiteStats.objects.all()
    }
    assert rows == {
        date(2026, 3, 9): (1, 2, 1, 0, 600_000),
        date(2026, 3, 10): (1, 1, 1, 1, 300_000),
    }
    assert rollup_pending(NOW) == 0  # nothing new
    DailySiteStats.objects.update(visitors=99)
    from stats.rollups import rollup_site_day

    rollup_site_day(site.pk, date(2026, 3, 9), site.timezone)
    assert DailySiteStats.objects.get(day=date(2026, 3, 9)).visitors == 1


def test_late_and_back_dated_data_recomputes_its_day(site):
    store([event_row(site.pk, datetime(2026, 3, 5, 12, tzinfo=UTC), visitor=1, session=1)])
    rollup_pending(NOW)
    query = q.StatsQuery(site.pk, date(2026, 3, 5), date(2026, 3, 5), site.timezone)
    assert q.totals(query)["visitors"] == 1
    # A Matomo cdt / Pirsch batch event for that day arrives later.
    store(
        [
            event_row(
                site.pk,
                datetime(2026, 3, 5, 13, tzinfo=UTC),
                visitor=7,
                session=7,
                received_at=NOW + timedelta(minutes=1),
            )
        ]
    )
    assert rollup_pending(NOW + timedelta(minutes=5)) == 1
    assert q.totals(query)["visitors"] == 2


def test_today_is_never_rolled_up_but_is_answered_live(site):
    today = NOW.astimezone(q.ZoneInfo(site.timezone)).date()
    store([event_row(site.pk, NOW - timedelta(minutes=5), visitor=3, session=3)])
    rollup_pending(NOW)
    assert not DailySiteStats.objects.filter(day=today).exists()


def test_beat_task_rolls_up(site):
    store([event_row(site.pk, datetime(2026, 1, 5, 12, tzinfo=UTC))])
    assert rollup_task() == 1  # what beat schedules, run in-process
    assert DailySiteStats.objects.get(site=site).day == date(2026, 1, 5)
    assert RollupState.objects.get(site=site).received_until is not None


EVENTS = st.lists(
    st.tuples(
        minutes_within(6),
        st.integers(min_value=1, max_value=6),  # visitor
        st.integers(min_value=1, max_value=8),  # session
        st.sampled_from(["pageview", "pageview", "custom", "heartbeat"]),
        st.booleans(),  # interactive
        st.sampled_from(["/", "/a", "/b"]),
        st.sampled_from([("DE", "DE-BE", "Berlin"), ("GB", "GB-ENG", "London"), ("", "", "")]),
        st.sampled_from(["Chrome", "Firefox", ""]),
        # Later hits of a session often lack what its first had (or bring something else).
        st.sampled_from(["en", "de", ""]),
        st.sampled_from(["XL", "S", ""]),
        st.sampled_from([("Organic Search", "Google"), ("Direct", ""), ("", "")]),
    ),
    max_size=40,
)


@writes_a_site(25, shrink=True)
@given(events=EVENTS, tz=st.sampled_from(ZONES))
def test_oracle_rollups_equal_raw_events(db, events, tz):
    site = SiteFactory(timezone=tz)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store(
        [
            event_row(
                site.pk,
                start + timedelta(minutes=minute),
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
                screen_class=screen,
                channel=acquisition[0],
                source=acquisition[1],
            )
            for (
                minute,
                visitor,
                session,
                kind,
                interactive,
                path,
                geo,
                browser,
                language,
                screen,
                acquisition,
            ) in events
        ]
    )
    rollup_pending(NOW)
    query = q.StatsQuery(site.pk, date(2026, 2, 28), date(2026, 3, 8), tz)
    reference = dataclasses.replace(query, raw=True)
    raw = q.daily_from_events(reference)
    assert raw == q.daily_from_events_orm(reference)  # the SQL and the ORM/Python raw paths agree
    rolled = q.daily_metrics(query)
    zero = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}
    for day in query.days():
        assert rolled.get(day, zero) == raw.get(day, zero), day
    # Every breakdown agrees with the raw path, and so does every breakdown under an event
    # filter that excludes nothing (read from rolled-up events for covered days).
    event_filtered = dataclasses.replace(query, filters={"title": ["!no-such-title"]})
    for dimension in q.DIMENSIONS:
        assert q.breakdown(query, dimension) == q.breakdown(reference, dimension), dimension
        assert q.breakdown(event_filtered, dimension) == q.breakdown(reference, dimension)
    # Multi-day totals agree too (sums of the same daily definitions).
    assert q.totals(query) == {
        "visitors": sum(m["visitors"] for m in raw.values()),
        "views": sum(m["views"] for m in raw.values()),
        "sessions": sum(m["sessions"] for m in raw.values()),
        "bounces": sum(m["bounces"] for m in raw.values()),
        "bounce_rate": q.totals(query)["bounce_rate"],
        "cr": 0,
        "custom_metric_avg": 0,
        "custom_metric_total": 0,
    }
