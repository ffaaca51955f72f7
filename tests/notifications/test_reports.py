"""Scheduled reports through a real SMTP server: content, chart, text part, headers, the
unsubscribe link followed end to end, and the CLI."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.core.management import call_command
from PIL import Image

from stats.models import Goal
from stats.notifications import services
from stats.notifications.models import Delivery, Report
from stats.rollups import rollup_site
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store
from tests.notifications.conftest import parts

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 30 November 2026, 09:00 in Berlin: the week 23–29 November is due.
DUE = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour), tzinfo=BERLIN)


def seed_two_weeks(site) -> None:
    """Last week (23–29 Nov): 7 visitors; the week before: 4 visitors."""
    rows = []
    # Monday: three visitors from Google in Germany on desktops, reading /pricing.
    for n in range(3):
        rows.append(
            event_row(
                site.pk,
                at(23),
                visitor=100 + n,
                session=100 + n,
                path="/pricing",
                source="Google",
                referrer="https://www.google.com/",
                country_code="DE",
                device_type="desktop",
            )
        )
    # Visitor 100 reads a second page in the same session: not a bounce.
    rows.append(
        event_row(
            site.pk,
            at(23, 13),
            visitor=100,
            session=100,
            path="/docs",
            country_code="DE",
            device_type="desktop",
            source="Google",
            referrer="https://www.google.com/",
        )
    )
    # Wednesday: four direct visitors from France on phones, reading /blog.
    for n in range(4):
        rows.append(
            event_row(
                site.pk,
                at(25),
                visitor=200 + n,
                session=200 + n,
                path="/blog",
                country_code="FR",
                device_type="mobile",
            )
        )
    # One signup conversion worth 49.90 EUR.
    rows.append(
        event_row(
            site.pk,
            at(25, 14),
            visitor=200,
            session=200,
            kind="custom",
            name="Signup",
            path="/blog",
            revenue_amount=Decimal("49.90"),
            revenue_currency="EUR",
            country_code="FR",
            device_type="mobile",
        )
    )
    # The week before: four visitors.
    for n in range(4):
        rows.append(event_row(site.pk, at(17), visitor=300 + n, session=300 + n, path="/"))
    store(rows)


@pytest.fixture
def site():
    site = SiteFactory(
        display_name="Example Blog", hostname="blog.example", timezone="Europe/Berlin"
    )
    Goal.objects.create(site=site, name="Signup", event_name="Signup")
    seed_two_weeks(site)
    return site


def send_due(now: datetime) -> dict:
    out = io.StringIO()
    call_command("reports", "send-due", "--now", now.isoformat(), stdout=out)
    return json.loads(out.getvalue())


def subscribe(site, email: str, every: str = "weekly", created=DUE - timedelta(days=3)) -> Report:
    return services.report_create(site=site, email=email, frequency=every, now=created)


@pytest.mark.parametrize("rolled_up", [False, True], ids=["raw events", "rollups"])
def test_weekly_report_arrives_with_numbers_chart_text_and_headers(smtp_server, site, rolled_up):
    if rolled_up:
        rollup_site(site)
    subscribe(site, "colleague@example.org")

    result = send_due(DUE)

    assert [s["recipient"] for s in result["sent"]] == ["colleague@example.org"]
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "colleague@example.org"
    # Django folds long encoded subjects after "Subject:"; the parser keeps that space.
    assert message["Subject"].strip() == (
        "Example Blog · weekly report · 23–29 Nov 2026: 7 visitors (+75%)"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https://footfall\.test/notifications/unsubscribe/[^>]+>",
        message["List-Unsubscribe"].strip(),
    )
    assert message["Auto-Submitted"] == "auto-generated"

    found = parts(message)
    text = found["text/plain"][0].get_content()
    html = found["text/html"][0].get_content()
    assert "Visitors: 7 (+75%)" in text
    assert "Page views: 8 (+100%)" in text  # 4 + 4 page views against 4
    assert "Bounce rate: 71%" in text  # 5 of 7: visitor 100 read two pages, 200 signed up
    assert "Revenue (EUR): 49.90 (new)" in text
    assert "Goal: Signup: 1 (new)" in text
    top_pages = text.split("Top pages:")[1].split("Top sources:")[0]
    assert top_pages.split() == [
        "/blog:",
        "4",
        "visitors",
        "/pricing:",
        "3",
        "visitors",
        "/docs:",
        "1",
        "visitor",
    ]
    sources = text.split("Top sources:")[1].split("Top countries:")[0]
    assert sources.split() == ["Google:", "3", "visitors"]  # no "Direct"
    assert "France: 4 visitors" in text and "Germany: 3 visitors" in text
    assert "Mobile: 4 visitors" in text and "Desktop: 3 visitors" in text
    # The recipient is not a member: no dashboard link.
    assert "/sites/" not in text and "/sites/" not in html

    # The chart is an inline PNG part the HTML refers to by cid; no remote images at all.
    image = found["image/png"][0]
    assert image["Content-ID"] == "<visitors-chart>"
    assert image.get_content_disposition() == "inline"
    png = Image.open(io.BytesIO(image.get_content()))
    assert png.format == "PNG" and png.size == (560, 140)
    assert 'src="cid:visitors-chart"' in html
    assert re.findall(r'<img[^>]+src="(?!cid:)', html) == []
    assert "Visitors per day, 23–29 Nov 2026: 23 Nov 3, 24 Nov 0, 25 Nov 4" in html
    unsubscribe = re.search(r"Unsubscribe: (\S+)", text).group(1)
    assert f"<{unsubscribe}>" == message["List-Unsubscribe"].strip()
    assert unsubscribe in html


def test_members_get_a_dashboard_link(smtp_server, site):
    member = UserFactory(email="member@example.org")
    SiteMembershipFactory(site=site, user=member, role="viewer")
    subscribe(site, "member@example.org")

    send_due(DUE)

    text = parts(smtp_server.messages[0])["text/plain"][0].get_content()
    assert (
        f"Open the dashboard: https://footfall.test/sites/{site.public_id}/"
        "?period=custom&from=2026-11-23&to=2026-11-29" in text
    )


def test_the_unsubscribe_link_works_end_to_end_without_logging_in(client, smtp_server, site):
    report = subscribe(site, "colleague@example.org")
    other = subscribe(site, "colleague@example.org", every="monthly")
    send_due(DUE)
    text = parts(smtp_server.messages[0])["text/plain"][0].get_content()
    link = re.search(r"Unsubscribe: (\S+)", text).group(1)
    path = link.removeprefix("https://footfall.test")

    # A link scanner's GET changes nothing; the page asks to confirm.
    page = client.get(path)
    assert page.status_code == 200
    assert b"colleague@example.org" in page.content
    assert Report.objects.filter(pk=report.pk).exists()

    # The confirmation form posts back to the same URL, without CSRF token or session.
    action = re.search(rb'<form method="post" action="([^"]+)"', page.content).group(1).decode()
    assert action == path
    done = client.post(action, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    assert not Report.objects.filter(pk=report.pk).exists()
    assert Report.objects.filter(pk=other.pk).exists()  # only that report

    # The next week sends only the monthly report (due on 1 December) to that address.
    sent = send_due(DUE + timedelta(days=7))["sent"]
    assert [item["key"] for item in sent] == [f"report:{other.pk}:2026-11-01"]


def test_one_click_unsubscribe_from_the_header(client, smtp_server, site):
    report = subscribe(site, "colleague@example.org")
    send_due(DUE)
    header = smtp_server.messages[0]["List-Unsubscribe"].strip().strip("<>")
    # RFC 8058: the mail client POSTs this body to the header's URL.
    response = client.post(
        header.removeprefix("https://footfall.test"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Report.objects.filter(pk=report.pk).exists()


def test_a_forged_unsubscribe_token_is_refused(client, smtp_server, site):
    report = subscribe(site, "colleague@example.org")
    victim = subscribe(site, "boss@example.org")
    send_due(DUE)
    link = parts(smtp_server.messages[0])["text/plain"][0].get_content()
    token = re.search(r"unsubscribe/(\S+)", link).group(1)
    # Swap the signed id and address for another report's: the signature no longer matches.
    payload, rest = token.split(":", 1)
    assert json.loads(signing.b64_decode(payload.encode()))["i"] == report.pk
    forged_payload = signing.b64_encode(
        json.dumps(
            {"k": "r", "i": victim.pk, "e": "boss@example.org"}, separators=(",", ":")
        ).encode()
    ).decode()
    forged = f"{forged_payload}:{rest}"
    for bad in (forged, token[:-2] + "xx", "not-a-token"):
        assert client.post(f"/notifications/unsubscribe/{bad}").status_code == 404
        assert client.get(f"/notifications/unsubscribe/{bad}").status_code == 404
    assert Report.objects.filter(pk__in=[report.pk, victim.pk]).count() == 2


def test_cli_report_add_prints_json(site):
    out = io.StringIO()
    call_command(
        "report",
        "add",
        "--site",
        str(site.pk),
        "--email",
        "Ops@Example.org",
        "--every",
        "daily",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["email"] == "ops@example.org"
    assert data["every"] == "daily"
    assert data["site"] == site.public_id
    assert Report.objects.get(pk=data["id"]).frequency == "daily"


def test_cli_report_add_refuses_bad_input(site):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a valid email"):
        call_command(
            "report", "add", "--site", site.public_id, "--email", "nope", "--every", "daily"
        )
    with pytest.raises(CommandError, match="Unknown site"):
        call_command("report", "add", "--site", "999999", "--email", "a@b.org", "--every", "daily")
    assert Report.objects.count() == 0


def test_a_report_is_not_sent_for_a_period_due_before_it_was_created(smtp_server, site):
    subscribe(site, "late@example.org", created=DUE + timedelta(hours=1))
    assert send_due(DUE + timedelta(hours=2))["sent"] == []
    assert smtp_server.messages == []
    assert Delivery.objects.count() == 0


def test_a_viewer_removed_from_the_site_gets_no_more_reports(smtp_server, site):
    from sites.models import SiteMembership

    viewer = UserFactory(email="viewer@example.org")
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    services.report_create(
        site=site,
        email=viewer.email,
        frequency="weekly",
        user=viewer,
        now=DUE - timedelta(days=3),
    )
    colleague = subscribe(site, "colleague@example.org")  # added by an Owner: deliberate
    SiteMembership.objects.filter(user=viewer).delete()

    sent = send_due(DUE)["sent"]

    assert [item["recipient"] for item in sent] == ["colleague@example.org"]
    assert list(Report.objects.values_list("pk", flat=True)) == [colleague.pk]
