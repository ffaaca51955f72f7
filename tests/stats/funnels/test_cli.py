"""Funnels: the ``funnel`` command."""

import json

import pytest
from django.core.management import CommandError, call_command

from stats.models import Funnel, Goal

# --- CLI ----------------------------------------------------------------------------------


def test_cli_creates_and_lists_funnels_as_json(site, capsys):
    call_command(
        "funnel",
        "create",
        "--site",
        site.public_id,
        "--name",
        "Checkout",
        "--step",
        "page:/pricing",
        "--step",
        "event:Signup",
        "--step",
        "page:/checkout|/cart",
        "--window",
        "1d",
        "--order",
        "strict",
        "--scope",
        "session",
    )
    created = json.loads(capsys.readouterr().out)
    funnel = Funnel.objects.get(pk=created["id"])
    assert (funnel.site, funnel.name, funnel.order, funnel.scope) == (
        site,
        "Checkout",
        "strict",
        "session",
    )
    assert funnel.window_seconds == 86_400 and funnel.open is False
    assert created["steps"][2]["alternatives"] == [
        {"type": "page", "path": "/checkout"},
        {"type": "page", "path": "/cart"},
    ]
    call_command("funnel", "list", "--site", str(site.pk))
    listed = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in listed] == [created["id"]]


def test_cli_defaults_are_plausibles_and_event_properties_parse(site, capsys):
    goal = Goal.objects.create(site=site, name="Bought", event_name="Buy")
    call_command(
        "funnel", "create", "--site", site.public_id, "--name", "F",
        "--step", "event:Signup;plan=pro", "--step", f"goal:{goal.pk}",
    )  # fmt: skip
    created = json.loads(capsys.readouterr().out)
    assert (created["scope"], created["order"], created["window_seconds"], created["open"]) == (
        "visitor",
        "sequential",
        86_400,
        False,
    )
    assert created["steps"][0]["alternatives"] == [
        {"type": "event", "name": "Signup", "props": {"plan": "pro"}}
    ]
    assert created["steps"][1]["alternatives"] == [{"type": "goal", "goal": goal.pk}]


@pytest.mark.parametrize(
    "args",
    [
        ["--step", "page:/pricing"],  # one step
        ["--step", "page:/a"] * 9,  # nine steps
        ["--step", "page:/a", "--step", "page:/b", "--window", "30s"],
        ["--step", "page:/a", "--step", "page:/b", "--window", "31d"],
        ["--step", "page:/a", "--step", "checkout"],  # no type
        ["--step", "page:/a", "--step", "goal:999999"],  # not the site's goal
    ],
)
def test_cli_refuses_bad_definitions_and_writes_nothing(site, args):
    with pytest.raises(CommandError):
        call_command("funnel", "create", "--site", site.public_id, "--name", "F", *args)
    assert not Funnel.objects.exists()


def test_cli_refuses_an_unknown_site(db):
    with pytest.raises(CommandError, match="Unknown site"):
        call_command("funnel", "list", "--site", "nope")
