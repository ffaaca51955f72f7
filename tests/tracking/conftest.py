"""Fixtures for ingestion tests: a site, and ``drain`` to store what the endpoints accepted."""

import pytest
from django.conf import settings

from tests.factories import SiteFactory
from tracking.models import Event


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="UTC")


@pytest.fixture
def drain(db):
    """Write everything waiting in the event stream to the database and return all stored events.

    With Redis configured (the normal test setup) this runs the real consumer until the
    stream is empty; in the embedded default events are already stored synchronously.
    """

    def _drain() -> list[Event]:
        if settings.REDIS_URL:
            from tracking.consumer import EventConsumer

            consumer = EventConsumer(name="test-drain", block_ms=1)
            while consumer.run_once():
                pass
        return list(Event.objects.order_by("timestamp", "id"))

    return _drain
