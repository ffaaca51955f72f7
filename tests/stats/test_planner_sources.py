"""The source planner (``stats.query.plan``): the same random events give the same numbers
whichever source answers — the daily tables, session rows, rolled-up events, raw events in
one SQL statement, or raw events through the ORM and Python (the embedded default's
source) — and the planner picks the source each request should use. A claiming source
(the hook imported data uses) answers exactly the days it claims."""

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from stats import query as q
from stats.query import plan as planner
from stats.query.plan import Measure, Source
from stats.query.sources import events_python
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import store
from tests.stats.test_rolled_events import EVENTS, NOW, ZONES, rows_of

FIRST, LAST = date(2026, 2, 28), date(2026, 3, 8)
# Filters and the source that answers their covered days.
REQUESTS = [
    ({}, Source.DAILY),
    ({"country": ["DE"]}, Source.SESSION_ROWS),
    ({"browser": ["!Chrome"], "country": ["~G"]}, Source.SESSION_ROWS),
    ({"path": ["/pricing"]}, Source.EVENTS),
    ({"event": ["Signup"], "country": ["DE"]}, Source.EVENTS),
]
BREAKDOWNS = ("page", "country", "city", "browser", "event", "hour", "exit")


def python_answers(query):
    """The embedded default's source over the raw events of the whole range."""
    raw = dataclasses.replace(query, raw=True)
    source = events_python.SOURCE
    breakdowns = {d: source.dimension_days(raw, d) for d in BREAKDOWNS}
    return source.days(raw), source.visitors(raw), breakdowns, source.page_time_days(raw)


def planned_answers(query):
    breakdowns = {d: q._dimension_days(query, d) for d in BREAKDOWNS}
    return q.daily_metrics(query), q.period_visitors(query), breakdowns, q._page_time_days(query)


def same_days(left: dict, right: dict, days, empty) -> None:
    for day in days:
        assert left.get(day, empty) == right.get(day, empty), day


@hsettings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS, tz=st.sampled_from(ZONES))
def test_every_source_gives_the_same_numbers(db, events, tz):
    site = SiteFactory(timezone=tz)
    store(rows_of(site, events))
    rollup_pending(NOW)
    for filters, covered_source in REQUESTS:
        query = q.StatsQuery(site.pk, FIRST, LAST, tz, filters)
        parts = planner.plan(query, Measure.DAYS)
        # Every day of the range is covered: all of it comes from the expected source.
        assert [(p.source, p.query) for p in parts] == [(covered_source, query)]
        if covered_source is Source.EVENTS:  # per-event filters: the rolled-up events
            assert q.split(query) == (query, None)
        reference = dataclasses.replace(query, raw=True)
        assert [p.source for p in planner.plan(reference, Measure.DAYS)] == [Source.EVENTS]
        days, visitors, breakdowns, page_time = planned_answers(query)
        raw_days, raw_visitors, raw_breakdowns, raw_page_time = planned_answers(reference)
        py_days, py_visitors, py_breakdowns, py_page_time = python_answers(query)
        assert visitors == raw_visitors == py_visitors
        same_days(days, raw_days, query.days(), q.ZERO_METRICS)
        same_days(days, py_days, query.days(), q.ZERO_METRICS)
        for dimension in BREAKDOWNS:
            same_days(breakdowns[dimension], raw_breakdowns[dimension], query.days(), {})
            same_days(breakdowns[dimension], py_breakdowns[dimension], query.days(), {})
        if not filters:  # time on page is rolled up without filters only
            same_days(page_time, raw_page_time, query.days(), (0, 0))
        same_days(page_time, py_page_time, query.days(), (0, 0))
        sessions = q.session_summaries(query)
        assert sessions == q.session_summaries(reference)
        assert sessions == q.session_summaries_from_events(reference)


class OddDays:
    """A claiming source for the test: it answers the odd days of the month, from raw events
    through the ORM (as another store would, with the same definitions)."""

    name = "odd days"

    def claims(self, query, measure, dimension):
        if measure is Measure.SESSIONS:
            return []
        return [day for day in query.days() if day.day % 2]

    def days(self, query):
        return events_python.SOURCE.days(dataclasses.replace(query, raw=True))

    def visitors(self, query):
        return events_python.SOURCE.visitors(dataclasses.replace(query, raw=True))

    def dimension_days(self, query, dimension):
        return events_python.SOURCE.dimension_days(dataclasses.replace(query, raw=True), dimension)

    def page_time_days(self, query):
        return events_python.SOURCE.page_time_days(dataclasses.replace(query, raw=True))


@pytest.fixture
def claimant(monkeypatch):
    odd = OddDays()
    monkeypatch.setattr(planner, "CLAIMANTS", [odd])
    return odd


def test_a_claiming_source_answers_the_days_it_claims(db, claimant):
    site = SiteFactory(timezone="UTC")
    events = [
        (minute, visitor, visitor, "pageview", True, path, "Signup", {}, ("DE", "Berlin"), "", "")
        for minute in range(0, 6 * 24 * 60, 7 * 60)
        for visitor, path in ((1, "/"), (2, "/pricing"))
    ]
    store(rows_of(site, events))
    rollup_pending(NOW)
    query = q.StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 6), "UTC")
    parts = planner.plan(query, Measure.DAYS)
    assert [(p.source, p.query.first_day.day, p.query.last_day.day) for p in parts] == [
        (claimant, 1, 1),
        (Source.DAILY, 2, 2),
        (claimant, 3, 3),
        (Source.DAILY, 4, 4),
        (claimant, 5, 5),
        (Source.DAILY, 6, 6),
    ]
    claimed = (q.daily_metrics(query), q.breakdown(query, "page"), q.period_visitors(query))
    planner.CLAIMANTS.clear()
    assert (q.daily_metrics(query), q.breakdown(query, "page"), q.period_visitors(query)) == claimed
    assert claimed[2] == 2 * 6 and claimed[0][date(2026, 3, 3)]["views"] > 0
    assert max(d for d in claimed[0]) == date(2026, 3, 6)
    assert min(d for d in claimed[0]) == date(2026, 3, 1)
    assert list(claimed[0]) == sorted(claimed[0])  # combined in day order
    assert date(2026, 3, 6) + timedelta(days=1) not in claimed[0]
