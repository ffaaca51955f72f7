"""While the event buffer (Redis) is unreachable, every write endpoint answers its
protocol's own "retry later" with Retry-After, through the one decorator every ingestion
view shares (``tracking.http.ingestion_endpoint``), and nothing is stored."""

import json
from datetime import UTC, datetime

import pytest
from django.conf import settings

from accounts.services import api_client_create
from analytics_project.redis_client import reset_clients
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.models import Event

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the buffer is Redis's")

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_clients()
    yield
    reset_clients()


def test_each_protocol_answers_its_retry_later_when_the_buffer_is_down(client, site, redis_down):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    hit = {"url": "https://dummy.site/", "ip": "198.51.100.1", "user_agent": UA}
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    answers = {
        "plausible": client.post(
            "/api/event",
            data=json.dumps(
                {"name": "pageview", "url": "https://dummy.site/", "domain": "dummy.site"}
            ),
            content_type="text/plain",
            HTTP_USER_AGENT=UA,
        ),
        "matomo": client.get(
            "/matomo.php",
            {"idsite": site.pk, "rec": 1, "url": "https://dummy.site/"},
            HTTP_USER_AGENT=UA,
        ),
        "matomo-bulk": client.post(
            "/matomo.php",
            data=json.dumps(
                {"requests": [f"?idsite={site.pk}&rec=1&url=https%3A%2F%2Fdummy.site%2F"]}
            ),
            content_type="application/json",
            HTTP_USER_AGENT=UA,
        ),
        "swetrix": client.post(
            "/log",
            data=json.dumps({"pid": site.public_id, "pg": "/"}),
            content_type="application/json",
            HTTP_USER_AGENT=UA,
        ),
        "pirsch": client.post(
            "/api/v1/hit",
            data=json.dumps(hit),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ),
        "pirsch-batch": client.post(
            "/api/v1/hit/batch",
            data=json.dumps([dict(hit, time=now), dict(hit, time=now)]),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ),
        "footfall": client.post(
            "/api/collect",
            data=json.dumps(
                {"k": site.public_key, "u": "https://dummy.site/", "e": [{"t": "pageview"}]}
            ),
            content_type="text/plain",
            HTTP_USER_AGENT=UA,
        ),
    }
    for protocol, response in answers.items():
        assert response.status_code == (500 if protocol == "swetrix" else 503), protocol
        assert int(response["Retry-After"]) >= 1, protocol
    assert answers["plausible"].json() == {
        "errors": {"request": ["temporarily unavailable, retry later"]}
    }
    assert answers["matomo"].content.decode() == "Temporarily unavailable, retry later."
    assert answers["matomo-bulk"].json() == {
        "status": "error",
        "message": "temporarily unavailable, retry later",
    }
    assert answers["pirsch"].json()["error"] == ["temporarily unavailable, retry later"]
    assert answers["pirsch-batch"].json()["error"] == ["temporarily unavailable, retry later"]
    assert answers["footfall"].json()["error"]["status"] == 503
    assert "try again later" in answers["swetrix"].json()["message"]
    assert Event.objects.count() == 0
