"""``/matomo.php`` and ``/piwik.php``: Matomo's Tracking HTTP API, single and bulk.

Every answer carries ``Cache-Control: no-store`` (a cached GET beacon would never reach
us again) and, when the request has an ``Origin``, ``Access-Control-Allow-Credentials:
true``: Matomo's JavaScript tracker sends its XHR and beacons with credentials, and a
browser refuses the answer without that header.
"""

from __future__ import annotations

import base64
import functools
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.models import ROLE_RANK, Role
from analytics_project.ids import derived_uuid7
from sites import site_lookup
from sites.permissions import matomo_token_site_role
from tracking import drops, ingest
from tracking.hits import DropReason
from tracking.http import (
    BodyTooLarge,
    RequestFacts,
    ingestion_endpoint,
    read_body,
    visitor_ip,
)
from tracking.protocols.matomo import (
    MatomoError,
    Parsed,
    Request,
    build_hit,
    debug_trace,
    decode_query,
    idsite_of,
    is_utf8,
    replay_key,
)

# The 43-byte transparent 1×1 GIF every Matomo tracker expects.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
INFO_PAGE = (
    "Footfall: this is a Matomo-compatible tracking endpoint. Send tracking requests "
    "with idsite, rec=1 and url (see Matomo's Tracking HTTP API)."
)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _failure() -> HttpResponse:
    return _text(500, "Internal error: the request was not tracked.")


def _unavailable() -> HttpResponse:
    return _text(503, "Temporarily unavailable, retry later.")


def _authorized(token_auth: str, site_id: int, known: dict | None = None) -> bool:
    """Whether the token is an Owner's or Admin's key for the site. ``known`` remembers the
    answers within one bulk request: Matomo's log importer sends hundreds of hits with one
    token, and each lookup is a database query."""
    if known is not None and (token_auth, site_id) in known:
        return known[(token_auth, site_id)]
    role = matomo_token_site_role(token_auth, site_id) if token_auth else None
    allowed = role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.ADMIN]
    if known is not None:
        known[(token_auth, site_id)] = allowed
    return allowed


def _query_bytes(request: HttpRequest) -> bytes:
    # WSGI hands the query string over as one character per byte (PEP 3333).
    query = request.META.get("QUERY_STRING", "")
    try:
        return query.encode("latin-1")
    except UnicodeEncodeError:
        return query.encode("utf-8", "surrogatepass")


def _parse(
    request: HttpRequest,
    params: Request,
    token_auth: str,
    now: datetime,
    known_tokens: dict | None = None,
) -> Parsed:
    """Site, token and hit (or why not) for one tracking request."""
    parsed = Parsed(params=params)
    site = site_lookup.site_by_idsite(idsite_of(params))
    if site is None:
        parsed.refused = "Invalid idSite: the site does not exist."
        return parsed
    parsed.site = site
    parsed.authorized = _authorized(
        params.get("token_auth", 64) or token_auth, site.id, known_tokens
    )
    if site.tracking_state != "active":
        parsed.refused = "Tracking is disabled for this site."
        return parsed
    override_ip = params.get("cip", 64) if parsed.authorized else ""
    facts = RequestFacts.of(request)
    try:
        result = build_hit(
            site,
            params,
            authorized=parsed.authorized,
            header_user_agent=facts.user_agent,
            header_language=facts.accept_language,
            ip=visitor_ip(request, override_ip),
            now=now,
            cdt_max_age=timedelta(seconds=settings.MATOMO_CDT_MAX_AGE_SECONDS),
        )
    except MatomoError as exc:
        parsed.refused = str(exc)
        return parsed
    if isinstance(result, DropReason):
        parsed.dropped = str(result)
    else:
        parsed.hit = result
    return parsed


def _accept(entries: list[Parsed]) -> None:
    """Enqueue the hits in one call and count the adapter's own drops; raises
    ``ingest.BufferUnavailable`` when nothing could be made durable."""
    with_hits = [e for e in entries if e.hit is not None]
    if with_hits:
        hits = [hit for e in with_hits if (hit := e.hit) is not None]
        for entry, outcome in zip(with_hits, ingest.accept(hits), strict=True):
            entry.event_id = outcome.event_id or ""
            entry.dropped = str(outcome.dropped) if outcome.dropped else ""
    for entry in entries:
        if entry.dropped and entry.hit is None:
            # Only ``build_hit`` gives a drop reason here, and ``_parse`` calls it once the
            # site is found.
            assert entry.site is not None
            drops.count_drop(entry.site.id, entry.dropped)


def _replay_id(entry: Parsed, seen: dict[str, int]) -> None:
    """Back-dated hits of a bulk request (``cdt`` and ``cip`` with an Admin's token: a log
    importer replaying history) get ids derived from what was sent, so the same log imported
    twice is stored once. Identical hits within one request stay apart by their order."""
    hit = entry.hit
    if hit is None or not entry.authorized or hit.timestamp is None:
        return
    if not entry.params.get("cip") or not entry.params.get("cdt"):
        return
    key = replay_key(hit.site.id, entry.params)
    seen[key] = occurrence = seen.get(key, 0) + 1
    hit.event_id = str(derived_uuid7(f"{key}:{occurrence}", int(hit.timestamp.timestamp() * 1000)))


