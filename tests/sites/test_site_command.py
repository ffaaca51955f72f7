"""``manage.py site create|list`` and ``manage.py user create``."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from tests.factories import UserFactory


def run(capsys, *args):
    call_command(*args)
    return json.loads(capsys.readouterr().out)


def test_site_create_prints_every_protocol_identifier(capsys, db):
    owner = UserFactory(email="owner@example.com")
    site = run(
        capsys,
        "site",
        "create",
        "--name",
        "Blog",
        "--hostname",
        "blog.example",
        "--timezone",
        "Europe/Paris",
        "--owner",
        "owner@example.com",
    )
    for key in (
        "id",
        "hostname",
        "idsite",
        "pid",
        "public_key",
        "timezone",
        "display_name",
        "identification_code",
        "public",
    ):
        assert key in site
    assert isinstance(site["idsite"], int)
    assert (
        site["hostname"] == "blog.example"
        and site["pid"] == site["id"]
        and site["public_key"].startswith("pk_live_")
    )
    assert owner.site_memberships.get().role == "owner"
    listed = run(capsys, "site", "list")
    assert [s["id"] for s in listed] == [site["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "X\nY", "--hostname", "new.example"], "line breaks"),
        (["--name", "X", "--hostname", "new.example", "--timezone", "Mars/Olympus"], "time zone"),
        (
            ["--name", "X", "--hostname", "new.example", "--owner", "ghost@example.com"],
            "Unknown owner",
        ),
    ],
)
def test_site_create_errors(capsys, db, args, message):
    call_command("site", "create", "--name", "D", "--hostname", "dup.example")
    capsys.readouterr()
    with pytest.raises(CommandError, match=message):
        call_command("site", "create", *args)


def test_site_create_error_exits_non_zero_with_one_line(db):
    db_settings = connection.settings_dict
    env = dict(os.environ)
    if db_settings["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/{db_settings['NAME']}"
        )
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "site",
            "create",
            "--name",
            "X",
            "--hostname",
            "x.example",
            "--timezone",
            "Nowhere/City",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "time zone" in result.stderr


def test_user_create_prints_a_working_password(capsys, client, db):
    created = run(capsys, "user", "create", "--email", "New@Example.com")
    assert created["email"] == "new@example.com" and len(created["password"]) >= 12
    assert client.login(username="new@example.com", password=created["password"])
    admin = run(capsys, "user", "create", "--email", "root@example.com", "--superuser")
    assert User.objects.get(email=admin["email"]).is_superuser
    with pytest.raises(CommandError):
        call_command("user", "create", "--email", "new@example.com")
    with pytest.raises(CommandError):
        call_command("user", "create", "--email", "not-an-email")
