"""HTTP plumbing shared by the ingestion endpoints: CORS, body limits, client IP, Retry-After.

The client IP comes from ``analytics_project.client_ip`` (one resolver for the whole product).

Kept free of protocol knowledge: each adapter in ``tracking/protocols/`` decides
its own status codes and bodies.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import Error as DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from analytics_project.client_ip import client_ip, trusted_proxies  # noqa: F401 - for the adapters
from tracking.errors import BufferUnavailable

logger = logging.getLogger(__name__)

ALLOWED_HEADERS = "content-type, x-client-ip-address, x-debug-request, authorization"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the ingestion views read from a request's headers, read once per request."""

    user_agent: str
    accept_language: str
    referer: str
    forwarded_for: str  # X-Forwarded-For (Plausible documents it for the visitor's address)
    client_ip_address: str  # X-Client-IP-Address (Swetrix's server-side form)
    do_not_track: bool  # DNT: 1 or Sec-GPC: 1
    origin: str

    @classmethod
    def of(cls, request: HttpRequest) -> RequestFacts:
        facts = request.__dict__.get("_footfall_facts")
        if facts is None:
            headers = request.headers
            facts = request.__dict__["_footfall_facts"] = cls(
                user_agent=headers.get("User-Agent", ""),
                accept_language=headers.get("Accept-Language", ""),
                referer=headers.get("Referer", ""),
                forwarded_for=headers.get("X-Forwarded-For", ""),
                client_ip_address=headers.get("X-Client-IP-Address", ""),
                do_not_track=headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1",
                origin=headers.get("Origin", ""),
            )
        return facts


def visitor_ip(request: HttpRequest, protocol_ip: str = "") -> str:
    """``client_ip``, resolved once per request and protocol-supplied address (a batch
    names few addresses; parsing the forwarding headers again per hit was ~14 % of a bulk)."""
    known = request.__dict__.setdefault("_footfall_client_ips", {})
    ip = known.get(protocol_ip)
    if ip is None:
        ip = known[protocol_ip] = client_ip(request, protocol_ip=protocol_ip)
    return ip


class BodyTooLarge(Exception):
    pass


class InvalidBody(Exception):
    """The body is not what the protocol expects (e.g. not JSON)."""


def read_body(request: HttpRequest, max_bytes: int) -> bytes:
    """The raw body, refusing anything over ``max_bytes`` (before reading it when possible)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes")
    try:
        body = request.body
    except Exception as exc:  # RequestDataTooBig, client disconnects
        raise BodyTooLarge(str(exc)) from exc
    if len(body) > max_bytes:
        raise BodyTooLarge(f"request body is larger than {max_bytes} bytes")
    return body


def storable_text(value):
    """Strings PostgreSQL can store: NUL characters dropped, lone surrogates (``"\\ud800"``
    is valid JSON) replaced, in every string of a decoded JSON value."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        if not value.isascii():
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {storable_text(key): storable_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable_text(item) for item in value]
    return value


def read_json(request: HttpRequest, max_bytes: int):
    """Parse the body as JSON whatever the Content-Type says (browsers send text/plain)."""
    body = read_body(request, max_bytes)
    try:
        return storable_text(json.loads(body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidBody("request body is not valid JSON") from exc


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let any page post to us without cookies: echo the Origin (or ``*``)."""
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", ALLOWED_HEADERS
    )[:1000]
    response["Access-Control-Max-Age"] = "86400"
    return response


# Seconds a client should wait when the database is unreachable (a restart takes seconds).
DATABASE_RETRY_AFTER = 5


def ingestion_endpoint(
    failure: Callable[[], HttpResponse],
    unavailable: Callable[[], HttpResponse],
    *,
    buffer_unavailable: Callable[[HttpRequest], HttpResponse] | None = None,
) -> Callable:
    """CSRF-exempt, CORS on every answer, preflight answered with 204.

    A database outage (site or key lookups) becomes ``unavailable()``, the protocol's 503,
    with ``Retry-After``: the request was not stored and is safe to retry. So does
    ``BufferUnavailable`` (the events could not be made durable), with the Retry-After
    it names, as ``buffer_unavailable(request)`` when a protocol answers that in another
    shape (Matomo's bulk requests): no view handles it itself. Any other unexpected
    exception becomes ``failure()`` (the protocol's own 500) instead of Django's HTML
    error page.
    """

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method == "OPTIONS":
                return with_cors(request, HttpResponse(status=204))
            try:
                response = view(request, *args, **kwargs)
            except DatabaseError as exc:
                logger.warning("ingestion endpoint %s: database unavailable: %s", request.path, exc)
                response = retry_after(unavailable(), DATABASE_RETRY_AFTER)
            except BufferUnavailable as exc:
                logger.warning("ingestion endpoint %s: not accepted: %s", request.path, exc)
                answer = buffer_unavailable(request) if buffer_unavailable else unavailable()
                response = retry_after(answer, exc.retry_after)
            except Exception:
                logger.exception("ingestion endpoint %s failed", request.path)
                response = failure()
            return with_cors(request, response)

        return wrapper

    return decorate


def retry_after(response: HttpResponse, seconds: int) -> HttpResponse:
    response["Retry-After"] = str(max(1, int(seconds)))
    return response
