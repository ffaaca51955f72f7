"""Footfall's statistics API says when a Plausible import is left out of an answer.

A breakdown or filter the imported tables cannot answer (languages are not in Plausible's
export) reads the site's own data only and says why, in an ``X-Footfall-Imports-Skipped``
header and, on Pirsch's object answers, in ``meta.imports_skipped``; an answer imported
data took part in says nothing.
"""

from __future__ import annotations

import pytest

from stats import imports
from tests.factories import SiteFactory, SiteMembershipFactory
from tests.stats.test_plausible_import import make_zip, small_export

RANGE = {"from": "2024-01-01", "to": "2024-01-02"}


@pytest.fixture
def site(db, owner):
    site = SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    files = [("export.zip", make_zip(small_export()))]
    record, _ = imports.import_create(site=site, kind="plausible", files=files)
    imports.plausible_import_run(record.pk, files)
    return site


def get(client, token, site, endpoint: str, **params):
    return client.get(
        f"/api/v1/statistics/{endpoint}",
        {"id": site.public_id, **RANGE, **params},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_breakdown_imported_data_cannot_answer_says_so_in_a_header(client, token, site):
    response = get(client, token, site, "language")
    assert response.status_code == 200
    assert "language" in response["X-Footfall-Imports-Skipped"]
    assert response.json() == []  # the site has no own data: nothing is invented


def test_a_filter_imported_data_cannot_answer_says_so_in_meta(client, token, site):
    response = get(client, token, site, "total", language="en")
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["imports_skipped"] == response["X-Footfall-Imports-Skipped"]
    assert body["visitors"] == 0


def test_an_answer_with_imported_data_says_nothing(client, token, site):
    total = get(client, token, site, "total")
    assert "X-Footfall-Imports-Skipped" not in total and "meta" not in total.json()
    assert total.json()["visitors"] == 15  # 10 + 5 imported daily visitors
    countries = get(client, token, site, "country")
    assert "X-Footfall-Imports-Skipped" not in countries
    assert {row["country_code"]: row["visitors"] for row in countries.json()} == {
        "DE": 6,
        "US": 4,
    }


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("hours", {}),
        ("minutes", {}),
        ("weekdays", {}),
        ("hostname", {}),
        ("event/meta", {"event": "Signup", "event_meta_key": "plan"}),
        ("event/list", {}),
        ("event/page", {"event": "Signup"}),
        ("tags", {}),
        ("tag/details", {"key": "author"}),
        ("session/list", {}),
    ],
)
def test_answers_imported_data_has_no_table_for_say_so(client, token, site, endpoint, params):
    """Plausible's export has no hours, hostnames, event metadata, tags or sessions: these
    answers hold the site's own data only (none here), and say why."""
    response = get(client, token, site, endpoint, **params)
    assert response.status_code == 200
    assert "imported data has no breakdown by" in response["X-Footfall-Imports-Skipped"]
    body = response.json()
    rows = body if isinstance(body, list) else body.get("data", [])
    assert sum(row.get("visitors", 0) for row in rows if isinstance(row, dict)) == 0


@pytest.mark.parametrize("endpoint", ["events", "page/exit", "platform"])
def test_breakdowns_imported_data_answers_say_nothing(client, token, site, endpoint):
    response = get(client, token, site, endpoint)
    assert response.status_code == 200
    assert "X-Footfall-Imports-Skipped" not in response
