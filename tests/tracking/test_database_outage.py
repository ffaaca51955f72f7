"""While PostgreSQL is unreachable, every write endpoint answers its protocol's 503 with
Retry-After (Swetrix: its documented 500 "try again later"; never a 2xx for a hit that was
not made safe), and a site the worker already knows keeps being tracked into the Redis buffer."""

import contextlib
import json

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from accounts.services import api_client_create
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.models import Event

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@contextlib.contextmanager
def database_down():
    """Every query fails the way psycopg does when the server is gone."""

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with (
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(CursorWrapper, "execute", refuse)
        patch.setattr(CursorWrapper, "executemany", refuse)
        yield


def plausible(client, site):
    body = {"name": "pageview", "url": f"https://{site.hostname}/", "domain": site.hostname}
    return client.post(
        "/api/event", data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=UA
    )


def test_each_protocol_answers_503_with_retry_after_in_its_own_shape(client, site):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    with database_down():
        answers = {
            "plausible": plausible(client, site),
            "matomo": client.get(
                "/matomo.php",
                {"idsite": site.pk, "rec": 1, "url": "https://dummy.site/"},
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
                data=json.dumps(
                    {"url": "https://dummy.site/", "ip": "192.0.2.9", "user_agent": UA}
                ),
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
        # Swetrix documents 500 "try again later" for a temporary problem (docs/protocols.md).
        expected = 500 if protocol == "swetrix" else 503
        assert (protocol, response.status_code) == (protocol, expected)
        assert response["Retry-After"] == "5", protocol
        assert response["Access-Control-Allow-Origin"] == "*", protocol
    assert answers["plausible"].json() == {
        "errors": {"request": ["temporarily unavailable, retry later"]}
    }
    assert answers["swetrix"].json()["statusCode"] == 500
    assert answers["pirsch"].json()["error"] == ["temporarily unavailable, retry later"]
    assert answers["footfall"].json()["error"]["status"] == 503
    assert answers["matomo"].content.decode() == "Temporarily unavailable, retry later."
    assert Event.objects.count() == 0


def test_a_known_site_is_still_tracked_while_the_database_is_down(client, site, drain):
    assert plausible(client, site).status_code == 202  # the worker now knows the site
    with database_down():
        response = plausible(client, site)
    assert response.status_code == 202
    assert len(drain()) == 2


def test_a_remembered_pirsch_key_keeps_writing_while_the_database_is_down(client, site, drain):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    key = api_client_create(user=owner, type="key", site=site)[1]["key"]

    def pirsch_hit():
        return client.post(
            "/api/v1/hit",
            data=json.dumps({"url": "https://dummy.site/", "ip": "192.0.2.9", "user_agent": UA}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    assert pirsch_hit().status_code == 200  # the key and the site are now known
    with database_down():
        response = pirsch_hit()
    assert response.status_code == 200
    assert len(drain()) == 2
