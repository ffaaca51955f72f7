"""Growth and the dashboard's KPIs read both periods at once on connections of their own
when no transaction is open (committed data, as in production)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from stats import query as q
from stats import selectors
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store

pytestmark = pytest.mark.django_db(transaction=True)
START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_growth_and_kpis_read_both_periods_concurrently():
    site = SiteFactory(timezone="UTC")
    # Previous week: 2 visitors on /pricing; this week: 3 visitors, one of them twice.
    store(
        [
            event_row(site.pk, START + timedelta(days=d), visitor=v, session=v, path="/pricing")
            for d, v in ((0, 1), (1, 2))
        ]
        + [
            event_row(
                site.pk,
                START + timedelta(days=7 + d, minutes=m),
                visitor=v,
                session=10 + v,
                path="/pricing",
            )
            for d, v, m in ((0, 3, 0), (1, 4, 0), (2, 5, 0), (2, 5, 3))
        ]
    )
    rollup_pending(datetime(2026, 3, 20, tzinfo=UTC))
    assert not connection.in_atomic_block  # so the periods run on two connections
    query = q.StatsQuery(
        site.pk, date(2026, 3, 8), date(2026, 3, 14), "UTC", {"path": ["/pricing"]}
    )
    growth = q.growth(query)
    assert growth["visitors_growth"] == 0.5  # 3 against 2
    assert growth["views_growth"] == 1.0  # 4 against 2
    assert growth["sessions_growth"] == 0.5
    kpis = selectors.dashboard_kpis(query)
    assert (kpis["visitors"]["value"], kpis["visitors"]["previous"]) == (3, 2)
    assert (kpis["views"]["value"], kpis["views"]["previous"]) == (4, 2)
