"""Fixtures of the funnel tests: an owner, their site and token, the traffic and a funnel."""

import pytest

from stats.models import Funnel
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.stats.funnels.support import STEPS, bearer, store_traffic


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="example.com", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def auth(owner, site):
    return bearer(owner, site)


@pytest.fixture
def traffic(site):
    """The funnel day's four visitors (``support.store_traffic``)."""
    store_traffic(site)


@pytest.fixture
def funnel(site):
    return Funnel.objects.create(site=site, name="Checkout", steps=STEPS)
