"""No IP address (and no IP + user-agent pair) of tracked traffic is ever stored.

Traffic with known addresses and user agents goes through every protocol, in every way
each one carries the visitor's address (peer, ``X-Forwarded-For``, Swetrix's header,
Pirsch's ``ip`` field, Matomo's ``cip`` with a token, IPv4 and IPv6). Then every column
of every table of the database, every key and value in Redis (before and after the
consumer drained the stream) and the captured log output are searched for them.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory

PROBE_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 PrivacyProbe/7.3"
ADDRESSES = {
    "plausible": "203.0.113.101",
    "plausible_v6": "2001:db8:abcd::101",
    "swetrix": "203.0.113.102",
    "pirsch": "203.0.113.103",
    "pirsch_batch": "203.0.113.104",
    "matomo_peer": "203.0.113.105",
    "matomo_cip": "203.0.113.106",
    "matomo_bulk": "203.0.113.107",
    "collect": "203.0.113.108",
    "collect_v6": "2001:db8:abcd::108",
}


def send_everything(client, site, pa_key: str, matomo_token: str) -> None:
    host = site.hostname
    ok = []

    def plausible(ip):
        return client.post(
            "/api/event",
            data=json.dumps({"name": "pageview", "url": f"https://{host}/p", "domain": host}),
            content_type="text/plain",
            HTTP_USER_AGENT=PROBE_UA,
            HTTP_X_FORWARDED_FOR=ip,
        )

    ok.append(plausible(ADDRESSES["plausible"]).status_code == 202)
    ok.append(plausible(ADDRESSES["plausible_v6"]).status_code == 202)
    ok.append(
        client.post(
            "/log",
            data=json.dumps({"pid": site.public_id, "pg": "/s"}),
            content_type="application/json",
            HTTP_USER_AGENT=PROBE_UA,
            HTTP_X_CLIENT_IP_ADDRESS=ADDRESSES["swetrix"],
        ).status_code
        == 201
    )
    hit = {"url": f"https://{host}/pi", "ip": ADDRESSES["pirsch"], "user_agent": PROBE_UA}
    ok.append(
        client.post(
            "/api/v1/hit",
            data=json.dumps(hit),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {pa_key}",
        ).status_code
        == 200
    )
    from datetime import UTC, datetime

    batch = [dict(hit, ip=ADDRESSES["pirsch_batch"], time=datetime.now(UTC).isoformat())]
    ok.append(
        client.post(
            "/api/v1/event/batch",
            data=json.dumps([dict(batch[0], event_name="Probe")]),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {pa_key}",
        ).status_code
        == 200
    )
    params = {"idsite": site.pk, "rec": 1, "url": f"https://{host}/m", "send_image": 0}
    ok.append(
        client.get(
            f"/matomo.php?{urlencode(params)}",
            HTTP_USER_AGENT=PROBE_UA,
            REMOTE_ADDR=ADDRESSES["matomo_peer"],
        ).status_code
        == 204
    )
    with_cip = dict(params, cip=ADDRESSES["matomo_cip"], token_auth=matomo_token, ua=PROBE_UA)
    ok.append(client.get(f"/matomo.php?{urlencode(with_cip)}").status_code == 204)
    bulk = {
        "requests": ["?" + urlencode(dict(params, cip=ADDRESSES["matomo_bulk"], ua=PROBE_UA))],
        "token_auth": matomo_token,
    }
    ok.append(
        client.post("/matomo.php", data=json.dumps(bulk), content_type="application/json").json()[
            "tracked"
        ]
        == 1
    )
    for ip in (ADDRESSES["collect"], ADDRESSES["collect_v6"]):
        body = {"k": site.public_key, "u": f"https://{host}/c", "e": [{"t": "pageview"}]}
        ok.append(
            client.post(
                "/api/collect",
                data=json.dumps(body),
                content_type="text/plain",
                HTTP_USER_AGENT=PROBE_UA,
                HTTP_X_FORWARDED_FOR=ip,
            ).status_code
            == 202
        )
    assert all(ok), ok


def database_hits(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column of every table holding a needle."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
            ORDER BY table_name, column_name
            """
        )
        columns = cursor.fetchall()
        for table, column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',  # noqa: S608 - names from information_schema
                    [f"%{needle}%"],
                )
                if cursor.fetchone():
                    found.append((table, column, needle))
    return found


def redis_hits(needles: list[str]) -> list[tuple[bytes, str]]:
    import redis

    store = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    for key in store.scan_iter(count=1000):
        kind = store.type(key)
        if kind == b"string":
            values = [store.get(key) or b""]
        elif kind == b"hash":
            values = [k + b"=" + v for k, v in store.hgetall(key).items()]
        elif kind == b"list":
            values = store.lrange(key, 0, -1)
        elif kind == b"set":
            values = list(store.smembers(key))
        elif kind == b"zset":
            values = store.zrange(key, 0, -1)
        elif kind == b"stream":
            values = [
                b"".join(k + v for k, v in fields.items())
                for _, fields in store.xrange(key, count=100_000)
            ]
        else:
            values = []
        for needle in needles:
            raw = needle.encode()
            if raw in key or any(raw in value for value in values):
                found.append((key, needle))
    return found


@pytest.fixture
def traffic(db, client, caplog):
    caplog.set_level(logging.DEBUG)
    owner = UserFactory()
    site = SiteFactory(hostname="privacy.example")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    pa_key = api_client_create(user=owner, type="key", site=site)[1]["key"]
    matomo_token = api_client_create(user=owner, type="matomo", site=site)[1]["key"]
    send_everything(client, site, pa_key, matomo_token)
    return site


NEEDLES = [*ADDRESSES.values(), "PrivacyProbe/7.3"]


def test_redis_never_holds_an_ip_or_the_user_agent_before_the_consumer_runs(traffic):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    from tracking.buffer import backlog_size

    assert backlog_size() >= 1  # the events are really waiting in the stream
    assert redis_hits(NEEDLES) == []


def test_database_redis_and_logs_hold_no_ip_after_draining(traffic, drain, caplog):
    from stats.rollups import rollup_pending

    events = drain()
    paths = sorted(e.path for e in events)
    # Every request above became one event: 2 Plausible, 1 Swetrix, 2 Pirsch, 3 Matomo, 2 snippet.
    assert paths == ["/c", "/c", "/m", "/m", "/m", "/p", "/p", "/pi", "/pi", "/s"]
    assert {e.protocol for e in events} == {"plausible", "swetrix", "pirsch", "matomo", "footfall"}
    rollup_pending()
    assert database_hits(NEEDLES) == []
    if settings.REDIS_URL:
        assert redis_hits(NEEDLES) == []
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert [needle for needle in NEEDLES if needle in logged] == []


def test_the_scan_finds_an_address_where_one_is_stored(traffic):
    """The scanner is not blind: an address written on purpose is found."""
    from sites.models import Site

    Site.objects.filter(pk=traffic.pk).update(display_name=f"probe {ADDRESSES['pirsch']}")
    assert ("sites_site", "display_name", ADDRESSES["pirsch"]) in database_hits(NEEDLES)
