"""``POST /api/v1/token`` in Pirsch's shape (``GET /api/v1/domain``: ``sites.api``)."""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from accounts.api.auth import PirschAPIView, PirschError
from accounts.selectors import api_client_for_credentials
from accounts.services import oauth_token_issue
from analytics_project.api_errors import pirsch_error
from analytics_project.client_ip import client_ip, ip_digest, keyed_digest
from analytics_project.ratelimit import backoff_clear, backoff_failure, backoff_retry_after
from analytics_project.throttling import RateLimitThrottle

TOKEN_LIMIT_PER_IP = 30  # a minute: client secrets are checked with PBKDF2, and guessed
# Wrong secrets for one client_id from one caller: the 5th locks for 1 s, the next for
# 2 s, 4 s … up to 15 minutes. Counted per (client, caller) so a stranger who knows a client_id
# cannot lock the integration out; the per-caller limit above bounds the hashing cost.
TOKEN_FAILURES_BEFORE_BACKOFF = 5
TOKEN_BACKOFF_MAX_SECONDS = 15 * 60


def _storable(value: str) -> bool:
    """No NUL and no lone surrogate: the only strings a stored credential can equal."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


class TokenCallerThrottle(RateLimitThrottle):
    """``TOKEN_LIMIT_PER_IP`` calls a minute per caller: its address behind a trusted proxy
    (otherwise every client would share the proxy's bucket), as a keyed digest, so Redis
    never holds the address."""

    def bucket(self, request, view) -> str:
        return f"token-ip:{ip_digest(client_ip(request._request))}"

    def limit(self, request, view) -> int:
        return TOKEN_LIMIT_PER_IP


class TokenView(PirschAPIView):
    """``POST {"client_id", "client_secret"}`` → ``{"access_token", "expires_at"}``."""

    authentication_classes: list = []
    permission_classes: list = []
    late_permission_classes: list = []
    throttle_classes = [TokenCallerThrottle]
    openapi_tag = "Pirsch account"
    error_statuses = {"*": (400, 401, 405, 429)}

    @extend_schema(
        operation_id="pirschToken",
        summary="Exchange an OAuth client id and secret for an access token",
        description="Rate-limited: 30 requests a minute per caller; wrong secrets for one "
        "client id from one caller back off (the 5th locks for 1 s, then 2, 4 … up to 15 "
        "minutes). 429 with `Retry-After`; `X-RateLimit-*` headers on every answer.",
        request={
            "application/json": {
                "type": "object",
                "required": ["client_id", "client_secret"],
                "properties": {
                    "client_id": {"type": "string", "maxLength": 64},
                    "client_secret": {"type": "string", "maxLength": 256},
                },
            }
        },
        responses={
            200: OpenApiResponse(
                {
                    "type": "object",
                    "required": ["access_token", "expires_at"],
                    "additionalProperties": False,
                    "properties": {
                        "access_token": {"type": "string"},
                        "expires_at": {"type": "string", "format": "date-time"},
                    },
                },
                description="A bearer token and when it expires (UTC, RFC 3339).",
            )
        },
    )
    def post(self, request) -> Response:
        client_id, secret = _credentials(request.body)
        caller = ip_digest(client_ip(request._request))
        failures = f"token-fail:{keyed_digest(client_id[:64])}:{caller}"
        if wait := backoff_retry_after(failures):
            response = pirsch_error(429, error=["too many failed attempts, retry later"])
            response["Retry-After"] = str(wait)
            return response
        client = api_client_for_credentials(client_id[:64], secret[:256])
        if client is None:
            backoff_failure(
                failures,
                lock_after=TOKEN_FAILURES_BEFORE_BACKOFF,
                base_seconds=1,
                max_seconds=TOKEN_BACKOFF_MAX_SECONDS,
            )
            raise PirschError(401, error=["client ID or secret wrong"])
        backoff_clear(failures)
        access_token, expires = oauth_token_issue(client=client)
        return Response(
            {"access_token": access_token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        )


def _credentials(raw: bytes) -> tuple[str, str]:
    """``client_id`` and ``client_secret`` of the JSON body (read whatever its content
    type, as Pirsch's clients send it), or the Pirsch-shaped 400/401."""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PirschError(400, error=["the request body must be JSON"]) from exc
    if not isinstance(body, dict):
        raise PirschError(400, error=["the request body must be a JSON object"])
    client_id = body.get("client_id")
    secret = body.get("client_secret")
    validation = {}
    if not isinstance(client_id, str) or not client_id:
        validation["client_id"] = "client_id is required"
    if not isinstance(secret, str) or not secret:
        validation["client_secret"] = "client_secret is required"  # noqa: S105 - a field name, not a secret
    if validation:
        raise PirschError(400, validation=validation)
    if not _storable(client_id) or not _storable(secret):
        raise PirschError(401, error=["client ID or secret wrong"])  # no such client exists
    return client_id, secret


token = TokenView.as_view()
