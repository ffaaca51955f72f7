"""Closed sequential funnels are evaluated in PostgreSQL (``stats.funnels.chains``); every
other mode, and the embedded SQLite, by ``engine.evaluate`` in Python, which the oracle
(tests/stats/test_funnels_oracle.py) checks against a plain reference. Here the SQL path's
whole report (counts, times, revenue, breakdown, comparison, dropped sessions, Pirsch's
shape) must equal the Python path's, on traffic drawn so that the window often cuts the
chain of a unit's first entry (the case the SQL path hands back to the engine)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stats import query as q
from stats.funnels import selectors as fs
from stats.models import Funnel
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.strategies import writes_a_site

START = datetime(2026, 3, 1, tzinfo=UTC)
NOW = START + timedelta(days=2, hours=6)  # rolls up Mar 1 and 2; Mar 3 stays raw

STEPS = [
    {"alternatives": [{"type": "page", "path": "/"}]},
    {"alternatives": [{"type": "page", "path": "/pricing"}, {"type": "page", "path": "/blog/*"}]},
    {"alternatives": [{"type": "event", "name": "Signup"}]},
    {"alternatives": [{"type": "event", "name": "Buy"}, {"type": "page", "path": "/cart"}]},
]
EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 24 * 60 - 1),  # minute within three days
        st.integers(min_value=1, max_value=3),  # visitor
        st.integers(min_value=0, max_value=1),  # the visitor's session
        st.sampled_from(["/", "/", "/pricing", "/blog/a", "/cart", "Signup", "Buy", "Buy"]),
        st.sampled_from([None, "12.50", "3.00"]),  # revenue of a custom event (EUR)
        st.sampled_from(["EUR", "EUR", "USD"]),  # USD is not the site's reporting currency
    ),
    max_size=30,
)


def _store(site, events) -> None:
    rows = []
    for minute, visitor, session, what, revenue, currency in events:
        fields = {"path": what} if what.startswith("/") else {"kind": "custom", "name": what}
        if revenue and not what.startswith("/"):
            fields |= {
                "revenue_reporting": Decimal(revenue),
                "revenue_reporting_currency": currency,
            }
        at = START + timedelta(minutes=minute)
        rows.append(
            event_row(
                site.pk,
                at,
                visitor=visitor,
                session=visitor * 10 + session,
                country_code="DE" if (visitor + session) % 2 else "GB",
                received_at=at,
                **fields,
            )
        )
    store(rows)


def _answers(funnel, query) -> dict:
    return {
        "report": fs.funnel_report(funnel, query, breakdown="country", compare=True),
        "pirsch": fs.funnel_pirsch(funnel, query),
        "dropped": [fs.dropped_sessions(funnel, query, step, limit=2) for step in (2, 3, 4)],
    }


@writes_a_site(40)
@given(
    events=EVENTS,
    scope=st.sampled_from(["visitor", "session"]),
    window=st.sampled_from([60, 20 * 60, 3600, 86_400]),
    filtered=st.booleans(),
    raw=st.booleans(),
)
def test_sql_path_answers_as_the_engine(db, monkeypatch, events, scope, window, filtered, raw):
    site = SiteFactory(timezone="UTC")
    _store(site, events)
    rollup_pending(NOW)
    funnel = Funnel.objects.create(
        site=site, name="F", steps=STEPS, scope=scope, window_seconds=window
    )
    filters = {"country": ["DE"]} if filtered else {}
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 3), "UTC", filters, raw=raw)

    in_sql = _answers(funnel, query)
    with monkeypatch.context() as patched:
        patched.setattr(fs, "_in_sql", lambda definition: False)
        in_python = _answers(funnel, query)
    assert in_sql == in_python


def test_a_cut_first_entry_is_evaluated_from_the_later_one(db):
    """The first entry's chain reaches step 2 and is then cut by the 1-hour window; the
    entry five hours later completes the funnel, so that journey counts (with its times)."""
    site = SiteFactory(timezone="UTC")
    day = START + timedelta(days=1)
    store(
        [
            event_row(site.pk, day, path="/"),
            event_row(site.pk, day + timedelta(minutes=30), path="/pricing"),
            event_row(site.pk, day + timedelta(hours=5), path="/"),
            event_row(site.pk, day + timedelta(hours=5, minutes=10), path="/blog/x"),
            event_row(site.pk, day + timedelta(hours=5, minutes=20), kind="custom", name="Signup"),
            event_row(site.pk, day + timedelta(hours=5, minutes=50), kind="custom", name="Buy"),
        ]
    )
    funnel = Funnel.objects.create(site=site, name="F", steps=STEPS, window_seconds=3600)
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", {})
    tally, units = fs.tally(query, fs.definition_of(funnel))
    assert units is None  # the SQL path
    assert [c["visitors"] for c in tally.counts] == [1, 1, 1, 1]
    assert [c["times_ms"] for c in tally.counts[1:]] == [[600_000], [600_000], [1_800_000]]
    assert len(tally.cut) == 1


@pytest.mark.parametrize("window", [3600, 4 * 3600])
def test_the_window_stops_a_chain(db, window):
    """``/`` then ``/pricing`` 30 minutes later, then Signup two hours after the entry: the
    1-hour window stops the journey at step 2 (dropped at step 3), a 4-hour one does not."""
    site = SiteFactory(timezone="UTC")
    day = START + timedelta(days=1)
    store(
        [
            event_row(site.pk, day, path="/"),
            event_row(site.pk, day + timedelta(minutes=30), path="/pricing"),
            event_row(site.pk, day + timedelta(hours=2), kind="custom", name="Signup"),
        ]
    )
    funnel = Funnel.objects.create(site=site, name="F", steps=STEPS, window_seconds=window)
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", {})
    counts = fs.tally(query, fs.definition_of(funnel))[0].counts
    short = window == 3600
    assert [c["visitors"] for c in counts] == ([1, 1, 0, 0] if short else [1, 1, 1, 0])
    assert [c["dropped"] for c in counts] == ([0, 0, 1, 0] if short else [0, 0, 0, 1])
    dropped = fs.dropped_sessions(funnel, query, 3 if short else 4)
    assert dropped["total"] == 1
    assert dropped["sessions"][0]["entered_at"] == day
