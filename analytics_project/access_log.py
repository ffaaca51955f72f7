"""Access and application logs that keep the product's promise: no visitor addresses.

gunicorn's default access log writes the peer address, the user agent and the whole query
string of every request: for a tracked hit that is the visitor's IP and browser, and for a
Matomo request ``token_auth`` and ``cip`` in clear. ``PrivateAccessLogger`` (set in
``gunicorn.conf.py``) writes the same combined format with:

* **no client address anywhere**: ``%(h)s`` is ``-`` on ingestion paths and, elsewhere, a
  day-scoped keyed digest of the client (``c:1a2b3c4d5e6f``) so an operator can still see
  that one caller failed forty log-ins today, but not who it was, nor follow it across days;
* on ingestion paths (the protocols' endpoints and the tracker scripts) **no user agent and
  no referrer** (the referrer is the visited page);
* query strings with **credentials and identifiers redacted** (``token_auth``, ``cip``,
  ``ip``, ``_id``, keys, tokens, passwords) and any **IP address** in another value replaced
  by ``[ip]``;
* no request-header or WSGI-environment atoms except a short allow-list (an operator who
  adds ``%({x-forwarded-for}i)s`` to the format gets ``-``).

``RedactingFilter`` applies the same query-string redaction to Django's own log records
(``django.server``, ``django.request``), attached to the console handler in ``settings.LOGGING``.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import re
from urllib.parse import quote, unquote, unquote_plus

from gunicorn.glogging import Logger

from analytics_project.ingest_paths import INGESTION_PREFIXES

# Query parameters whose values are never written (lower case, exact names).
SECRET_PARAMETERS = frozenset(
    {
        "token_auth",
        "cip",
        "ip",
        "_id",
        "cid",
        "uid",
        "_uid",
        "token",
        "key",
        "api_key",
        "access_token",
        "client_secret",
        "secret",
        "password",
        "ua",
    }
)
SAFE_REQUEST_HEADERS = frozenset({"host", "content-type", "content-length"})
REDACTED = "[redacted]"

_IP_CANDIDATE = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![\w.:])"
)
_QUERY_IN_TEXT = re.compile(r"\?([^\s\"'<>]*)")
_IP_FIELD_IN_TEXT = re.compile(r"\bip=[0-9A-Fa-f:.\[\]]*[0-9A-Fa-f.\]]")


def redact_ips(text: str) -> str:
    """Every valid IPv4 or IPv6 address in ``text`` replaced by ``[ip]``."""

    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return candidate
        return "[ip]"

    return _IP_CANDIDATE.sub(replace, text)


def redact_query(query: str) -> str:
    """A query string safe to log: secrets' values dropped, addresses in values masked."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
            parts.append(f"{name}={REDACTED}" if sep else name)
            continue
        decoded = unquote_plus(value)
        cleaned = redact_ips(decoded)
        parts.append(
            f"{redact_ips(unquote_plus(name))}{sep}"
            + (value if cleaned == decoded else quote(cleaned, safe="/:,;@[]"))
        )
    return "&".join(parts)


def redact_path(path: str) -> str:
    """The raw path (never decoded into the log: no injected newlines), addresses masked."""
    decoded = unquote(path)
    cleaned = redact_ips(decoded)
    return path if cleaned == decoded else quote(cleaned, safe="/[]")


def redact_uri(uri: str) -> str:
    path, sep, query = (uri or "").partition("?")
    return redact_path(path) + (sep + redact_query(query) if sep else "")


def is_ingestion_path(path: str) -> bool:
    return (path or "").startswith(INGESTION_PREFIXES)


def _client_label(environ: dict) -> str:
    """``c:`` and 12 hex digits of a keyed digest of the client and the day (UTC)."""
    try:
        from analytics_project.client_ip import keyed_digest, resolve_client_ip, trusted_proxies

        ip = resolve_client_ip(
            environ.get("REMOTE_ADDR", ""),
            forwarded_for=environ.get("HTTP_X_FORWARDED_FOR", ""),
            trusted_proxies=trusted_proxies(),
        )
        day = datetime.datetime.now(datetime.UTC).date().isoformat()
        return "c:" + keyed_digest(f"access-log|{day}|{ip}")[:12]
    except Exception:  # Django not configured (a bare gunicorn): no address either way
        return "-"


def private_atoms(atoms: dict, environ: dict) -> dict:
    """gunicorn's access-log atoms with addresses, credentials and identifiers removed."""
    path = environ.get("PATH_INFO", "") or ""
    ingestion = is_ingestion_path(path)
    safe = {
        key: value
        for key, value in atoms.items()
        if not key.endswith("}e")
        and not (key.endswith("}i") and key[1:-2] not in SAFE_REQUEST_HEADERS)
    }
    safe["h"] = "-" if ingestion else _client_label(environ)
    safe["r"] = " ".join(
        [
            str(environ.get("REQUEST_METHOD", "-")),
            redact_uri(environ.get("RAW_URI", "") or path),
            str(environ.get("SERVER_PROTOCOL", "-")),
        ]
    )
    safe["U"] = redact_path(path)
    safe["q"] = redact_query(environ.get("QUERY_STRING", "") or "")
    if ingestion:
        safe["a"] = "-"
        safe["f"] = "-"
    else:
        safe["f"] = redact_uri(str(atoms.get("f", "-")))
    return safe


class PrivateAccessLogger(Logger):
    """gunicorn's logger with ``private_atoms`` (``logger_class`` in gunicorn.conf.py).

    Its error log gets ``RedactingFilter`` too: gunicorn writes "Invalid request from
    ip=…" and "Error handling request <uri with query>" there.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())

    def atoms(self, resp, req, environ, request_time):
        return private_atoms(super().atoms(resp, req, environ, request_time), environ)


class RedactingFilter(logging.Filter):
    """Query strings in log messages lose credentials, identifiers and addresses; an
    ``ip=<address>`` field loses its address."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        if "?" not in message and "ip=" not in message:
            return True
        cleaned = _QUERY_IN_TEXT.sub(lambda m: "?" + redact_query(m.group(1)), message)
        cleaned = _IP_FIELD_IN_TEXT.sub(f"ip={REDACTED}", cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
