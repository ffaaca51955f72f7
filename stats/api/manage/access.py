"""Who calls the management API and what they may do on a site.

Two callers, as the dashboard's: the logged-in dashboard session (DRF's
``SessionAuthentication``: unsafe methods need the CSRF token) and an account-level
``pl_`` key with the ``sites`` scope (its creator's *current* role on each site, as for
Plausible's Sites API). Roles come from ``sites.permissions``, the one place that answers
them; a site the caller cannot see is "not found", never "forbidden".
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from accounts.models import Role
from sites.models import Site
from sites.permissions import Action, principal_site_role, role_allows, site_role

SITES_SCOPE = "sites"


class ManageKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer pl_…`` with the ``sites`` scope → (user, principal)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.strip():
            return None  # the session may still authenticate
        try:
            principal = authenticate_bearer(header, allowed_kinds={"plausible"})
        except AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        if SITES_SCOPE not in principal.scopes:
            raise exceptions.AuthenticationFailed(
                "This API key lacks the `sites` scope the management API needs."
            )
        return principal.user, principal

    def authenticate_header(self, request) -> str:
        return "Bearer"


class ManageSessionAuthentication(SessionAuthentication):
    """The dashboard's session (CSRF-checked for writes)."""


def caller_role(request, site: Site) -> Role | None:
    """The caller's role on ``site`` (None: the site is not theirs to see)."""
    if isinstance(request.auth, Principal):
        return principal_site_role(request.auth, site)
    return site_role(request.user, site)


def site_for(request, public_id: str, action: Action) -> tuple[Site, Role]:
    """The site with ``public_id`` and the caller's role on it: 404 when the caller cannot
    see it, 403 when they see it but may not do ``action``."""
    site = Site.objects.filter(public_id=str(public_id)[:20]).first()
    role = caller_role(request, site) if site is not None else None
    if site is None or not role_allows(role, Action.VIEW_STATS):
        raise exceptions.NotFound("No such site.")
    if not role_allows(role, action):
        raise exceptions.PermissionDenied(
            "Only the site's Owners and Admins may do this."
            if action != Action.VIEW_STATS
            else "You may not read this site."
        )
    return site, role
