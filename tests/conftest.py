import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with an empty cache (sessions, rate limits) and no cached sites or salts."""
    from django.core.cache import cache

    from tracking import site_lookup, visitors

    cache.clear()
    site_lookup.clear()
    visitors.forget_cached_salts()
    yield
    cache.clear()
    site_lookup.clear()


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
