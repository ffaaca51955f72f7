"""The Bearer key of Plausible's APIs, as a DRF authentication class and permission.

Keys are Footfall ``plausible`` clients (``pl_…``, stored as a SHA-256 digest like every
key, ``accounts.authentication``). A key acts with its creator's *current* role on each
site; a stats key never reaches a site its creator cannot see, and either way the answer
does not tell a missing site from a forbidden one (Plausible's 401 for stats, 404 for sites).
"""

from __future__ import annotations

from django.db.models import Q
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from sites.models import Site
from sites.permissions import Action, principal_site_role, principal_sites, role_allows
from sites.services import normalize_hostname

MISSING_KEY = "Missing API key. Please use a valid Plausible API key as a Bearer Token."
INVALID_KEY_OR_SITE = (
    "Invalid API key or site ID. Please make sure you're using a valid API key with access "
    "to the site you've requested."
)
INVALID_KEY_FOR_RESOURCE = (
    "Invalid API key. Please make sure you're using a valid API key with access to the "
    "resource you've requested."
)
MISSING_SITE_ID = (
    "Missing site ID. Please provide the required site_id parameter with your request."
)


class PlausibleKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer pl_…`` → (user, principal)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.strip():
            raise exceptions.NotAuthenticated(MISSING_KEY)
        try:
            principal = authenticate_bearer(header, allowed_kinds={"plausible"})
        except AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(INVALID_KEY_OR_SITE) from exc
        return principal.user, principal

    def authenticate_header(self, request) -> str:
        return "Bearer"


class HasScope(BasePermission):
    """The key holds the view's ``required_scope`` (``stats`` or ``sites``)."""

    def has_permission(self, request, view) -> bool:
        principal: Principal | None = request.auth
        if principal is None:
            raise exceptions.NotAuthenticated(MISSING_KEY)
        if view.required_scope not in principal.scopes:
            message = (
                INVALID_KEY_OR_SITE if view.required_scope == "stats" else INVALID_KEY_FOR_RESOURCE
            )
            raise exceptions.AuthenticationFailed(message)
        return True


def site_for_principal(principal: Principal, domain: str, action: Action) -> Site | None:
    """The site named ``domain`` (its hostname or one of its names) on which the key may
    do ``action``; None otherwise (another account's site looks exactly like no site)."""
    if not isinstance(domain, str) or not domain.strip() or len(domain) > 253:
        return None
    host = normalize_hostname(domain)
    candidates = (
        principal_sites(principal)
        .filter(Q(hostname=host) | Q(domains__domain=host))
        .distinct()
        .order_by("pk")
    )
    for site in candidates[:20]:
        if role_allows(principal_site_role(principal, site), action):
            return site
    return None
