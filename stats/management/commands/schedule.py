"""``manage.py schedule``: Celery beat's schedule for the embedded default.

With ``REDIS_URL`` set, ``make run`` starts Celery beat and a worker. The embedded default has
neither (tasks run in-process), yet rollups, salt rotation, retention, email reports and
alerts must still happen on time. This command reads the same ``CELERY_BEAT_SCHEDULE`` and
runs each due task in this process, so both set-ups run one schedule, defined once.

``--once`` runs every entry that is due at ``--now`` (default: the current time) since
``--since`` and exits: what scripts and tests use.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analytics_project.celery import app

logger = logging.getLogger(__name__)

# The loop wakes at least this often; entries are at most minutely.
MAX_SLEEP_SECONDS = 30.0


def due_entries(last_runs: dict[str, datetime], now: datetime) -> list[str]:
    """Names of the schedule entries due at ``now`` given when each last ran."""
    due = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        # crontab.is_due compares with the schedule's own clock: a copy pinned to ``now``.
        schedule = copy.copy(entry["schedule"])
        schedule.nowfun = lambda now=now: now
        is_due, _next = schedule.is_due(last_runs.get(name, now))
        if is_due:
            due.append(name)
    return due


def run_entry(name: str) -> dict:
    """Run one entry's task here and now (eagerly); a failure is logged, not raised."""
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    # Autodiscovery is lazy: a worker imports every app's tasks module when it starts.
    app.loader.import_default_modules()
    task = app.tasks[entry["task"]]
    try:
        task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
    except Exception as exc:
        # One broken task must not stop the others (beat behaves the same way).
        logger.exception("scheduled task %s failed", name)
        return {"entry": name, "ok": False, "error": type(exc).__name__}
    return {"entry": name, "ok": True}


def parse_instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 date and time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run Celery beat's schedule in this process (the embedded default has no beat)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due, then exit")
        parser.add_argument("--now", help="ISO date and time to treat as now (with --once)")
        parser.add_argument("--since", help="ISO date and time the schedule last ran (--once)")

    def handle(self, *args, **options) -> None:
        if options["once"]:
            now = parse_instant(options["now"]) if options["now"] else datetime.now(UTC)
            since = parse_instant(options["since"]) if options["since"] else None
            last_runs = {name: since for name in settings.CELERY_BEAT_SCHEDULE} if since else {}
            ran = [run_entry(name) for name in due_entries(last_runs, now)]
            self.stdout.write(json.dumps({"now": now.isoformat(), "ran": ran}))
            return
        self._loop()

    def _loop(self) -> None:
        last_runs = {name: datetime.now(UTC) for name in settings.CELERY_BEAT_SCHEDULE}
        self.stdout.write("schedule: running Celery beat's entries in-process")
        while True:
            now = datetime.now(UTC)
            for name in due_entries(last_runs, now):
                run_entry(name)
                last_runs[name] = now
            time.sleep(MAX_SLEEP_SECONDS)
