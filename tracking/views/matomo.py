"""``/matomo.php`` and ``/piwik.php``: Matomo's Tracking HTTP API, single and bulk."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.authentication import matomo_token_site_role
from accounts.models import ROLE_RANK, Role
from tracking import ingest, site_lookup
from tracking.http import BodyTooLarge, client_ip, ingestion_endpoint, read_body, retry_after
from tracking.protocols.matomo import MatomoError, Request, build_hit, idsite_of

logger = logging.getLogger(__name__)

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


def _authorized(token_auth: str, site_id: int) -> bool:
    role = matomo_token_site_role(token_auth, site_id) if token_auth else None
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.ADMIN]


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, max_num_fields=500)


def _hit_for(request: HttpRequest, params: Request, token_auth: str, now: datetime):
    """A hit for one tracking request (raises MatomoError); None for an unknown site."""
    site = site_lookup.site_by_idsite(idsite_of(params))
    if site is None:
        raise MatomoError("Invalid idSite: the site does not exist.")
    if site.tracking_state != "active":
        raise MatomoError("Tracking is disabled for this site.")
    authorized = _authorized(params.get("token_auth", 64) or token_auth, site.id)
    override_ip = params.get("cip", 64) if authorized else ""
    return build_hit(
        site,
        params,
        authorized=authorized,
        header_user_agent=request.headers.get("User-Agent", ""),
        header_language=request.headers.get("Accept-Language", ""),
        ip=client_ip(request, protocol_ip=override_ip),
        now=now,
        cdt_max_age=timedelta(seconds=settings.MATOMO_CDT_MAX_AGE_SECONDS),
    ), authorized


def _bulk(request: HttpRequest, payload: dict) -> HttpResponse:
    requests = payload.get("requests")
    token_auth = payload.get("token_auth") if isinstance(payload.get("token_auth"), str) else ""
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
    now = datetime.now(UTC)
    hits, invalid, authenticated = [], [], False
    for index, item in enumerate(requests):
        if isinstance(item, str):
            query = urlsplit(item).query if "://" in item else item.lstrip("?")
            params = Request.from_pairs(_pairs(query))
        elif isinstance(item, dict):
            params = Request.from_pairs(
                (str(k), str(v)) for k, v in item.items() if isinstance(v, str | int | float)
            )
        else:
            invalid.append(index)
            continue
        try:
            hit, authorized = _hit_for(request, params, token_auth, now)
        except MatomoError:
            invalid.append(index)
            continue
        authenticated = authenticated or authorized
        hits.append(hit)
    try:
        ingest.accept(hits)
    except ingest.BufferUnavailable as exc:
        logger.warning("matomo: bulk request not accepted: %s", exc)
        response = JsonResponse(
            {"status": "error", "message": "temporarily unavailable, retry later"}, status=503
        )
        return retry_after(response, exc.retry_after)
    body = {"status": "success", "tracked": len(hits), "invalid": len(invalid)}
    if authenticated:
        body["invalid_indices"] = invalid
    return JsonResponse(body)


@ingestion_endpoint(_failure, _unavailable)
def track(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST", "HEAD"):
        return _text(405, "Only GET and POST are supported.")
    try:
        body = read_body(request, settings.MAX_BATCH_BYTES)
    except BodyTooLarge:
        return _text(413, "Request too large.")
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            payload = json.loads(stripped)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JsonResponse({"status": "error", "message": "invalid JSON body"}, status=400)
        if isinstance(payload, dict) and "requests" in payload:
            return _bulk(request, payload)
        return _text(400, 'A JSON body must be a bulk request: {"requests": [...]}.')
    if len(body) > settings.MAX_REQUEST_BYTES:
        return _text(413, "Request too large.")
    pairs = _pairs(request.META.get("QUERY_STRING", ""))
    try:
        pairs += _pairs(body.decode("utf-8"))  # form body (wins over the query)
    except UnicodeDecodeError:
        return _text(400, "The request body must be UTF-8 form data.")
    if not pairs:
        return _text(200, INFO_PAGE)
    params = Request.from_pairs(pairs)
    try:
        hit, _ = _hit_for(request, params, "", datetime.now(UTC))
        ingest.accept([hit])
    except MatomoError as exc:
        return _text(400, str(exc))
    except ingest.BufferUnavailable as exc:
        logger.warning("matomo: request not accepted: %s", exc)
        return retry_after(_unavailable(), exc.retry_after)
    if params.get("send_image") == "0":
        return HttpResponse(status=204)
    return HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
