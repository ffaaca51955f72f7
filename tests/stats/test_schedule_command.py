"""``manage.py schedule``: Celery beat's schedule run in-process for the embedded default."""

import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stats.management.commands.schedule import due_entries
from stats.models import DailySiteStats
from tests.factories import SiteFactory
from tests.helpers import event_row, store


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 12, 7, hour, minute, tzinfo=UTC)


def test_due_entries_follow_each_crontab():
    since = {name: at(9, 0) for name in ("rollup-statistics", "rotate-visitor-salts")}
    # Entries never run before count from ``now``: nothing is due at once.
    assert due_entries({}, at(9, 6)) == []
    last_runs = dict.fromkeys(
        [
            "rotate-visitor-salts",
            "rollup-statistics",
            "flush-drop-counts",
            "clear-expired-oauth-tokens",
            "purge-expired-events",
            "send-due-reports",
            "check-alerts",
        ],
        at(9, 0),
    )
    assert set(due_entries(last_runs, at(9, 4))) == {"flush-drop-counts", "check-alerts"}
    assert set(due_entries(last_runs, at(9, 6))) == {
        "rollup-statistics",
        "flush-drop-counts",
        "send-due-reports",
        "check-alerts",
    }
    assert "clear-expired-oauth-tokens" in due_entries(last_runs, at(9, 17))
    assert "rotate-visitor-salts" in due_entries(since, at(9, 10))


@pytest.mark.django_db
def test_once_runs_the_due_rollup_in_process():
    site = SiteFactory()
    store([event_row(site.pk, datetime(2026, 1, 5, 12, tzinfo=UTC))])
    out = StringIO()
    call_command(
        "schedule", "--once", "--since", "2026-12-07T09:00", "--now", "2026-12-07T09:05", stdout=out
    )
    ran = {row["entry"]: row["ok"] for row in json.loads(out.getvalue())["ran"]}
    assert ran["rollup-statistics"] is True
    assert DailySiteStats.objects.get(site=site).day == date(2026, 1, 5)


def test_a_bad_instant_is_a_clear_error():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("schedule", "--once", "--now", "yesterday")
