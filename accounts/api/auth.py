"""The credential check every Pirsch-style endpoint starts with."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from accounts.models import WRITE_SCOPES
from analytics_project.api_errors import pirsch_error


def pirsch_principal(request: HttpRequest, scope: str) -> Principal | JsonResponse:
    """The request's principal holding ``scope``, or the Pirsch-shaped 401/403 to answer.

    ``pa_`` access keys only ever pass for write scopes.
    """
    try:
        principal = authenticate_bearer(
            request.headers.get("Authorization", ""), allowed_kinds={"oauth", "key"}
        )
    except AuthenticationFailed as exc:
        return pirsch_error(401, error=[str(exc)])
    if principal.kind == "key" and scope not in WRITE_SCOPES:
        return pirsch_error(
            403, error=["access keys (pa_) can only send data; use an oAuth client to read"]
        )
    if scope not in principal.scopes:
        return pirsch_error(403, error=[f"the client is missing the scope {scope}"])
    return principal
