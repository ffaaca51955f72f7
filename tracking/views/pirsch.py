"""Pirsch's write API: ``/api/v1/hit``, ``/event``, ``/session`` and their ``/batch`` forms."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.api.auth import pirsch_principal
from accounts.models import Scope
from analytics_project.api_errors import pirsch_error
from sites import site_lookup
from sites.permissions import principal_may
from tracking import ingest
from tracking.hits import Kind
from tracking.http import (
    BodyTooLarge,
    InvalidBody,
    ingestion_endpoint,
    read_json,
    visitor_ip,
)
from tracking.protocols.pirsch import PirschValidationError, parse_hit, to_hit

SCOPES = {
    Kind.PAGEVIEW: Scope.WRITE_HITS,
    Kind.CUSTOM: Scope.WRITE_EVENTS,
    Kind.HEARTBEAT: Scope.WRITE_SESSIONS,
}


def _failure() -> HttpResponse:
    return pirsch_error(500, error=["internal error, the request was not stored"])


def _unavailable() -> HttpResponse:
    return pirsch_error(503, error=["temporarily unavailable, retry later"])


class Refused(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def _site_for(principal, parsed, scope: str):
    """The site a hit goes to: the client's own site, or the site named by the URL's host."""
    if principal.site_id is not None:
        site = site_lookup.site_by_id(principal.site_id)
    elif not parsed.fields["url"]:
        raise PirschValidationError(
            {"url": "url is required: this client is not bound to one domain"}
        )
    else:
        site = site_lookup.site_by_domain(parsed.host)
        if site is None:
            raise Refused(
                pirsch_error(404, error=[f"no domain found for hostname {parsed.host!r}"])
            )
    if site is None or not principal_may(principal, scope, site.id):
        raise Refused(
            pirsch_error(403, error=["the client is not allowed to send data for this domain"])
        )
    if site.tracking_state != "active":
        raise Refused(pirsch_error(403, error=["tracking is disabled for this domain"]))
    return site


def _site_once(principal, parsed, scope: str, known: dict):
    """``_site_for``, remembered per request for the client's own site or the URL's host
    (what it depends on); entries it refuses are never remembered."""
    if principal.site_id is not None:
        key: tuple = ("bound",)
    elif parsed.fields["url"]:
        key = ("host", parsed.host)
    else:
        return _site_for(principal, parsed, scope)
    site = known.get(key)
    if site is None:
        site = known[key] = _site_for(principal, parsed, scope)
    return site


def _receive(request: HttpRequest, kind: Kind, batch: bool) -> HttpResponse:
    if request.method != "POST":
        return pirsch_error(405, error=["method not allowed"])
    scope = SCOPES[kind]
    principal = pirsch_principal(request, scope)
    if isinstance(principal, JsonResponse):
        return principal
    try:
        payload = read_json(
            request, settings.MAX_BATCH_BYTES if batch else settings.MAX_REQUEST_BYTES
        )
    except BodyTooLarge as exc:
        return pirsch_error(413, error=[str(exc)])
    except InvalidBody:
        return pirsch_error(400, error=["the request body must be JSON"])
    now = datetime.now(UTC)
    items = payload if batch else [payload]
    if batch and not isinstance(payload, list):
        return pirsch_error(400, validation={"body": "a batch must be a JSON array"})
    if len(items) > settings.MAX_BATCH_EVENTS:
        return pirsch_error(
            400, validation={"body": f"a batch holds at most {settings.MAX_BATCH_EVENTS} entries"}
        )
    hits = []
    try:
        # All or nothing: every entry is checked before any is accepted.
        entries = []
        # A batch names few sites and addresses: each is looked up, authorised and
        # resolved once per request, not once per entry.
        sites: dict[tuple, object] = {}
        for index, item in enumerate(items):
            try:
                parsed = parse_hit(item, kind, batch=batch, now=now)
                entries.append((parsed, _site_once(principal, parsed, scope, sites)))
            except PirschValidationError as exc:
                exc.context = {"index": index} if batch else {}
                raise
        # In time order (stable for equal times): sessions, entry and exit pages follow
        # ``time``, not the order of the array.
        entries.sort(key=lambda entry: entry[0].timestamp or now)
        for parsed, site in entries:
            hits.append(to_hit(parsed, site, visitor_ip(request, parsed.fields["ip"])))
    except PirschValidationError as exc:
        return pirsch_error(400, validation=exc.validation, context=exc.context)
    except Refused as refused:
        return refused.response
    ingest.accept(hits)  # BufferUnavailable: the decorator answers 503
    return HttpResponse(status=200)


def _endpoint(kind: Kind, batch: bool):
    @ingestion_endpoint(_failure, _unavailable)
    def view(request):
        return _receive(request, kind, batch)

    view.__name__ = f"pirsch_{kind}{'_batch' if batch else ''}"
    return view


hit = _endpoint(Kind.PAGEVIEW, False)
hit_batch = _endpoint(Kind.PAGEVIEW, True)
event = _endpoint(Kind.CUSTOM, False)
event_batch = _endpoint(Kind.CUSTOM, True)
session = _endpoint(Kind.HEARTBEAT, False)
session_batch = _endpoint(Kind.HEARTBEAT, True)
