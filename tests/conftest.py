import pytest


@pytest.fixture(autouse=True)
def _clear_cache():
    """Every test starts with an empty cache (sessions, rate limits, site lookups)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
