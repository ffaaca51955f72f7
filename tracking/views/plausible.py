"""``POST /api/event``: Plausible's Events API.

A 202 may still drop things on purpose. ``x-plausible-dropped: 1`` (upstream's header,
value kept as clients compare it with ``1``) means the event was not recorded for at
least one of its domains; ``x-plausible-dropped-reason`` says why, as comma-separated
tokens: ``unknown_domain``, ``site_disabled``, a pipeline ``DropReason`` (``bot``,
``excluded_ip``, ``do_not_track``…), ``duplicate_domain``, and ``props_limit`` when props past the first 30
were discarded (the event itself recorded, so without ``x-plausible-dropped``).
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from sites import site_lookup
from tracking import ingest
from tracking.enrichment.client_ip import first_valid_ip
from tracking.http import (
    BodyTooLarge,
    InvalidBody,
    RequestFacts,
    ingestion_endpoint,
    read_json,
    visitor_ip,
)
from tracking.protocols.plausible import PlausibleError, parse_event, to_hit


def _errors(status: int, errors: dict) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


def _failure() -> JsonResponse:
    return _errors(500, {"request": ["internal error"]})


def _unavailable() -> JsonResponse:
    return _errors(503, {"request": ["temporarily unavailable, retry later"]})


@ingestion_endpoint(_failure, _unavailable)
def event(request: HttpRequest):
    if request.method != "POST":
        response = _errors(405, {"request": ["only POST is supported"]})
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        payload = read_json(request, settings.MAX_REQUEST_BYTES)
        parsed = parse_event(payload)
    except BodyTooLarge as exc:
        return _errors(413, {"request": [str(exc)]})
    except InvalidBody:
        return _errors(400, {"request": ["Unable to parse request body as json"]})
    except PlausibleError as exc:
        return _errors(400, exc.errors)
    facts = RequestFacts.of(request)
    user_agent = facts.user_agent
    if not user_agent.strip():
        return _errors(400, {"user_agent": ["can't be blank"]})
    # Plausible documents X-Forwarded-For as how senders set the visitor's IP.
    ip = visitor_ip(request, first_valid_ip(facts.forwarded_for) or "")
    if request.headers.get("X-Debug-Request", "").lower() == "true":
        return JsonResponse({"ip": ip}, status=200)
    sites = [site_lookup.site_by_domain(domain) for domain in parsed.domains]
    active = [s for s in dict.fromkeys(sites) if s is not None and s.tracking_state == "active"]
    reasons = ["unknown_domain" for s in sites if s is None]
    reasons += ["site_disabled" for s in sites if s is not None and s.tracking_state != "active"]
    hits = [
        to_hit(
            parsed,
            site,
            user_agent=user_agent,
            ip=ip,
            accept_language=facts.accept_language,
        )
        for site in active
    ]
    outcomes = ingest.accept(hits)  # BufferUnavailable: the decorator answers 503
    response = JsonResponse({}, status=202)
    reasons += [str(o.dropped) for o in outcomes if o.dropped]
    if not hits or reasons or len(active) < len(parsed.domains):
        response["x-plausible-dropped"] = "1"
        if not reasons:  # no domain left after trimming, or one site named twice
            reasons.append("duplicate_domain" if parsed.domains else "unknown_domain")
    if parsed.props_discarded:
        reasons.append("props_limit")
    if reasons:
        response["x-plausible-dropped-reason"] = ",".join(dict.fromkeys(reasons))
    return response
