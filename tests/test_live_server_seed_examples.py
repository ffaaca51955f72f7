"""The seed documents' own examples, sent over real HTTP to a running server."""

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tracking.models import Event

OPERA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.121 Safari/537.36 OPR/71.0.3770.284"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/116.0"


def call(url, *, data=None, headers=None, method=None):
    request = urllib.request.Request(
        url,
        data=data.encode() if isinstance(data, str) else data,
        headers=headers or {},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_protocols_seed_examples_against_a_running_server(live_server, drain):
    base = live_server.url
    owner = UserFactory()
    site = SiteFactory(hostname="dummy.site")
    SiteMembershipFactory(site=site, user=owner, role="owner")

    # Plausible: the curl example.
    status, body = call(
        f"{base}/api/event",
        data='{"name":"pageview","url":"http://dummy.site","domain":"dummy.site"}',
        headers={
            "User-Agent": OPERA,
            "X-Forwarded-For": "127.0.0.1",
            "Content-Type": "application/json",
        },
    )
    assert (status, json.loads(body)) == (202, {})

    # Swetrix: /log, /log/custom and /log/hb curl examples (YOUR_PROJECT_ID = the site's pid).
    swetrix = {
        "User-Agent": FIREFOX,
        "X-Client-IP-Address": "192.0.2.1",
        "Content-Type": "application/json",
    }
    for path, payload in (
        ("log", {"pid": site.public_id, "lc": "en-US", "pg": "/"}),
        ("log/custom", {"pid": site.public_id, "ev": "YOUR_EVENT_NAME", "lc": "en-US", "pg": "/"}),
        ("log/hb", {"pid": site.public_id}),
    ):
        status, body = call(f"{base}/{path}", data=json.dumps(payload), headers=swetrix)
        assert (status, json.loads(body)) == (201, {}), path

    # Matomo: the mobile-app GET request and the bulk curl example.
    query = (
        "_cvar="
        + quote('{"1":["OS","iphone 5.0"],"2":["Piwik Mobile Version","1.6.2"]}')
        + "&action_name=View%20settings"
        f"&url=http://mobileapp.piwik.org/window/settings&idsite={site.pk}&rand=351459&h=18&m=13&s=3&rec=1&apiv=1&cookie="
        "&urlref=http://iphone.mobileapp.piwik.org&_id=af344a398df83874&_idvc=19&res=320%C3%97480"
    )
    status, body = call(f"{base}/piwik.php?{query}", headers={"User-Agent": FIREFOX})
    assert status == 200 and body.startswith(b"GIF89a") and len(body) == 43
    bulk = {
        "requests": [
            f"?idsite={site.pk}&url=http://example.org&action_name=Test bulk log Pageview&rec=1",
            f"?idsite={site.pk}&url=http://example.net/test.htm&action_name=Another bulk page view&rec=1",
        ]
    }
    status, body = call(f"{base}/piwik.php", data=json.dumps(bulk), headers={"User-Agent": FIREFOX})
    assert (status, json.loads(body)) == (200, {"status": "success", "tracked": 2, "invalid": 0})

    # Pirsch: token, domain, a page view and a batch.
    oauth = api_client_create(user=owner, type="oauth", site=site)[1]
    status, body = call(
        f"{base}/api/v1/token",
        data=json.dumps({"client_id": oauth["client_id"], "client_secret": oauth["client_secret"]}),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200
    bearer = {
        "Authorization": f"Bearer {json.loads(body)['access_token']}",
        "Content-Type": "application/json",
    }
    status, body = call(f"{base}/api/v1/domain", headers=bearer)
    assert status == 200 and json.loads(body)[0]["id"] == site.public_id
    hit = {
        "url": "https://dummy.site/blog",
        "ip": "123.45.67.89",
        "user_agent": FIREFOX,
        "title": "Blog",
        "referrer": "https://www.google.com/",
        "screen_width": 1920,
        "screen_height": 1080,
        "tags": {"author": "John", "post": "My first blogpost"},
    }
    assert call(f"{base}/api/v1/hit", data=json.dumps(hit), headers=bearer)[0] == 200
    assert (
        call(
            f"{base}/api/v1/hit/batch",
            data=json.dumps([dict(hit, time="2023-01-02T14:15:32Z")]),
            headers=bearer,
        )[0]
        == 200
    )

    events = drain()
    assert Event.objects.count() == len(events) == 9
    assert (
        sorted(e.protocol for e in events)
        == ["matomo"] * 3 + ["pirsch"] * 2 + ["plausible"] + ["swetrix"] * 3
    )
