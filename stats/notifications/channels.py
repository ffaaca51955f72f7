"""The two channels: email (Django's backends: SMTP from ``EMAIL_URL`` or an anymail
provider) and webhooks (``webhooks``). Each builds one message and hands it over; the
caller (``services``) records the outcome.

Emails are HTML with inline styles and a plain-text part, a chart as a related PNG part
(``cid:``), the ``List-Unsubscribe``/``List-Unsubscribe-Post`` headers (RFC 2369, RFC
8058) and no remote images or tracking pixels.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from email.mime.image import MIMEImage
from email.utils import formatdate
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from sites.models import Site
from stats.notifications import chart, webhooks
from stats.notifications.models import Webhook
from stats.notifications.periods import ReportPeriod
from stats.notifications.selectors import ReportData

UNSUBSCRIBE_SALT = "footfall.notifications.unsubscribe"
CHART_CID = "visitors-chart"


# --- links -----------------------------------------------------------------------------


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def unsubscribe_token(kind: str, object_id: int, email: str) -> str:
    """A signed, non-expiring token for one address on one report ("r") or alert ("a")."""
    return signing.dumps({"k": kind, "i": object_id, "e": email.lower()}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in ("r", "a"):
        return None
    if not isinstance(data.get("i"), int) or not isinstance(data.get("e"), str):
        return None
    return data


def unsubscribe_url(token: str) -> str:
    return f"{site_url()}/notifications/unsubscribe/{token}"


def dashboard_url(site: Site, first=None, last=None) -> str:
    url = f"{site_url()}/sites/{site.public_id}/"
    if first and last:
        url += "?" + urlencode(
            {"period": "custom", "from": first.isoformat(), "to": last.isoformat()}
        )
    return url


# --- email -----------------------------------------------------------------------------


def _message_id(key: str) -> str:
    local = re.sub(r"[^A-Za-z0-9.-]", ".", key)[:120]
    domain = (settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "footfall.local")[:100]
    return f"<{local}@{domain}>"


def _headers(key: str, unsubscribe: str | None) -> dict[str, str]:
    headers = {
        "Message-ID": _message_id(key),
        "Date": formatdate(localtime=False),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _percent(change: float | None) -> str:
    if change is None:
        return "new"
    sign = "+" if change > 0 else ""
    return f"{sign}{change * 100:.0f}%"


def _versus(value, previous, change: float | None) -> str:
    """The change against the previous period: "+12%", "new" (nothing before) or "–"."""
    if previous:
        return _percent(change)
    return "new" if value else "–"


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def report_kpi_rows(data: ReportData) -> list[dict]:
    kpis = data.kpis

    def row(label: str, key: str, fmt: Callable, *, lower_is_better: bool = False) -> dict:
        item = kpis[key]
        change = item["change"]
        good = change is not None and ((change < 0) if lower_is_better else (change > 0))
        return {
            "label": label,
            "value": fmt(item["value"]),
            "change": _versus(item["value"], item["previous"], change),
            "tone": "good" if good else ("bad" if change else "flat"),
        }

    rows = [
        row("Visitors", "visitors", lambda v: f"{v:,}"),
        row("Page views", "views", lambda v: f"{v:,}"),
        row("Bounce rate", "bounce_rate", lambda v: f"{v * 100:.0f}%", lower_is_better=True),
        row("Visit duration", "visit_duration", _duration),
    ]
    for revenue in data.revenue:
        change = revenue["change"]
        rows.append(
            {
                "label": f"Revenue ({revenue['currency'] or 'no currency'})",
                "value": f"{revenue['value']:,.2f}",
                "change": _versus(revenue["value"], revenue["previous"], change),
                "tone": "good" if change and change > 0 else ("bad" if change else "flat"),
            }
        )
    for goal in data.goals:
        change = goal["change"]
        rows.append(
            {
                "label": f"Goal: {goal['name']}",
                "value": f"{goal['conversions']:,}",
                "change": _versus(goal["conversions"], goal["previous"], change),
                "tone": "good" if change and change > 0 else ("bad" if change else "flat"),
            }
        )
    return rows


def report_email(
    *,
    site: Site,
    email: str,
    report_id: int,
    period: ReportPeriod,
    data: ReportData,
    key: str,
    member: bool,
    test: bool = False,
) -> EmailMultiAlternatives:
    token = unsubscribe_token("r", report_id, email)
    unsubscribe = unsubscribe_url(token)
    visitors = data.kpis["visitors"]
    subject = (
        f"{'[Test] ' if test else ''}{site.display_name} · {period.frequency} report · "
        f"{period.label}: {visitors['value']:,} visitors"
    )
    if visitors["previous"]:
        subject += f" ({_percent(visitors['change'])})"
    context = {
        "site": site,
        "period": period,
        "data": data,
        "kpis": report_kpi_rows(data),
        "chart_cid": CHART_CID,
        "chart_alt": (
            f"Visitors per day, {period.label}: "
            + ", ".join(f"{day:%d %b} {value}" for day, value in data.series)
        ),
        "dashboard_url": dashboard_url(site, period.first_day, period.last_day) if member else "",
        "unsubscribe_url": unsubscribe,
        "test": test,
    }
    text = render_to_string("notifications/report_email.txt", context)
    html = render_to_string("notifications/report_email.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers=_headers(key, unsubscribe),
    )
    message.attach_alternative(html, "text/html")
    # multipart/related around the alternatives: the HTML part refers to the chart by cid.
    message.mixed_subtype = "related"
    image = MIMEImage(chart.visitors_png([value for _day, value in data.series]), "png")
    image.add_header("Content-ID", f"<{CHART_CID}>")
    image.add_header("Content-Disposition", "inline", filename="visitors.png")
    message.attach(image)
    return message


def alert_email(*, site: Site, email: str, payload: dict, key: str) -> EmailMultiAlternatives:
    alert_id = payload.get("alert", {}).get("id")
    unsubscribe = unsubscribe_url(unsubscribe_token("a", alert_id, email)) if alert_id else None
    context = {"site": site, "message": payload, "unsubscribe_url": unsubscribe}
    message = EmailMultiAlternatives(
        subject=payload["title"],
        body=render_to_string("notifications/alert_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers=_headers(key, unsubscribe),
    )
    message.attach_alternative(
        render_to_string("notifications/alert_email.html", context), "text/html"
    )
    return message


class EmailSender:
    """One SMTP (or provider) connection per run, opened before a delivery is marked as
    being sent, so a refused connection is a plain, retryable failure."""

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
        self._open = False

    def prepare(self) -> None:
        if not self._open:
            self.connection.open()
            self._open = True

    def send(self, message: EmailMultiAlternatives) -> None:
        message.connection = self.connection
        if self.connection.send_messages([message]) != 1:
            raise OSError("the mail backend did not accept the message")

    def close(self) -> None:
        if self._open:
            try:
                self.connection.close()
            finally:
                self._open = False

    def reset(self) -> None:
        """After a failure the connection may be unusable: the next message opens anew."""
        # A broken connection cannot be closed cleanly; it is dropped all the same.
        with contextlib.suppress(Exception):
            self.close()
        self._open = False


# --- webhooks --------------------------------------------------------------------------


def webhook_request(
    webhook: Webhook, payload: dict, *, delivery_id: int, event: str
) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of one webhook POST (signed over the exact body)."""
    body = webhooks.encode(webhooks.render(webhook.format, webhook.url, payload))
    timestamp = int(time.time())
    secret = webhooks.unseal(webhook.secret_sealed)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Footfall-Webhooks/1",
        "Footfall-Event": event,
        "Footfall-Delivery": str(delivery_id),
        webhooks.SIGNATURE_HEADER: webhooks.sign(secret, body, timestamp),
    }
    return webhooks.delivery_url(webhook.url, webhook.format), body, headers
