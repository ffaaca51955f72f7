"""``manage.py client create|list|revoke``."""

import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiClient
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory


@pytest.fixture
def site(db):
    site = SiteFactory()
    SiteMembershipFactory(site=site, user=UserFactory(email="owner@example.com"), role="owner")
    return site


def run(capsys, *args) -> dict | list:
    call_command("client", *args)
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("oauth", {"id", "type", "scopes", "client_id", "client_secret"}),
        ("key", {"id", "type", "scopes", "key"}),
        ("read", {"id", "type", "scopes", "key"}),
        ("matomo", {"id", "type", "scopes", "key"}),
    ],
)
def test_create_prints_the_secret_once(capsys, site, kind, keys):
    payload = run(capsys, "create", "--site", site.public_id, "--type", kind)
    assert set(payload) == keys and payload["type"] == kind
    listed = run(capsys, "list", "--site", site.public_id)
    assert [c["id"] for c in listed] == [payload["id"]]
    secret = payload.get("key") or payload["client_secret"]
    assert secret not in json.dumps(listed)


def test_account_client_scopes_and_revoke(capsys, site):
    payload = run(
        capsys,
        "create",
        "--user",
        "owner@example.com",
        "--type",
        "oauth",
        "--scopes",
        "statistics:read,domains:read",
        "--description",
        "reports",
    )
    assert payload["scopes"] == ["statistics:read", "domains:read"]
    revoked = run(capsys, "revoke", payload["id"])
    assert revoked["revoked_at"] is not None
    assert ApiClient.objects.get(public_id=payload["id"]).revoked_at is not None


@pytest.mark.parametrize(
    "args",
    [
        ["create", "--site", "nope", "--type", "key"],
        ["create", "--user", "nobody@example.com", "--type", "key"],
        ["create", "--user", "owner@example.com", "--type", "key", "--scopes", "statistics:read"],
        ["revoke", "missing"],
    ],
)
def test_bad_arguments_fail_with_a_message(site, args):
    with pytest.raises(CommandError):
        call_command("client", *args)


def test_bad_arguments_exit_non_zero_with_one_line(site):
    import os

    from django.db import connection

    db = connection.settings_dict
    if not db["ENGINE"].endswith("postgresql"):
        pytest.skip("a second process cannot see SQLite's in-memory test database")
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "client", "create", "--site", "nope", "--type", "key"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["CommandError: No site with id nope."]