def _debugging(entry: Parsed, asked: bool) -> bool:
    return asked and entry.authorized


def _bulk(request: HttpRequest, payload: dict, url_params: Request) -> HttpResponse:
    requests = payload.get("requests")
    token = payload.get("token_auth")
    token_auth = token if isinstance(token, str) else ""
    if not isinstance(requests, list):
        return JsonResponse({"status": "error", "message": "requests must be a list"}, status=400)
    if len(requests) > settings.MAX_BATCH_EVENTS:
        return JsonResponse(
            {
                "status": "error",
                "message": f"at most {settings.MAX_BATCH_EVENTS} requests per bulk request",
            },
            status=400,
        )
    debug = url_params.flag("debug") or str(payload.get("debug")) in ("1", "True")
    now = datetime.now(UTC)
    entries: list[Parsed] = []
    debugged: list[bool] = []
    invalid: list[int] = []
    known_tokens: dict = {}
    replays: dict[str, int] = {}
    for index, item in enumerate(requests):
        try:
            if isinstance(item, str):
                query = urlsplit(item).query if "://" in item else item.lstrip("?")
                params = Request.from_query(query.encode("utf-8", "surrogatepass"))
            elif isinstance(item, dict):
                # Already decoded text: ``cs`` has nothing left to decode.
                params = Request.from_pairs(
                    (str(k), str(v)) for k, v in item.items() if isinstance(v, str | int | float)
                )
            else:
                raise MatomoError("A request must be a query string or an object.")
        except MatomoError as exc:
            params = Request({})
            entries.append(Parsed(params=params, refused=str(exc)))
            debugged.append(False)
            invalid.append(index)
            continue
        entry = _parse(request, params, token_auth, now, known_tokens)
        _replay_id(entry, replays)
        entries.append(entry)
        debugged.append(_debugging(entry, debug or params.flag("debug")))
        if entry.refused:
            invalid.append(index)
    # BufferUnavailable: answered in the bulk's JSON shape. A flag on this request for
    # ``_buffer_unavailable`` (read with getattr); HttpRequest declares no such attribute.
    request.footfall_bulk = True  # type: ignore[attr-defined]
    _accept(entries)
    if any(debugged):
        return _text(200, debug_trace(entries, debugged=debugged))
    body = {"status": "success", "tracked": len(entries) - len(invalid), "invalid": len(invalid)}
    if any(e.authorized for e in entries):
        body["invalid_indices"] = invalid
    return JsonResponse(body)


def _buffer_unavailable(request: HttpRequest) -> HttpResponse:
    """The events could not be made durable: a bulk request answers in its JSON shape."""
    if getattr(request, "footfall_bulk", False):
        return JsonResponse(
            {"status": "error", "message": "temporarily unavailable, retry later"}, status=503
        )
    return _unavailable()


def _matomo_headers(view):
    """No caching of any answer; credentials allowed for cross-origin callers."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        if RequestFacts.of(request).origin:
            response["Access-Control-Allow-Credentials"] = "true"
        return response

    return wrapper


@_matomo_headers
@ingestion_endpoint(_failure, _unavailable, buffer_unavailable=_buffer_unavailable)
def track(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST", "HEAD"):
        return _text(405, "Only GET and POST are supported.")
    try:
        body = read_body(request, settings.MAX_BATCH_BYTES)
    except BodyTooLarge:
        return _text(413, "Request too large.")
    query = _query_bytes(request)
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            payload = json.loads(stripped)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JsonResponse({"status": "error", "message": "invalid JSON body"}, status=400)
        if isinstance(payload, dict) and "requests" in payload:
            try:
                url_params = Request.from_query(query)
            except MatomoError:
                url_params = Request({})
            return _bulk(request, payload, url_params)
        return _text(400, 'A JSON body must be a bulk request: {"requests": [...]}.')
    if len(body) > settings.MAX_REQUEST_BYTES:
        return _text(413, "Request too large.")
    try:
        pairs, charset = decode_query(query, body)  # the form body wins over the query
    except MatomoError as exc:
        return _text(400, str(exc))
    if charset == "utf-8" and not is_utf8(body):
        return _text(400, "The request body must be UTF-8 form data (or name its charset in cs).")
    if not pairs:
        return _text(200, INFO_PAGE)
    params = Request.from_pairs(pairs, charset)
    entry = _parse(request, params, "", datetime.now(UTC))
    _accept([entry])  # BufferUnavailable: the decorator answers 503
    if _debugging(entry, params.flag("debug")):
        return _text(400 if entry.refused else 200, debug_trace([entry], debugged=[True]))
    if entry.refused:
        return _text(400, entry.refused)
    if params.get("send_image") == "0":
        return HttpResponse(status=204)
    return HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
