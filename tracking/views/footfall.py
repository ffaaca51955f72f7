"""The Footfall snippet: its two script files and its collection endpoint ``POST /api/collect``."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sites import site_lookup
from tracking import ingest, snippet
from tracking.http import (
    BodyTooLarge,
    InvalidBody,
    RequestFacts,
    ingestion_endpoint,
    read_json,
    visitor_ip,
)
from tracking.protocols.footfall import CollectError, parse_collection, to_hit

SCRIPT_DIR = Path(settings.BASE_DIR) / "static" / "js"
SCRIPT_MAX_AGE_SECONDS = 3600
_scripts: dict[str, tuple[tuple, bytes, str]] = {}
_scripts_lock = threading.Lock()


def _script(name: str) -> tuple[bytes, str] | None:
    """The built file and its ETag, re-read only when the file changes."""
    path = SCRIPT_DIR / name
    try:
        stat = path.stat()
    except OSError:
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _scripts.get(name)
    if cached is None or cached[0] != version:
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with _scripts_lock:
            _scripts[name] = cached = (version, body, etag)
    return cached[1], cached[2]


def _serve_script(request: HttpRequest, name: str) -> HttpResponse:
    """Any page may load the script (CORS ``*``); browsers keep it an hour, then revalidate."""
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse("Method not allowed\n", status=405, content_type="text/plain")
        response["Allow"] = "GET, HEAD"
        return response
    found = _script(name)
    if found is None:
        return HttpResponse("/* not built */\n", status=404, content_type="text/javascript")
    body, etag = found
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@csrf_exempt
def core_script(request: HttpRequest) -> HttpResponse:
    return _serve_script(request, "footfall.js")


@csrf_exempt
def behaviour_script(request: HttpRequest) -> HttpResponse:
    return _serve_script(request, "footfall.behaviour.js")


def _error(error: CollectError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status)


def _failure() -> JsonResponse:
    return _error(CollectError(500, "internal_error", "internal error"))


def _unavailable() -> JsonResponse:
    return _error(CollectError(503, "unavailable", "temporarily unavailable, retry later"))


@ingestion_endpoint(_failure, _unavailable)
def collect(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = _error(CollectError(405, "method_not_allowed", "only POST is supported"))
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        collection = parse_collection(read_json(request, settings.MAX_REQUEST_BYTES))
    except BodyTooLarge:
        return _error(
            CollectError(
                413,
                "payload_too_large",
                f"the body must be at most {settings.MAX_REQUEST_BYTES} bytes",
            )
        )
    except InvalidBody:
        return _error(CollectError(400, "invalid_json", "the body is not valid JSON"))
    except CollectError as error:
        return _error(error)
    site = site_lookup.site_by_public_key(collection.key)
    if site is None:
        return _error(CollectError(404, "unknown_site", "no site has this public key", "k"))
    if site.tracking_state != "active":
        return _error(CollectError(403, "site_disabled", "tracking is turned off for this site"))
    # Signals of a collector the site turned off are dropped by the pipeline (counted).
    enabled = snippet.collectors_for_site(site.id)
    facts = RequestFacts.of(request)
    ip = visitor_ip(request)
    hits = [
        to_hit(
            collection,
            signal,
            site,
            user_agent=facts.user_agent,
            ip=ip,
            accept_language=facts.accept_language,
            do_not_track=facts.do_not_track,
        )
        for signal in collection.signals
    ]
    outcomes = ingest.accept(hits)  # BufferUnavailable: the decorator answers 503
    accepted = sum(1 for outcome in outcomes if outcome.event_id)
    return JsonResponse(
        {
            "accepted": accepted,
            "dropped": len(collection.signals) - accepted,
            "collectors": sorted(enabled),
        },
        status=202,
    )
