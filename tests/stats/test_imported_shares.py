"""Shares of a breakdown over a range with imported days (issue #16): when the imported
tables cannot answer the breakdown (languages), its rows are the native ones only, and so
must be the denominator of their shares: they sum to at most 100 %."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from stats import query as q
from stats.api.pirsch import platform_shares
from stats.dashboard import PANELS, panel_rows
from stats.models import ImportedBreakdownDay
from stats.query.sources.imported import skipped
from tests.factories import SiteFactory
from tests.helpers import complete_import, event_row, store

DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
IMPORTED_DAY = DAY.date() - timedelta(days=10)  # before the site's first own day


@pytest.fixture
def site_with_import(db):
    site = SiteFactory(timezone="UTC")
    record = complete_import(
        site,
        IMPORTED_DAY,
        import_id="imp-shares",
        visitors=40,
        pageviews=90,
        visits=45,
        bounces=10,
        visit_duration=600,
    )
    ImportedBreakdownDay.objects.create(
        imported=record, site=site, table="locations", day=IMPORTED_DAY, country="DE", visitors=25
    )
    # Three native visitors: two English, one German; all in Germany, two on desktop.
    de = {"country_code": "DE"}
    store(
        [
            event_row(
                site.pk, DAY, visitor=1, session=1, language="en", device_type="desktop", **de
            ),
            event_row(
                site.pk, DAY, visitor=2, session=2, language="en", device_type="desktop", **de
            ),
            event_row(
                site.pk, DAY, visitor=3, session=3, language="de", device_type="mobile", **de
            ),
        ]
    )
    cache.clear()  # complete imports are cached per site
    yield site
    cache.clear()


def test_language_shares_are_of_the_native_visitors_when_imports_cannot_answer(
    site_with_import,
):
    query = q.StatsQuery(site_with_import.pk, IMPORTED_DAY, DAY.date(), "UTC")
    assert q.period_visitors(query) == 43  # the imported day is included in the totals
    assert skipped(query, "language") is not None  # … but not in the language breakdown

    rows = panel_rows(PANELS["languages"], query)
    assert [(r["value"], r["visitors"]) for r in rows] == [("en", 2), ("de", 1)]
    assert sum(r["share"] for r in rows) <= 1
    assert [r["share"] for r in rows] == [round(2 / 3, 4), round(1 / 3, 4)]

    api_rows = q.breakdown(query, "language")
    assert [r["relative_visitors"] for r in api_rows] == [round(2 / 3, 4), round(1 / 3, 4)]


def test_the_denominator_keeps_imported_visitors_when_imports_answer(site_with_import):
    query = q.StatsQuery(site_with_import.pk, IMPORTED_DAY, DAY.date(), "UTC")
    assert skipped(query, "page") is None
    assert q.period_visitors(query, "page") == q.period_visitors(query) == 43
    assert q.period_visitors(query, "language") == 3


def test_platform_shares_under_a_filter_imports_cannot_combine(site_with_import):
    """The country filter (imported locations) answers the period's visitors with the 25
    imported ones, but not the platform breakdown (imported devices): shares of the 3."""
    query = q.StatsQuery(site_with_import.pk, IMPORTED_DAY, DAY.date(), "UTC", {"country": ["DE"]})
    assert q.period_visitors(query) == 28
    assert skipped(query, "platform") is not None
    shares = platform_shares(query)
    assert (shares["platform_desktop"], shares["platform_mobile"]) == (2, 1)
    assert shares["relative_platform_desktop"] == round(2 / 3, 4)
    assert shares["relative_platform_mobile"] == round(1 / 3, 4)
