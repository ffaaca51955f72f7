"""The beat schedule and the Celery tasks: registered, safe to redeliver, thin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from analytics_project.celery import app
from stats.notifications import services, tasks
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_beat_runs_reports_every_five_minutes_and_alerts_every_minute():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert str(schedule["stats.notifications.tasks.send_due_reports"]._orig_minute) == "*/5"
    assert str(schedule["stats.notifications.tasks.check_alerts"]._orig_minute) == "*"
    app.loader.import_default_modules()
    assert "stats.notifications.tasks.send_due_reports" in app.tasks
    assert "stats.notifications.tasks.check_alerts" in app.tasks


def test_tasks_are_redelivered_when_a_worker_dies_and_retry_database_errors():
    for task in (tasks.send_due_reports, tasks.check_alerts):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert OperationalError in task.autoretry_for


def test_the_report_task_sends_once_however_often_it_runs(smtp_server):
    site = SiteFactory(timezone="Pacific/Auckland")
    services.report_create(
        site=site,
        email="daily@example.org",
        frequency="daily",
        now=timezone.now() - timedelta(days=3),
    )
    for _ in range(3):
        tasks.send_due_reports.apply().get()
    assert [m["To"] for m in smtp_server.messages] == ["daily@example.org"]


def test_the_alert_task_checks_alerts(smtp_server):
    site = SiteFactory()
    services.alert_create(site=site, kind="no-data", hours=1, emails=["ops@example.org"])
    result = tasks.check_alerts.apply().get()
    assert [f["kind"] for f in result["fired"]] == ["no-data"]
    assert [m["To"] for m in smtp_server.messages] == ["ops@example.org"]
