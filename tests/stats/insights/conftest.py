"""Fixtures of the insights API tests: an owner, their site and read key, and a
frustrated day of traffic."""

import pytest

from tests.factories import SiteFactory, SiteMembershipFactory
from tests.helpers import event_row, store
from tests.stats.insights.support import at, row, signal


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created per test; PBKDF2 would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def site(owner):
    site = SiteFactory(hostname="insights.site")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return site


# --- frustration -------------------------------------------------------------------------


@pytest.fixture
def frustrated(site):
    other = SiteFactory(hostname="other-frustration.site")
    store(
        [
            # Visitor 1: two rapid navigations (1 s and 1 s apart), then a calm one (8 s).
            row(site, 0, visitor=1, session=11, path="/"),
            row(site, 1, visitor=1, session=11, path="/a"),
            row(site, 2, visitor=1, session=11, path="/b"),
            row(site, 10, visitor=1, session=11, path="/c"),
            signal(site, 3, "rage_click", 1, 11, selector="button", clicks=5),
            signal(site, 4, "rage_click", 1, 11, selector="button", clicks=4),
            signal(site, 5, "dead_click", 1, 11, selector="div.card"),
            signal(site, 6, "js_exception", 1, 11, message="boom"),
            signal(site, 7, "console_error", 1, 11, message="bad"),
            signal(site, 8, "console_warning", 1, 11, message="meh"),
            signal(site, 9, "form_abandon", 1, 11, form="form#a", last_field="input#b"),
            # Visitor 2: every signal beyond its cap → 125 points, shown as 100.
            row(site, 0, visitor=2, session=21),
            *[signal(site, 1 + i, "rage_click", 2, 21, selector="a") for i in range(5)],
            *[signal(site, 10 + i, "dead_click", 2, 21, selector="p") for i in range(10)],
            *[signal(site, 30 + i, "promise_rejection", 2, 21, message="x") for i in range(4)],
            *[signal(site, 40 + i, "form_abandon", 2, 21, form="form") for i in range(3)],
            # Visitor 3: calm; two sessions one second apart are not a rapid navigation.
            row(site, 0, visitor=3, session=31),
            row(site, 1, visitor=3, session=32),
            # Visitor 4: a rage click without any page view in the period is not scored.
            signal(site, 0, "rage_click", 4, 41, selector="a"),
            # Two days later: outside the period.
            row(site, 2 * 86400, visitor=5, session=51),
            signal(site, 2 * 86400 + 1, "rage_click", 5, 51, selector="a"),
            # Another site.
            event_row(other.pk, at(0), visitor=9, session=91),
            event_row(other.pk, at(1), visitor=9, session=91, kind="behaviour", name="rage_click"),
        ]
    )
