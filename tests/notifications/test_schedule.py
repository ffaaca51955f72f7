"""Time travel: every report is sent exactly once per period, at 09:00 local time, across
time zones and daylight-saving changes; beat running twice, two workers, a failing mail
server and a worker killed mid-send never cause a second mail (nor a lost one, except in
the documented hand-over window)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stats.notifications import deliveries, services
from stats.notifications.models import Delivery, DeliveryStatus
from stats.notifications.periods import latest_due, period_containing
from tests.factories import SiteFactory
from tests.notifications.conftest import parts

ZONES = ["Europe/Berlin", "America/New_York"]


class Killed(BaseException):
    """A worker dying: not an ``Exception``, so nothing in the send path catches it."""


def period_of(message) -> tuple[str, str]:
    """The period a report mail covers, read from its plain-text part."""
    text = parts(message)["text/plain"][0].get_content()
    return message["To"], text.splitlines()[1]


def run_every(step: timedelta, start: datetime, end: datetime):
    moment = start
    while moment < end:
        yield moment
        moment += step


# --- the period arithmetic, against its definition -----------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    frequency=st.sampled_from(["daily", "weekly", "monthly", "quarterly"]),
    zone=st.sampled_from([*ZONES, "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]),
    # hypothesis takes naive bounds and adds the zones itself
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),  # noqa: DTZ001
)
def test_latest_due_is_the_newest_whole_period_due_at_nine_local(frequency, zone, now):
    now = now.replace(tzinfo=UTC)
    period = latest_due(frequency, now, zone)
    tz = ZoneInfo(zone)
    # Due at 09:00 local time on the day after it ends, and not after now.
    local_due = period.due_at.astimezone(tz)
    assert (local_due.hour, local_due.minute) == (9, 0)
    assert local_due.date() == period.last_day + timedelta(days=1)
    assert period.due_at <= now
    # A whole calendar period of that frequency.
    assert period_containing(frequency, period.first_day) == (period.first_day, period.last_day)
    assert period_containing(frequency, period.last_day) == (period.first_day, period.last_day)
    # The next period is not due yet.
    following = period_containing(frequency, period.last_day + timedelta(days=1))
    next_due = datetime.combine(following[1] + timedelta(days=1), datetime.min.time(), tz)
    assert next_due.replace(hour=9) > now


def test_period_shapes():
    assert period_containing("weekly", date(2026, 3, 29)) == (date(2026, 3, 23), date(2026, 3, 29))
    assert period_containing("monthly", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_containing("monthly", date(2026, 12, 31)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert period_containing("quarterly", date(2026, 11, 5)) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )


# --- end to end through the real SMTP server -------------------------------------------------


# Ten days around each daylight-saving change of 2026 in each zone.
DST_WINDOWS = [
    ("America/New_York", date(2026, 3, 4)),  # springs forward on Sunday 8 March
    ("America/New_York", date(2026, 10, 28)),  # falls back on Sunday 1 November
    ("Europe/Berlin", date(2026, 3, 25)),  # springs forward on Sunday 29 March
    ("Europe/Berlin", date(2026, 10, 21)),  # falls back on Sunday 25 October
]


@pytest.mark.django_db
@pytest.mark.parametrize(("zone", "first"), DST_WINDOWS)
def test_daily_and_weekly_reports_once_per_period_across_dst(smtp_server, zone, first):
    """Beat every 30 minutes for ten days around a daylight-saving change: each day and each
    week is mailed once, by the first run at or after 09:00 local time."""
    site = SiteFactory(timezone=zone)
    tz = ZoneInfo(zone)
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(first + timedelta(days=10), datetime.min.time(), tz)
    services.report_create(site=site, email="daily@example.org", frequency="daily", now=start)
    services.report_create(site=site, email="weekly@example.org", frequency="weekly", now=start)

    for now in run_every(timedelta(minutes=30), start.astimezone(UTC), end):
        services.reports_send_due(now)

    daily = [period_of(m)[1] for m in smtp_server.messages if m["To"] == "daily@example.org"]
    weekly = [period_of(m)[1] for m in smtp_server.messages if m["To"] == "weekly@example.org"]
    # Subscribed at midnight: yesterday's report is due at 09:00 on the first day.
    days = [first - timedelta(days=1) + timedelta(days=n) for n in range(10)]
    assert daily == [f"Daily report for {d:%A} {d.day} {d:%B %Y}" for d in days]
    mondays = [d + timedelta(days=1) for d in days if d.weekday() == 6]
    assert len(mondays) >= 1
    assert [line.split(" for ")[1] for line in weekly] == [
        f"{(m - timedelta(days=7)).day}–{(m - timedelta(days=1)).day} "
        f"{(m - timedelta(days=1)):%b %Y}"
        if (m - timedelta(days=7)).month == (m - timedelta(days=1)).month
        else f"{(m - timedelta(days=7)).day} {(m - timedelta(days=7)):%b} – "
        f"{(m - timedelta(days=1)).day} {(m - timedelta(days=1)):%b %Y}"
        for m in mondays
    ]
    # Each was sent by the first run at or after 09:00 local, on the day after its period.
    for delivery in Delivery.objects.filter(status=DeliveryStatus.SENT):
        local = delivery.sent_at.astimezone(tz)
        assert local.date() == date.fromisoformat(delivery.payload["last"]) + timedelta(days=1)
        assert (local.hour, local.minute) == (9, 0), (delivery.key, local)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ZONES)
def test_monthly_and_quarterly_reports_once_per_period_with_irregular_runs(smtp_server, zone):
    """Beat at irregular times (up to 36 hours apart, as after outages) for a year that has
    both daylight-saving changes: every month and quarter once, none skipped."""
    site = SiteFactory(timezone=zone)
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo(zone))
    services.report_create(site=site, email="m@example.org", frequency="monthly", now=start)
    services.report_create(site=site, email="q@example.org", frequency="quarterly", now=start)
    rng = random.Random(17)
    now = start.astimezone(UTC)
    while now < datetime(2027, 1, 2, 12, tzinfo=UTC):
        services.reports_send_due(now)
        if rng.random() < 0.3:
            services.reports_send_due(now)  # beat running twice
        now += timedelta(minutes=rng.randint(5, 36 * 60))

    monthly = [period_of(m)[1] for m in smtp_server.messages if m["To"] == "m@example.org"]
    quarterly = [period_of(m)[1] for m in smtp_server.messages if m["To"] == "q@example.org"]
    # Subscribed at midnight on 1 January: December and Q4 2025 are due at 09:00 that day.
    assert monthly == ["Monthly report for December 2025"] + [
        f"Monthly report for {date(2026, month, 1):%B} 2026" for month in range(1, 13)
    ]
    assert quarterly == ["Quarterly report for Q4 2025"] + [
        f"Quarterly report for Q{n} 2026" for n in range(1, 5)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_mail(smtp_server):
    site = SiteFactory(timezone="Europe/Berlin")
    due = datetime(2026, 11, 30, 9, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    for n in range(5):
        services.report_create(
            site=site, email=f"r{n}@example.org", frequency="weekly", now=due - timedelta(days=2)
        )
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            services.reports_send_due(due)
        except Exception as error:  # pragma: no cover - shown by the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(m["To"] for m in smtp_server.messages) == [f"r{n}@example.org" for n in range(5)]
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 5


# --- failures and killed workers ----------------------------------------------------------------

DUE = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def weekly(db):
    site = SiteFactory(timezone="Europe/Berlin")
    return services.report_create(
        site=site, email="colleague@example.org", frequency="weekly", now=DUE - timedelta(days=2)
    )


def test_a_refused_mail_is_retried_with_backoff_and_sent_once(smtp_server, weekly):
    smtp_server.refuse_next("451 4.3.0 Mailbox busy")
    smtp_server.refuse_next("451 4.3.0 Mailbox busy")

    first = services.reports_send_due(DUE)
    assert first["sent"] == [] and first["failed"][0]["status"] == "failed"
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at == DUE + timedelta(minutes=1)
    # Not before its backoff: nothing happens 30 seconds later.
    assert services.reports_send_due(DUE + timedelta(seconds=30))["failed"] == []
    assert Delivery.objects.get().attempts == 1
    # Second try after 1 minute is refused too, the next one waits 2 minutes.
    services.reports_send_due(DUE + timedelta(minutes=1))
    assert Delivery.objects.get().next_attempt_at == DUE + timedelta(minutes=3)
    third = services.reports_send_due(DUE + timedelta(minutes=3))
    assert [s["recipient"] for s in third["sent"]] == ["colleague@example.org"]
    for later in (5, 60, 60 * 24):
        services.reports_send_due(DUE + timedelta(minutes=later))
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.get().attempts == 3
    assert [t.ok for t in Delivery.objects.get().tries.order_by("at")] == [False, False, True]


def test_a_worker_killed_after_claiming_is_replaced_and_one_mail_arrives(
    smtp_server, weekly, monkeypatch
):
    original = deliveries._mark_sending

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(deliveries, "_mark_sending", die)
    with pytest.raises(Killed):
        services.reports_send_due(DUE)
    monkeypatch.setattr(deliveries, "_mark_sending", original)
    assert smtp_server.messages == []
    assert Delivery.objects.get().status == DeliveryStatus.CLAIMED

    # Another run within the lease leaves it alone; after the lease it is sent once.
    assert services.reports_send_due(DUE + timedelta(minutes=5))["sent"] == []
    assert smtp_server.messages == []
    sent = services.reports_send_due(DUE + services.LEASE)["sent"]
    assert [s["attempt"] for s in sent] == [2]
    services.reports_send_due(DUE + timedelta(hours=2))
    assert len(smtp_server.messages) == 1


def test_a_worker_killed_after_the_server_accepted_never_sends_a_second_mail(
    smtp_server, weekly, monkeypatch
):
    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(deliveries, "_mark_sent", die)
    with pytest.raises(Killed):
        services.reports_send_due(DUE)
    monkeypatch.undo()
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENDING

    for later in (timedelta(minutes=1), services.LEASE, timedelta(hours=3), timedelta(days=6)):
        services.reports_send_due(DUE + later)
    assert len(smtp_server.messages) == 1
    # The log says what happened: the outcome of that hand-over is unknown.
    assert Delivery.objects.get().status == DeliveryStatus.UNKNOWN


def test_mail_server_down_then_up(settings, weekly, smtp_server):
    settings.EMAIL_PORT = 9  # discard: nothing listens, connection refused
    first = services.reports_send_due(DUE)
    assert first["failed"][0]["status"] == "failed"
    assert "refused" in first["failed"][0]["error"].lower()
    settings.EMAIL_PORT = smtp_server.port
    services.reports_send_due(DUE + timedelta(minutes=1))
    assert len(smtp_server.messages) == 1


def test_old_deliveries_are_purged_and_no_period_is_sent_again(smtp_server, db):
    site = SiteFactory(timezone="Europe/Berlin")
    start = datetime(2025, 12, 31, tzinfo=UTC)
    for frequency in ("monthly", "quarterly"):  # the longest periods are the ones at risk
        services.report_create(
            site=site, email=f"{frequency}@example.org", frequency=frequency, now=start
        )
    moment = start
    while moment < datetime(2027, 3, 1, tzinfo=UTC):  # more than a year of daily runs
        services.reports_send_due(moment)
        moment += timedelta(hours=23)
    # Rows older than the retention are gone; every period was still mailed once.
    oldest = Delivery.objects.order_by("created_at").first().created_at
    assert oldest >= moment - timedelta(hours=23) - services.DELIVERY_RETENTION
    keys = [m["To"] + " " + period_of(m)[1] for m in smtp_server.messages]
    assert len(keys) == len(set(keys))
    quarterly = [k for k in keys if k.startswith("quarterly")]
    assert quarterly == [
        f"quarterly@example.org Quarterly report for {q}"
        for q in ("Q4 2025", "Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026")
    ]
