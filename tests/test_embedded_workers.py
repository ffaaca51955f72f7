"""Sessions on the embedded default survive traffic that alternates between its workers.

`make run` with nothing configured starts gunicorn with several worker processes. Session
state kept in one process's memory split each visit into one session per worker that
saw it; the state must live where every process sees it.
"""

import http.client
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.embedded import Embedded, run_embedded

# 15 visitors: 12 view two or three pages in a row, 3 view one page (the bounces).
PAGES_PER_VISITOR = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 1, 1, 1]
CONNECTIONS_PER_WORKER = 3
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.{}.0 Safari/537.36"
)


def connections_by_worker(product: Embedded) -> dict[int, list[http.client.HTTPConnection]]:
    """Kept-alive connections grouped by the worker process that accepted each one."""
    pools: dict[int, list[http.client.HTTPConnection]] = {}
    for _ in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", product.port, timeout=10)
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        pool = pools.setdefault(product.connection_owner(connection), [])
        if len(pool) < CONNECTIONS_PER_WORKER:
            pool.append(connection)
        else:
            connection.close()
        if len(pools) >= 2 and all(len(p) == CONNECTIONS_PER_WORKER for p in pools.values()):
            break
    return pools


def pageview(connection: http.client.HTTPConnection, hostname: str, visitor: int, path: str):
    body = json.dumps({"name": "pageview", "url": f"https://{hostname}{path}", "domain": hostname})
    connection.request(
        "POST",
        "/api/event",
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT.format(visitor),
            "X-Forwarded-For": f"203.0.113.{visitor + 1}",
        },
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 202, response.status


def statistics_total(product: Embedded, site_id: str, client: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", product.port, timeout=30)
    connection.request(
        "POST",
        "/api/v1/token",
        body=json.dumps(
            {"client_id": client["client_id"], "client_secret": client["client_secret"]}
        ),
        headers={"Content-Type": "application/json"},
    )
    token = json.loads(connection.getresponse().read())["access_token"]
    today = datetime.now(UTC).date()
    query = f"id={site_id}&from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    connection.request(
        "GET",
        f"/api/v1/statistics/total?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, body
    return json.loads(body)


@pytest.mark.slow
def test_visits_alternating_between_workers_are_one_session_each(tmp_path):
    with run_embedded(tmp_path) as product:
        owner, _password = product.demo_login()
        site = product.manage(
            "site", "create", "--name", "Workers", "--hostname", "workers.example", "--owner", owner
        )
        client = product.manage("client", "create", "--site", site["id"], "--type", "oauth")
        pools = connections_by_worker(product)
        workers = sorted(pools)
        # Every worker of the run takes part: the visits really alternate between processes.
        assert len(workers) >= 2, f"only one worker answered: {workers}"
        used = 0
        for visitor, pages in enumerate(PAGES_PER_VISITOR):
            for page in range(pages):
                worker = workers[(visitor + page) % len(workers)]
                connection = pools[worker][used % CONNECTIONS_PER_WORKER]
                used += 1
                pageview(connection, site["hostname"], visitor, f"/page-{page}")
                assert product.connection_owner(connection) == worker
        total = statistics_total(product, site["id"], client)
    assert (total["visitors"], total["views"], total["sessions"], total["bounces"]) == (
        15,
        sum(PAGES_PER_VISITOR),
        15,
        3,
    )
