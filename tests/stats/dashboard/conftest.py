"""Fixtures of the dashboard tests: an owner, their Berlin site and three visitors' traffic."""

import pytest

from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store
from tests.stats.dashboard.support import BERLIN_FIREFOX, LONDON_CHROME, MUNICH_PHONE, at


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="Europe/Berlin")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def traffic(site):
    store(
        [
            # 1 Jan: visitor 1 reads two pages in 5 minutes; visitor 2 bounces.
            event_row(site.pk, at(1, 10), path="/", **LONDON_CHROME),
            event_row(site.pk, at(1, 10, 5), path="/pricing", **LONDON_CHROME),
            event_row(site.pk, at(1, 11), path="/", **BERLIN_FIREFOX),
            # 2 Jan 23:30 UTC = 3 Jan in Berlin: visitor 3 signs up a minute after arriving.
            event_row(site.pk, at(2, 23, 30), path="/blog", **MUNICH_PHONE),
            event_row(
                site.pk,
                at(2, 23, 31),
                kind="custom",
                name="Signup",
                path="/blog",
                props={"plan": "pro"},
                **MUNICH_PHONE,
            ),
        ]
    )
