"""A real third-party client of Plausible's Stats API reads Footfall over HTTP.

The client is PyPI's ``plausible-mcp`` (pinned in requirements-dev.txt): its tools call
``/api/v1/stats/aggregate``, ``/breakdown``, ``/timeseries`` and ``/realtime/visitors`` with
``urllib`` and a Bearer key, against ``PLAUSIBLE_BASE_URL``, here Footfall's live server.
Its usage telemetry is switched off (``DO_NOT_TRACK``) and stubbed out, so nothing leaves
the machine. (``kctl-plausible``, the issue's example, needs Python 3.12; Footfall runs 3.11.)
"""

import importlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.services import api_client_create
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

DAY = date(2026, 11, 10)


@pytest.fixture
def client_module(monkeypatch, live_server, key):
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("PLAUSIBLE_BASE_URL", live_server.url)
    server = importlib.import_module("plausible_mcp.server")
    monkeypatch.setattr(server, "track_tool_call", lambda *a, **k: None)
    monkeypatch.setattr(server, "track_event", lambda *a, **k: None, raising=False)
    return server


@pytest.fixture
def key(transactional_db, live_server):
    owner = UserFactory()
    site = SiteFactory(hostname="reader.example", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    start = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    now = timezone.now()
    store(
        [
            event_row(site.pk, start, visitor=1, session=1, path="/", source="Google"),
            event_row(site.pk, start + timedelta(minutes=1), visitor=1, session=1, path="/docs"),
            event_row(site.pk, start + timedelta(hours=2), visitor=2, session=2, path="/"),
            event_row(site.pk, now - timedelta(minutes=1), visitor=7, session=7, path="/live"),
        ]
    )
    return api_client_create(user=owner, type="plausible")[1]["key"]


def test_plausible_mcp_reads_aggregate_breakdown_timeseries_and_realtime(client_module, key):
    day = f"{DAY},{DAY}"
    aggregate = json.loads(
        client_module.get_aggregate_stats(
            site_id="reader.example",
            date_range=day,
            metrics=["visitors", "pageviews", "visits", "bounce_rate"],
            token=key,
        )
    )
    assert {
        k: aggregate["totals"][k] for k in ("visitors", "pageviews", "visits", "bounce_rate")
    } == {
        "visitors": 2,
        "pageviews": 3,
        "visits": 2,
        "bounce_rate": 50,
    }
    pages = json.loads(
        client_module.get_breakdown(
            site_id="reader.example", property_name="page", date_range=day, token=key
        )
    )
    rows = {row["page"]: row["visitors"] for row in pages["results"]}
    assert rows == {"/": 2, "/docs": 1}
    series = json.loads(
        client_module.get_timeseries(site_id="reader.example", date_range="7d", token=key)
    )
    assert all("date" in point for point in series["timeseries"])
    live = json.loads(client_module.get_realtime_visitors(site_id="reader.example", token=key))
    assert live["realtime_visitors"] == 1


def test_plausible_mcp_sees_a_wrong_key_as_an_authentication_failure(client_module, key):
    answer = client_module.get_aggregate_stats(site_id="reader.example", token="pl_" + "x" * 61)
    assert "Authentication failed (HTTP 401)" in answer
    other = client_module.get_aggregate_stats(site_id="someone-else.example", token=key)
    assert "Authentication failed (HTTP 401)" in other
