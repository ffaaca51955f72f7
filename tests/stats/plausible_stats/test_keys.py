"""Plausible Stats API: Keys, scopes, sites another account owns, and creating keys."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiClient
from accounts.services import api_client_create, api_client_revoke
from stats.api.plausible.authentication import (
    INVALID_KEY_OR_SITE,
    MISSING_KEY,
    MISSING_SITE_ID,
)
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.stats.plausible_stats.support import DAY, custom, v1, v2

# --- keys ----------------------------------------------------------------------------------


def test_missing_key_is_401_with_plausibles_message(client, site):
    response = client.get("/api/v1/stats/aggregate", {"site_id": "shop.example"})
    assert response.status_code == 401
    assert response.json() == {"error": MISSING_KEY}


def test_bad_key_and_other_kinds_of_key_are_401(client, owner, site):
    read_key = api_client_create(user=owner, type="read", site=site)[1]["key"]
    for value in ("bad-key", read_key, "pl_" + "x" * 61):
        response = v1(client, "aggregate", value)
        assert response.status_code == 401
        assert response.json() == {"error": INVALID_KEY_OR_SITE}


def test_unknown_site_and_missing_site_id(client, key, site):
    assert v1(client, "aggregate", key, site_id="nope.example").json() == {
        "error": INVALID_KEY_OR_SITE
    }
    response = client.get("/api/v1/stats/aggregate", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert response.json() == {"error": MISSING_SITE_ID}


def test_key_without_stats_scope_and_revoked_key_are_refused(client, owner, site):
    sites_only = api_client_create(user=owner, type="plausible", scopes=["sites"])
    assert v1(client, "aggregate", sites_only[1]["key"]).status_code == 401
    client_obj, payload = api_client_create(user=owner, type="plausible")
    assert v1(client, "aggregate", payload["key"]).status_code == 200
    api_client_revoke(client=client_obj)
    assert v1(client, "aggregate", payload["key"]).status_code == 401


def test_empty_site_answers_zero_as_upstream(client, key, site):
    response = v1(client, "aggregate", key, metrics="pageviews")
    assert response.status_code == 200
    assert response.json() == {"results": {"pageviews": {"value": 0}}}


def test_a_key_never_reads_another_accounts_site(client, key, traffic):
    """Cross-tenant: account B's key asks for account A's site by its domain, in v1 and v2."""
    other = UserFactory()
    own = SiteFactory(hostname="shop.example")  # B's own site with the same name: empty
    SiteMembershipFactory(site=own, user=other, role="owner")
    other_key = api_client_create(user=other, type="plausible")[1]["key"]
    response = v1(client, "aggregate", other_key, **custom())
    assert response.json() == {"results": {"visitors": {"value": 0}}}
    lonely = UserFactory()
    lonely_key = api_client_create(user=lonely, type="plausible")[1]["key"]
    for path in ("aggregate", "timeseries", "realtime/visitors"):
        assert v1(client, path, lonely_key).status_code == 401
    assert v1(client, "breakdown", lonely_key, property="event:page").status_code == 401
    body = {"metrics": ["visitors"], "date_range": [str(DAY), str(DAY)]}
    assert v2(client, lonely_key, body).json() == {"error": INVALID_KEY_OR_SITE}


def test_manage_py_client_create_plausible_prints_the_key_once(capsys, owner):
    call_command("client", "create", "--user", owner.email, "--type", "plausible")
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"id", "type", "scopes", "key"}
    assert payload["type"] == "plausible" and payload["scopes"] == ["stats"]
    call_command(
        "client", "create", "--user", owner.email, "--type", "plausible", "--scopes", "stats,sites"
    )
    both = json.loads(capsys.readouterr().out)
    assert both["scopes"] == ["stats", "sites"]
    stored = ApiClient.objects.get(public_id=both["id"])
    assert stored.site_id is None  # an account-level key
    assert stored.key_hash == hashlib.sha256(both["key"].encode()).hexdigest()
    assert both["key"] not in json.dumps(list(ApiClient.objects.values()), default=str)
    call_command("client", "list", "--user", owner.email)
    assert both["key"] not in capsys.readouterr().out
    with pytest.raises(CommandError, match="Scopes not allowed"):
        call_command(
            "client",
            "create",
            "--user",
            owner.email,
            "--type",
            "plausible",
            "--scopes",
            "hits:write",
        )


def test_dashboard_api_clients_section_creates_and_lists_plausible_keys(client, owner, site):
    client.force_login(owner)
    page = client.get("/account/clients").content.decode()
    assert 'value="plausible"' in page and 'value="sites"' in page
    created = client.post(
        "/account/clients/new", {"type": "plausible", "scopes": ["stats", "sites"]}
    )
    assert created.status_code == 200
    stored = ApiClient.objects.get(user=owner, type="plausible")
    assert stored.scopes == ["stats", "sites"]
    body = created.content.decode()
    key = next(
        word
        for word in body.replace("<", " ").replace(">", " ").split()
        if word.startswith("pl_") and len(word) == 64
    )
    assert v1(client, "aggregate", key).status_code == 200
    listing = client.get("/account/clients").content.decode()
    assert f"pl_…{stored.key_last4}" in listing and key not in listing
