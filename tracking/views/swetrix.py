"""Swetrix's Events API: ``POST /log`` (and ``/log/``), ``/log/custom``, ``/log/hb``,
``/log/error``, the pixel ``GET /log/noscript``, and Nest's JSON 404 for any other ``/log/…``
path (``/log/identify`` and ``/log/revenue`` are not in our contract: docs/protocols.md)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from sites import site_lookup
from tracking import ingest
from tracking.hits import DropReason, Kind
from tracking.http import (
    BodyTooLarge,
    InvalidBody,
    RequestFacts,
    ingestion_endpoint,
    read_json,
    visitor_ip,
)
from tracking.protocols.swetrix import (
    TRANSPARENT_GIF,
    SwetrixError,
    build_hit,
    build_noscript_hit,
    check_site,
    require_pid,
)
from tracking.protocols.swetrix import not_found as route_not_found


def _error(error: SwetrixError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status)


def _failure() -> JsonResponse:
    return _error(SwetrixError(500, "Internal server error"))


def _unavailable() -> JsonResponse:
    """A database or event-buffer outage: Swetrix's documented answer is 500 "try again
    later" (the seed), so its clients treat it as such; ``Retry-After`` says when."""
    return _error(
        SwetrixError(
            500,
            "The event could not be stored because of a temporary problem, please try again later",
        )
    )


def _record(request: HttpRequest, kind: Kind) -> JsonResponse:
    if request.method != "POST":
        return _error(SwetrixError(400, f"Cannot {request.method} {request.path}"))
    try:
        payload = read_json(request, settings.MAX_REQUEST_BYTES)
        site = check_site(site_lookup.site_by_public_id(require_pid(payload)))
        facts = RequestFacts.of(request)
        ip = visitor_ip(request, facts.client_ip_address)
        hit = build_hit(
            site,
            payload,
            kind,
            user_agent=facts.user_agent,
            ip=ip,
            accept_language=facts.accept_language,
        )
        [outcome] = ingest.accept([hit])
    except BodyTooLarge:
        return _error(SwetrixError(413, "Request entity too large"))
    except InvalidBody:
        return _error(SwetrixError(400, "Request body must be valid JSON"))
    except SwetrixError as error:
        return _error(error)
    if outcome.dropped == DropReason.NOT_UNIQUE:
        return _error(SwetrixError(403, "Only unique events are recorded for this session"))
    return JsonResponse({}, status=201)


@ingestion_endpoint(_failure, _unavailable)
def pageview(request):
    return _record(request, Kind.PAGEVIEW)


@ingestion_endpoint(_failure, _unavailable)
def custom(request):
    return _record(request, Kind.CUSTOM)


@ingestion_endpoint(_failure, _unavailable)
def heartbeat(request):
    return _record(request, Kind.HEARTBEAT)


@ingestion_endpoint(_failure, _unavailable)
def error(request):
    return _record(request, Kind.ERROR)


@ingestion_endpoint(_failure, _unavailable)
def noscript(request):
    """The ``<noscript>`` pixel: a page view, answered with a 1×1 GIF (bots too, unrecorded)."""
    if request.method != "GET":
        return _error(route_not_found(request.method, request.path))
    try:
        site = check_site(site_lookup.site_by_public_id(require_pid(dict(request.GET.items()))))
        facts = RequestFacts.of(request)
        hit = build_noscript_hit(
            site,
            page_url=facts.referer,
            user_agent=facts.user_agent,
            ip=visitor_ip(request),
            accept_language=facts.accept_language,
        )
        ingest.accept([hit])
    except SwetrixError as error:
        return _error(error)
    response = HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "no-store"  # every page view must reach us, not a cache
    return response


@ingestion_endpoint(_failure, _unavailable)
def not_found(request):
    return _error(route_not_found(request.method, request.path))
