import os

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

# CI runs the property tests with a fixed seed so a run is repeatable: a failure found once
# fails again on the same commit. HYPOTHESIS_PROFILE=explore draws new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with an empty cache (sessions, rate limits) and no cached sites or salts."""
    from django.core.cache import cache

    from sites import permissions, site_lookup
    from tracking import visitors, writer

    cache.clear()
    site_lookup.clear()
    visitors.forget_cached_salts()
    # Per-process role cache: on SQLite row ids repeat between tests (rolled back).
    permissions.forget_cached_roles()
    writer._sites_with_events.clear()
    yield
    cache.clear()
    site_lookup.clear()


@pytest.fixture
def owner(db):
    """A user; each test module's ``site`` fixture makes them its owner."""
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def drain(db):
    """Write everything waiting in the event stream to the database and return all stored events.

    With Redis configured (the normal test setup) this runs the real consumer until the
    stream is empty; in the embedded default events are already stored synchronously.
    """

    def _drain() -> list:
        if settings.REDIS_URL:
            from tracking.consumer import EventConsumer

            consumer = EventConsumer(name="test-drain", block_ms=1)
            while consumer.run_once():
                pass
        from tracking.models import Event

        return list(Event.objects.order_by("timestamp", "id"))

    return _drain


pytest_plugins = ["tests.browser"]
