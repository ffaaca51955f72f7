"""Alerts: each kind fires when it should and only then, the cooldown, emails with a
working unsubscribe, cheap checks (query counts), and the CLI."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stats.models import Goal
from stats.notifications import services
from stats.notifications.models import Alert, Delivery, SeenError, Webhook
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.notifications.conftest import parts

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def site():
    return SiteFactory(display_name="Shop", hostname="shop.example")


def visits(site, at: datetime, count: int, first_visitor: int = 1, **fields) -> None:
    store(
        [
            event_row(site.pk, at, visitor=first_visitor + n, session=first_visitor + n, **fields)
            for n in range(count)
        ]
    )


def error(site, at: datetime, message: str, path: str = "/checkout") -> None:
    store(
        [
            event_row(
                site.pk,
                at,
                kind="error",
                name="js_exception",
                path=path,
                props={"message": message, "source": "app.js", "line": 3},
                interactive=False,
            )
        ]
    )


def alert(site, kind: str, threshold=0, **options) -> Alert:
    return services.alert_create(
        site=site,
        kind=kind,
        threshold=threshold,
        emails=options.pop("emails", ["ops@example.org"]),
        now=options.pop("now", NOW - timedelta(days=1)),
        **options,
    )


def fired(now: datetime) -> list[str]:
    return [item["kind"] for item in services.alerts_check(now)["fired"]]


def test_spike_fires_at_the_threshold_and_respects_the_cooldown(smtp_server, site):
    alert(site, "spike", threshold=5)
    visits(site, NOW - timedelta(minutes=3), 4)
    assert fired(NOW) == []  # 4 < 5
    visits(site, NOW - timedelta(minutes=1), 1, first_visitor=50)
    assert fired(NOW) == ["spike"]  # 5 ≥ 5
    assert fired(NOW + timedelta(minutes=1)) == []  # cooling down
    visits(site, NOW + timedelta(hours=11), 9, first_visitor=100)
    assert fired(NOW + timedelta(hours=11, minutes=1)) == []  # still within 12 hours
    visits(site, NOW + timedelta(hours=12), 9, first_visitor=200)
    assert fired(NOW + timedelta(hours=12, minutes=1)) == ["spike"]
    assert len(smtp_server.messages) == 2
    message = smtp_server.messages[0]
    assert message["Subject"].strip() == "Traffic spike on Shop: 5 current visitors"
    text = parts(message)["text/plain"][0].get_content()
    assert "5 visitors in the last 5 minutes, at or above your threshold of 5." in text
    assert "Top pages: / (5)" in text


def test_the_alert_email_unsubscribe_removes_only_that_address(client, smtp_server, site):
    target = alert(site, "no-data", hours=6, emails=["ops@example.org", "cto@example.org"])
    assert fired(NOW) == ["no-data"]
    mail = next(m for m in smtp_server.messages if m["To"] == "ops@example.org")
    link = mail["List-Unsubscribe"].strip().strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = client.post(
        link.removeprefix("https://footfall.test"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.emails == ["cto@example.org"]


def test_drop_fires_below_the_threshold_only(site):
    alert(site, "drop", threshold=3, hours=2)
    visits(site, NOW - timedelta(hours=1), 3)
    assert fired(NOW) == []
    assert fired(NOW + timedelta(hours=1, minutes=30)) == ["drop"]  # 3 visitors left the window


def test_no_data_fires_when_nothing_arrived_for_hours(site):
    alert(site, "no-data", hours=6)
    visits(site, NOW - timedelta(hours=5, minutes=59), 1)
    assert fired(NOW) == []
    assert fired(NOW + timedelta(minutes=2)) == ["no-data"]


def test_goal_conversions_and_revenue(site):
    signup = Goal.objects.create(site=site, name="Signup", event_name="Signup")
    Goal.objects.create(site=site, name="Pricing", path_pattern="^/pricing$")
    alert(site, "goal", threshold=2, hours=24, goal=signup)
    alert(site, "goal", threshold=100, hours=24, metric="revenue")
    store(
        [
            event_row(
                site.pk,
                NOW - timedelta(hours=3),
                visitor=1,
                kind="custom",
                name="Signup",
                revenue_amount=Decimal("60.00"),
                revenue_currency="EUR",
            ),
            event_row(site.pk, NOW - timedelta(hours=2), visitor=2, path="/pricing"),
        ]
    )
    assert fired(NOW) == []  # 1 signup < 2, 60 EUR < 100
    store(
        [
            event_row(
                site.pk,
                NOW - timedelta(hours=1),
                visitor=3,
                session=3,
                kind="custom",
                name="Signup",
                revenue_amount=Decimal("40.00"),
                revenue_currency="EUR",
            )
        ]
    )
    result = services.alerts_check(NOW + timedelta(minutes=1))
    assert sorted(f["title"] for f in result["fired"]) == [
        "Signup on Shop: 2 conversions in 24 hours",
        "all goals on Shop: 100 revenue in 24 hours",
    ]


def test_a_new_error_fires_once_and_known_errors_never(smtp_server, site):
    error(site, NOW - timedelta(days=3), "TypeError: x is undefined")
    alert(site, "error", now=NOW - timedelta(hours=1))  # seeds the seen set
    assert SeenError.objects.filter(site=site).count() == 1

    error(site, NOW - timedelta(minutes=30), "TypeError: x is undefined")  # known
    assert fired(NOW) == []
    error(site, NOW + timedelta(minutes=1), "ReferenceError: cart is not defined")
    error(site, NOW + timedelta(minutes=2), "ReferenceError: cart is not defined")
    result = services.alerts_check(NOW + timedelta(minutes=3))
    assert [f["title"] for f in result["fired"]] == [
        "New JavaScript error on Shop: ReferenceError: cart is not defined"
    ]
    text = parts(smtp_server.messages[0])["text/plain"][0].get_content()
    assert "js_exception: ReferenceError: cart is not defined (2 times, /checkout)" in text
    # Seen now: the same message later is not new, even after the cooldown.
    error(site, NOW + timedelta(hours=13), "ReferenceError: cart is not defined")
    assert fired(NOW + timedelta(hours=13, minutes=1)) == []
    assert len(smtp_server.messages) == 1


def test_a_webhook_alert_and_two_checkers_fire_once(site, receiver):
    hook, _ = services.webhook_create(site=site, url=receiver.url, format="slack")
    alert(site, "spike", threshold=1, emails=[], webhook_ids=[hook.pk])
    visits(site, NOW - timedelta(minutes=1), 2)
    assert fired(NOW) == ["spike"]
    assert fired(NOW + timedelta(seconds=1)) == []  # a second beat run at the same time
    assert len(receiver.requests) == 1


def test_checks_read_little_and_nothing_while_cooling_down(site, django_assert_max_num_queries):
    """Cheap by construction: a fixed handful of indexed queries per alert, however much
    traffic the site had, and none while an alert cools down."""
    alert(site, "spike", threshold=1000)
    alert(site, "drop", threshold=1, hours=24)
    alert(site, "no-data", hours=6)
    visits(site, NOW - timedelta(hours=2), 200)
    visits(site, NOW - timedelta(minutes=2), 20, first_visitor=1000)
    with CaptureQueriesContext(connection) as queries:
        assert fired(NOW) == []
    stats_reads = [q["sql"] for q in queries if "tracking_event" in q["sql"]]
    assert len(stats_reads) == 3  # one windowed read per alert
    for sql in stats_reads:  # each bounded by the time window on the (site, timestamp) index
        assert re.search(r'"timestamp" >= .* AND "tracking_event"."timestamp" < ', sql), sql

    Alert.objects.update(last_fired_at=NOW)
    with django_assert_max_num_queries(4) as cooling:
        assert fired(NOW + timedelta(minutes=1)) == []
    assert not [q for q in cooling.captured_queries if "tracking_event" in q["sql"]]


def test_cli_alert_add_and_alerts_check_print_json(site, receiver):
    out = io.StringIO()
    call_command(
        "alert",
        "add",
        "--site",
        str(site.pk),
        "--kind",
        "spike",
        "--threshold",
        "2",
        "--webhook",
        receiver.url,
        "--format",
        "slack",
        stdout=out,
    )
    created = json.loads(out.getvalue())
    assert created["kind"] == "spike" and created["threshold"] == 2.0
    assert created["webhooks"][0]["format"] == "slack"
    assert created["webhooks"][0]["secret"].startswith("whsec_")
    visits(site, NOW - timedelta(minutes=1), 3)
    out = io.StringIO()
    call_command("alerts", "check", "--now", NOW.isoformat(), stdout=out)
    result = json.loads(out.getvalue())
    assert [f["kind"] for f in result["fired"]] == ["spike"]
    assert result["sent"][0]["channel"] == "webhook"
    assert len(receiver.requests) == 1


def test_cli_alert_add_refuses_bad_input_and_writes_nothing(site):
    cases = [
        (["--kind", "spike", "--threshold", "x", "--email", "a@b.org"], "threshold"),
        (["--kind", "spike", "--threshold", "1"], "at least one"),
        (["--kind", "spike", "--threshold", "1", "--email", "nope"], "not a valid email"),
        (
            ["--kind", "spike", "--threshold", "1", "--webhook", "https://127.0.0.1/x"],
            "private, loopback",
        ),
        (["--kind", "goal", "--threshold", "1", "--email", "a@b.org", "--goal", "Nope"], "goal"),
    ]
    for arguments, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("alert", "add", "--site", site.public_id, *arguments)
    assert Alert.objects.count() == 0
    assert Webhook.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_one_broken_alert_does_not_stop_the_others(smtp_server, site):
    # A goal whose pattern PostgreSQL (and Python) cannot compile.
    broken = Goal.objects.create(site=site, name="Broken", path_pattern="([unclosed")
    alert(site, "goal", threshold=1, hours=24, goal=broken)
    alert(site, "no-data", hours=6)
    assert fired(NOW) == ["no-data"]
    assert [m["To"] for m in smtp_server.messages] == ["ops@example.org"]
