import pytest


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
