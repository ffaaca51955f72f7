"""A site with an owner, a Plausible key and a little traffic (tests.stats.plausible_stats)."""

from datetime import timedelta

import pytest

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store
from tests.stats.plausible_stats.support import DAY, at


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="shop.example", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


@pytest.fixture
def key(owner):
    return api_client_create(user=owner, type="plausible")[1]["key"]


@pytest.fixture
def traffic(site):
    """DAY: visitor 1 (Google) views / and /blog/a then signs up; visitor 2 bounces on /.
    The day before: one visitor, one view."""
    google = {
        "referrer": "https://www.google.com/",
        "source": "Google",
        "channel": "Organic Search",
    }
    rows = [
        event_row(site.pk, at(DAY, 9), visitor=1, session=11, path="/", **google),
        event_row(site.pk, at(DAY, 9, 1), visitor=1, session=11, path="/blog/a", **google),
        event_row(
            site.pk,
            at(DAY, 9, 1, 30),
            visitor=1,
            session=11,
            kind="custom",
            name="Signup",
            path="/blog/a",
            props={"plan": "pro"},
            **google,
        ),
        event_row(site.pk, at(DAY, 14), visitor=2, session=22, path="/", country_code="DE"),
        event_row(site.pk, at(DAY - timedelta(days=1), 8), visitor=3, session=33, path="/"),
    ]
    store(rows)
