"""No IP address (and no IP + user-agent pair) of tracked traffic is ever stored.

Traffic with known addresses and user agents goes through every protocol, in every way
each one carries the visitor's address (peer, ``X-Forwarded-For``, Swetrix's header,
Pirsch's ``ip`` field, Matomo's ``cip`` with a token, IPv4 and IPv6). Callers with known
addresses also fail log-ins, token requests and shared-link passwords and ask for
password resets, which all count in Redis. Then every column of every table of the
database, every key and value in Redis (before and after the consumer drained the
stream) and the captured log output are searched for them. Finally a real gunicorn with
the production ``gunicorn.conf.py`` serves the same kinds of requests, and its access
log and its console output are searched too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlencode

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
# Callers of the throttled, non-tracking endpoints (each counted in Redis by address).
CALLERS = {
    "login": "203.0.113.111",
    "token": "203.0.113.112",
    "share": "203.0.113.113",
    "reset": "2001:db8:abcd::114",
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


def fail_everything_throttled(client, site) -> None:
    """Failures and requests that the throttles count, each from a known caller."""
    from sites.sharing import shared_link_create

    def via(name: str) -> dict:
        return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": CALLERS[name]}

    statuses = [
        client.post(
            "/accounts/login/", {"username": "a@example.com", "password": "x"}, **via("login")
        ).status_code,
        client.post(
            "/api/v1/token",
            data=json.dumps({"client_id": "some-client", "client_secret": "wrong"}),
            content_type="application/json",
            **via("token"),
        ).status_code,
        client.post(
            f"/share/{shared_link_create(site=site, password='pw')[1]}/",
            {"password": "wrong"},
            **via("share"),
        ).status_code,
        client.post(
            "/accounts/password/reset/", {"email": "nobody@example.com"}, **via("reset")
        ).status_code,
    ]
    assert statuses == [200, 401, 403, 302], statuses


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
    fail_everything_throttled(client, site)
    return site


NEEDLES = [*ADDRESSES.values(), *CALLERS.values(), "PrivacyProbe/7.3"]


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


def test_the_redis_scan_finds_an_address_in_a_key(traffic):
    """The Redis scanner is not blind to keys either."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    from django.core.cache import cache

    cache.set(f"probe:{CALLERS['token']}", 1, 60)
    assert any(needle == CALLERS["token"] for _, needle in redis_hits(NEEDLES))


# --- the access log of a real server ------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SERVER_ADDRESSES = {
    "plausible_xff": "203.0.113.121",
    "matomo_xff": "203.0.113.122",
    "matomo_cip": "203.0.113.123",
    "matomo_url": "203.0.113.124",
    "login_xff": "203.0.113.125",
    "pirsch_xff": "2001:db8:abcd::126",
    "dashboard_query": "203.0.113.127",
}
SERVER_SECRET = "matomo_" + "s3cr3t" * 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    from django.db import connection as conn

    params = conn.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


@pytest.fixture
def real_server(db, tmp_path):
    """gunicorn with the production gunicorn.conf.py against the test database."""
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("the server shares the test database through PostgreSQL")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which(
        "gunicorn"
    )
    if gunicorn is None:
        pytest.skip("gunicorn is not installed")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "ACCESS_LOG": str(tmp_path / "access.log"),
        "LOG_LEVEL": "DEBUG",
    }
    console = (tmp_path / "console.log").open("wb")

    def stop() -> None:
        """Stop the server: every line it had to write is on disk afterwards."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        console.close()

    process = subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "analytics_project.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=console,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                conn = HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/health")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "console.log").read_text()) from None
                time.sleep(0.2)
        yield port, tmp_path, stop
    finally:
        stop()


def _request(port: int, method: str, path: str, body: bytes | None = None, **headers) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers={"User-Agent": PROBE_UA, **headers})
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_access_log_holds_no_client_address_user_agent_or_credential(real_server):
    port, logs, stop = real_server
    matomo = urlencode(
        {
            "idsite": 1,
            "rec": 1,
            "url": f"https://privacy.example/?from={SERVER_ADDRESSES['matomo_url']}",
            "cip": SERVER_ADDRESSES["matomo_cip"],
            "token_auth": SERVER_SECRET,
            "_id": "0123456789abcdef",
            "send_image": 0,
        }
    )
    event = json.dumps({"name": "pageview", "url": "https://privacy.example/", "domain": "x"})
    statuses = [
        _request(
            port,
            "GET",
            f"/matomo.php?{matomo}",
            **{"X-Forwarded-For": SERVER_ADDRESSES["matomo_xff"]},
        ),
        _request(
            port,
            "POST",
            "/api/event",
            event.encode(),
            **{"X-Forwarded-For": SERVER_ADDRESSES["plausible_xff"], "Content-Type": "text/plain"},
        ),
        _request(
            port,
            "POST",
            "/api/v1/hit",
            b"{}",
            **{"X-Forwarded-For": SERVER_ADDRESSES["pirsch_xff"], "Authorization": "Bearer x"},
        ),
        _request(
            port,
            "POST",
            "/accounts/login/",
            b"username=a%40example.com&password=x",
            **{"X-Forwarded-For": SERVER_ADDRESSES["login_xff"]},
        ),
        _request(
            port,
            "GET",
            "/accounts/login/?next=/&ip=" + quote(SERVER_ADDRESSES["dashboard_query"]),
        ),
    ]
    assert all(100 <= status < 600 for status in statuses), statuses
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # gunicorn logs "Invalid request from ip=…"
        raw.recv(1024)
    stop()
    access = (logs / "access.log").read_text()
    console = (logs / "console.log").read_text()
    lines = access.splitlines()
    assert len(lines) >= 6, access  # every request (and the health probe) was logged
    # Not blind: the requests are there, with their secrets and identifiers redacted.
    matomo_line = next(line for line in lines if "/matomo.php" in line)
    assert "token_auth=[redacted]" in matomo_line and "cip=[redacted]" in matomo_line
    assert "_id=[redacted]" in matomo_line and "[ip]" in matomo_line
    assert ' "-" "-"' in matomo_line  # no referrer, no user agent on an ingestion path
    login_line = next(line for line in lines if "POST /accounts/login/" in line)
    assert login_line.startswith("c:")  # a daily digest instead of the address
    needles = [*SERVER_ADDRESSES.values(), SERVER_SECRET, "0123456789abcdef"]
    assert [n for n in needles if n in access] == []
    assert [n for n in needles if n in console] == []
    # A tracked visitor's user agent is never written; a dashboard user's may be.
    ingestion = ("/matomo.php", "/api/event", "/api/v1/hit")
    tracked = [line for line in lines if any(path in line for path in ingestion)]
    assert len(tracked) == 3 and not any("PrivacyProbe" in line for line in tracked)
    assert "127.0.0.1 " not in access  # not even the proxy's
    assert "Invalid request from ip=[redacted]" in console
    assert "127.0.0.1:" not in console.replace(f"127.0.0.1:{port}", "")  # only the bind address


def test_log_messages_lose_query_credentials_and_addresses():
    """Django's console handler (settings.LOGGING) redacts query strings in messages."""
    import io

    from analytics_project.access_log import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("tests.privacy.redaction")
    log.addHandler(handler)
    try:
        log.warning(
            '"GET %s HTTP/1.1" 200',
            f"/matomo.php?idsite=1&cip=203.0.113.131&token_auth={SERVER_SECRET}&u=203.0.113.132",
        )
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "/matomo.php?idsite=1&cip=[redacted]&token_auth=[redacted]&u=[ip]" in written
    assert "203.0.113.13" not in written and SERVER_SECRET not in written
