"""Plausible's per-key hourly request limit (``PLAUSIBLE_API_RATE_LIMIT``, 600 by default)
on the Stats and Sites APIs, with ``X-RateLimit-*`` headers on every counted answer."""

import pytest
from django.core.cache import cache

from accounts.services import api_client_create
from tests.stats.plausible_stats.support import v1

LIMITED = (
    "Too many API requests. Your API key is limited to 3 requests per hour. Please contact "
    "us to request more capacity."
)


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()  # this run's Redis database only
    yield
    cache.clear()


def test_default_is_plausibles_600_an_hour(settings):
    assert settings.PLAUSIBLE_API_RATE_LIMIT == 600


def test_limit_per_key_with_headers_on_every_answer(client, owner, key, site, settings):
    settings.PLAUSIBLE_API_RATE_LIMIT = 3
    remaining = []
    for _ in range(3):
        response = v1(client, "aggregate", key)
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "3"
        assert int(response["X-RateLimit-Reset"]) > 0
        remaining.append(response["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = v1(client, "aggregate", key)
    assert refused.status_code == 429
    assert refused.json() == {"error": LIMITED}
    assert refused["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    # The Sites API counts against the same key.
    sites = client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert sites.status_code == 429
    # Another key has its own count; a refused (400) answer is counted and carries headers.
    other = api_client_create(user=owner, type="plausible")[1]["key"]
    bad_period = v1(client, "aggregate", other, period="fortnight")
    assert bad_period.status_code == 400
    assert bad_period["X-RateLimit-Remaining"] == "2"


def test_the_setting_is_read_at_call_time(client, key, site, settings):
    settings.PLAUSIBLE_API_RATE_LIMIT = 1
    assert v1(client, "aggregate", key).status_code == 200
    assert v1(client, "aggregate", key).status_code == 429
    settings.PLAUSIBLE_API_RATE_LIMIT = 10
    response = v1(client, "aggregate", key)
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "10"


def test_a_bad_key_is_401_and_not_counted(client, site, settings):
    settings.PLAUSIBLE_API_RATE_LIMIT = 1
    for _ in range(3):
        response = v1(client, "aggregate", "pl_" + "x" * 61)
        assert response.status_code == 401
        assert "X-RateLimit-Limit" not in response
