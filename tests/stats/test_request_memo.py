"""Facts a statistics answer reads once per request (``analytics_project.request_memo``): the
rollups' boundary (``stats.query.coverage``) and the site's reporting currency. Every part
of an answer sees the same value, and a request no longer reads them once per plan and
source. Outside requests they are read every time, and a change inside a request (a rollup
run, a settings save) is seen at once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from analytics_project import request_memo
from sites.selectors import site_reporting_currency
from stats.models import RollupState
from stats.query import StatsQuery, coverage
from stats.rollups import rollup_pending
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def site(owner):
    site = SiteFactory(timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def rolled(site):
    """Page views on 1 to 8 March, rolled up: the covered days end on 9 March."""
    store(
        [
            event_row(site.pk, datetime(2026, 3, day, 10, tzinfo=UTC), visitor=day, session=day)
            for day in range(1, 9)
        ]
    )
    rollup_pending(now=NOW)
    return site


def boundary_reads(queries) -> int:
    return sum('FROM "stats_rollupstate"' in q["sql"] for q in queries.captured_queries)


def currency_reads(queries) -> int:
    return sum(
        q["sql"].startswith('SELECT "sites_site"."reporting_currency"')
        for q in queries.captured_queries
    )


def test_a_statistics_request_reads_each_fact_once(client, rolled, token):
    params = {"id": rolled.public_id, "from": "2026-03-01", "to": "2026-03-09"}
    for endpoint in ("total", "visitor", "country", "page"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                f"/api/v1/statistics/{endpoint}", params, HTTP_AUTHORIZATION=f"Bearer {token}"
            )
        assert response.status_code == 200, response.content
        assert boundary_reads(queries) == 1, endpoint
        assert currency_reads(queries) <= 1, endpoint


def query_of(site) -> StatsQuery:
    return StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 12), site.timezone)


def test_outside_a_request_every_call_reads_the_boundary(rolled):
    with CaptureQueriesContext(connection) as queries:
        first = coverage.covered_days(query_of(rolled))
        second = coverage.covered_days(query_of(rolled))
    assert first == second and first[-1] == date(2026, 3, 9)
    assert boundary_reads(queries) == 2


def send(signal) -> None:
    """A request's signal as the test client sends it (keeping the test's connection)."""
    signal.disconnect(close_old_connections)
    try:
        signal.send(sender=None)
    finally:
        signal.connect(close_old_connections)


def test_a_rollup_saved_during_a_request_moves_the_kept_boundary(rolled):
    send(request_started)
    try:
        before = coverage.covered_days(query_of(rolled))
        with CaptureQueriesContext(connection) as queries:
            assert coverage.covered_days(query_of(rolled)) == before
        assert boundary_reads(queries) == 0
        state = RollupState.objects.get(site=rolled)
        state.received_until += timedelta(days=1)
        state.save(update_fields=["received_until"])
        assert coverage.covered_days(query_of(rolled)) == [*before, date(2026, 3, 10)]
        RollupState.objects.filter(site=rolled).delete()
        assert coverage.covered_days(query_of(rolled)) == []
    finally:
        send(request_finished)
    assert not request_memo.active()


def test_a_currency_saved_during_a_request_is_read_again(rolled):
    send(request_started)
    try:
        assert site_reporting_currency(rolled.pk) == "EUR"
        with CaptureQueriesContext(connection) as queries:
            assert site_reporting_currency(rolled.pk) == "EUR"
        assert currency_reads(queries) == 0
        rolled.reporting_currency = "USD"
        rolled.save(update_fields=["reporting_currency"])
        assert site_reporting_currency(rolled.pk) == "USD"
    finally:
        send(request_finished)
    with CaptureQueriesContext(connection) as queries:
        assert site_reporting_currency(rolled.pk) == "USD"
        assert site_reporting_currency(rolled.pk) == "USD"
    assert currency_reads(queries) == 2
