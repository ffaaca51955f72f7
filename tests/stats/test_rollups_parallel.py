"""Rollups on two connections at once (``stats.rollups._run_batches``): committed data, so
the batches run in parallel, each day its own batch, two sites; every total and breakdown
must still equal the raw path's, and the watermarks move."""

import dataclasses
import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from stats import query as q
from stats import rollups
from stats.models import DailySiteStats, RollupState
from tests.factories import SiteFactory
from tests.helpers import event_row, store

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)


def traffic(site_id: int, seed: int) -> list[dict]:
    """Sessions over six days (some across midnight), attributes changing within sessions."""
    rng = random.Random(seed)
    rows = []
    for session in range(1, 60):
        at = START + timedelta(minutes=rng.randrange(6 * 24 * 60))
        for _ in range(rng.randint(1, 5)):
            rows.append(
                event_row(
                    site_id,
                    at,
                    visitor=session % 17,
                    session=session,
                    kind=rng.choice(["pageview", "pageview", "custom", "engagement"]),
                    path=rng.choice(["/", "/a", "/b"]),
                    country_code=rng.choice(["DE", "GB", ""]),
                    browser=rng.choice(["Chrome", "Firefox", ""]),
                    language=rng.choice(["en", "de", ""]),
                    channel=rng.choice(["Direct", "Organic Search", ""]),
                    duration_ms=rng.choice([None, 4000]),
                )
            )
            at += timedelta(minutes=rng.randint(1, 90))
    return rows


def test_parallel_batches_equal_raw_events(monkeypatch):
    monkeypatch.setattr(rollups, "BATCH_DAYS", 1)  # every day a batch of its own
    threads = set()
    roll = rollups.rollup_site_days

    def recording(*args):
        threads.add(threading.current_thread().name)
        roll(*args)

    monkeypatch.setattr(rollups, "rollup_site_days", recording)
    sites = [SiteFactory(timezone="Europe/Berlin"), SiteFactory(timezone="America/New_York")]
    for n, site in enumerate(sites):
        store(traffic(site.pk, n))
    site_days = rollups.rollup_pending(NOW, workers=2)
    assert threads == {"rollups-0", "rollups-1"}  # both connections took batches
    assert site_days == DailySiteStats.objects.count() >= 12
    for site in sites:
        query = q.StatsQuery(site.pk, date(2026, 2, 28), date(2026, 3, 8), site.timezone)
        reference = dataclasses.replace(query, raw=True)
        rolled, raw = q.daily_metrics(query), q.daily_from_events(reference)
        zero = {"visitors": 0, "views": 0, "sessions": 0, "bounces": 0, "duration_ms": 0}
        for day in query.days():
            assert rolled.get(day, zero) == raw.get(day, zero), day
        for dimension in q.DIMENSIONS:
            assert q.breakdown(query, dimension) == q.breakdown(reference, dimension), dimension
        assert RollupState.objects.get(site=site).received_until is not None
    assert rollups.rollup_pending(NOW, workers=2) == 0  # nothing new
