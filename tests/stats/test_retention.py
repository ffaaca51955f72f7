"""Retention: raw events (and their rolled-up copies) older than a site's ``retention_days``
go, aggregates stay."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from stats import retention
from stats.models import DailySiteStats, RolledEvent
from stats.rollups import rollup_pending
from stats.tasks import purge_expired_events
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tracking.models import Event

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def views(site, days_ago: int, count: int) -> list[dict]:
    at = NOW - timedelta(days=days_ago)
    return [
        event_row(
            site.pk, at + timedelta(minutes=i), visitor=i + 1, session=i + 1, path=f"/d{days_ago}"
        )
        for i in range(count)
    ]


@pytest.fixture
def sites(db):
    kept_30 = SiteFactory(retention_days=30)
    forever = SiteFactory(retention_days=None)
    store(views(kept_30, 45, 3) + views(kept_30, 31, 2) + views(kept_30, 5, 4))
    store(views(forever, 400, 2) + views(forever, 5, 1))
    rollup_pending(NOW)
    return kept_30, forever


def test_task_deletes_only_expired_raw_events_and_keeps_aggregates(sites, monkeypatch):
    kept_30, forever = sites
    before = DailySiteStats.objects.filter(site=kept_30).aggregate(v=Sum("views"))["v"]
    monkeypatch.setattr(retention.timezone, "now", lambda: NOW)
    assert purge_expired_events() == {kept_30.pk: 5}  # what beat runs, in-process
    assert sorted(Event.objects.filter(site=kept_30).values_list("path", flat=True)) == ["/d5"] * 4
    assert Event.objects.filter(site=forever).count() == 3
    # Their rolled-up copies go with them; the other site keeps its copies.
    assert (
        sorted(RolledEvent.objects.filter(site=kept_30).values_list("path", flat=True))
        == ["/d5"] * 4
    )
    assert RolledEvent.objects.filter(site=forever).count() == 3
    # The daily aggregates of the deleted days are untouched.
    assert DailySiteStats.objects.filter(site=kept_30).aggregate(v=Sum("views"))["v"] == before == 9
    assert purge_expired_events() == {}  # idempotent


def test_deletes_in_batches(sites):
    kept_30, _ = sites
    assert retention.site_purge_expired_events(kept_30, NOW, batch_size=2) == 5
    assert Event.objects.filter(site=kept_30, timestamp__lt=NOW - timedelta(days=30)).count() == 0


def test_nothing_is_deleted_before_the_rollups_have_read_it(db):
    site = SiteFactory(retention_days=7)
    store(views(site, 20, 3))  # never rolled up: deleting would lose the aggregates
    assert retention.purge_expired_events(NOW) == {}
    assert Event.objects.filter(site=site).count() == 3
    rollup_pending(NOW)
    assert retention.purge_expired_events(NOW) == {site.pk: 3}
    assert DailySiteStats.objects.get(site=site).views == 3


def test_events_received_after_the_last_rollup_are_kept(db):
    site = SiteFactory(retention_days=7)
    rollup_pending(NOW - timedelta(hours=1))
    late = views(site, 20, 2)
    for row in late:
        row["received_at"] = NOW.isoformat()  # a late batch, not yet rolled up
    store(late)
    assert retention.purge_expired_events(NOW) == {}
    assert Event.objects.filter(site=site).count() == 2
