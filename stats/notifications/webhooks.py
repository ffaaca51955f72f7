"""Webhooks: the SSRF guard, the signature, sealed secrets, payload formats and the POST.

Security, in the order a delivery meets it:
1. ``check_url``: https only, and every address the host resolves to must be public
   (no private, loopback, link-local, reserved, multicast or unspecified address), unless
   ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is set. Checked when a webhook is saved and again
   at every delivery, so switching the DNS record after saving does not help.
2. ``post``: connects to the very address the check approved (no second lookup a DNS
   rebinding could answer differently), sends the host name in ``Host`` and TLS SNI, and
   never follows redirects.
3. ``sign``: ``Footfall-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
   (docs/notifications.md shows how to verify it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError

SIGNATURE_HEADER = "Footfall-Signature"
RESPONSE_EXCERPT = 500


# --- secrets ---------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _fernet() -> Fernet:
    # A key of its own, derived from SECRET_KEY: a database dump alone reveals no secret.
    digest = hashlib.sha256(f"footfall.webhook-secret:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise ValueError("the webhook secret cannot be read (was SECRET_KEY changed?)") from error


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (docs/notifications.md); used by the tests' receiver."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- the SSRF guard --------------------------------------------------------------------


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str) -> Target:
    """The URL's target if a delivery may go there; ``ValidationError`` saying why not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    private_ok = allow_private()
    if scheme != "https" and not (scheme == "http" and private_ok):
        raise ValidationError("Webhook URLs must start with https://.")
    if not parts.hostname or parts.username or parts.password:
        raise ValidationError("Webhook URLs need a host name and no user name or password.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise ValidationError("The webhook URL's port is not valid.") from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValidationError(f"The host {parts.hostname} cannot be resolved.") from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise ValidationError(f"The host {parts.hostname} cannot be resolved.")
    if not private_ok:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise ValidationError(
                f"The host {parts.hostname} resolves to a private, loopback or link-local "
                f"address ({refused[0]}); set WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true to allow it."
            )
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Target(scheme, parts.hostname, port, path, addresses[0])


# --- sending ---------------------------------------------------------------------------


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with the host name for SNI and certificate checks."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Response:
    """POST ``body`` to ``url`` after the SSRF check; raises ``ValidationError`` (refused)
    or ``OSError``/``http.client.HTTPException`` (network). Redirects are not followed."""
    target = check_url(url)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.address, target.port, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(64 * 1024).decode("utf-8", "replace")
        return Response(
            response.status,
            text[:RESPONSE_EXCERPT],
            int((time.monotonic() - started) * 1000),
        )
    finally:
        connection.close()


# --- formats ---------------------------------------------------------------------------


def delivery_url(url: str, format: str) -> str:
    """Where the POST goes: ntfy takes JSON at the server's root (the topic in the body)."""
    if format != "ntfy":
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def _ntfy_topic(url: str) -> str:
    return urlsplit(url).path.strip("/").split("/")[-1]


# Titles, page paths and error messages come from tracked traffic: anyone can send them.
# In chat formats they must stay text (no mentions, links or formatting of their own).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|~<>!])")


def slack_escape(text: str) -> str:
    """Slack's documented escaping: ``<!channel>``, ``<@U…>`` and ``<url|label>`` become text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(text: str) -> str:
    """Markdown (Discord, Mattermost, Teams) as text: specials escaped, ``@`` mentions broken
    with a zero-width space (``@channel`` notifies a whole Mattermost channel)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")


def _escaped(message: dict, escape) -> tuple[str, str, dict[str, str]]:
    fields = message.get("fields") or {}
    return (
        escape(message["title"]),
        escape(message["text"]),
        {escape(str(label)): escape(str(value)) for label, value in fields.items()},
    )


def render(format: str, url: str, message: dict) -> dict:
    """The JSON body for one of the ready-made formats.

    ``message``: ``title``, ``text`` (plain lines), ``fields`` (label → value), ``link``
    (may be empty) and whatever else the generic JSON format carries (sent as-is).
    """
    link = message.get("link") or ""
    if format == "slack":
        title, text, fields = _escaped(message, slack_escape)
        lines = "\n".join(f"{label}: {value}" for label, value in fields.items())
        full_text = "\n".join(part for part in (text, lines) if part)
        blocks: list[dict] = [
            # plain_text is never parsed for mentions or links: the raw title is safe there.
            {"type": "header", "text": {"type": "plain_text", "text": message["title"][:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": full_text[:2900] or " "}},
        ]
        if link:
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the dashboard>"}],
                }
            )
        return {"text": f"{title}\n{full_text}"[:3000], "blocks": blocks}
    if format == "discord":
        title, text, fields = _escaped(message, markdown_escape)
        embed: dict = {
            "title": title[:256],
            "description": text[:4000],
            "fields": [
                {"name": label[:256], "value": value[:1024] or "-", "inline": True}
                for label, value in list(fields.items())[:25]
            ],
        }
        if link:
            embed["url"] = link
        return {"content": title[:2000], "embeds": [embed], "allowed_mentions": {"parse": []}}
    if format == "teams":
        title, text, fields = _escaped(message, markdown_escape)
        body: list[dict] = [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": text, "wrap": True},
        ]
        if fields:
            body.append(
                {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in fields.items()]}
            )
        card: dict = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if link:
            card["actions"] = [
                {"type": "Action.OpenUrl", "title": "Open the dashboard", "url": link}
            ]
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    if format == "mattermost":
        title, text, fields = _escaped(message, markdown_escape)
        lines = "\n".join(f"{label}: {value}" for label, value in fields.items())
        full_text = "\n".join(part for part in (text, lines) if part)
        suffix = f"\n[Open the dashboard]({link})" if link else ""
        return {"username": "Footfall", "text": f"#### {title}\n{full_text}{suffix}"}
    if format == "ntfy":
        # ntfy shows plain text unless told it is markdown.
        fields = message.get("fields") or {}
        lines = "\n".join(f"{label}: {value}" for label, value in fields.items())
        published = {
            "topic": _ntfy_topic(url),
            "title": message["title"],
            "message": "\n".join(p for p in (message["text"], lines) if p) or message["title"],
            "tags": ["chart_with_upwards_trend"],
        }
        if link:
            published["click"] = link
        return published
    return message  # generic JSON: the whole message (docs/notifications.md)


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
