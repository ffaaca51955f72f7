"""The one place that answers "may this user do X on this site".

A user's role on a site is the strongest of their own membership and their
role in the organization that owns the site. Staff superusers may do everything.
Views, APIs, API clients and the admin all ask here, API clients through their
principal (``accounts.authentication`` says who is calling; this module what they may
do): a client never exceeds its creator's *current* role on a site, looked up on every
check (cached ``ROLE_CACHE_SECONDS`` per process), so removing a member removes their
clients' access too.
"""

from __future__ import annotations

import time
from enum import StrEnum

from django.db.models import Q, QuerySet

from accounts import keys
from accounts.authentication import Principal, client_for_key, principal_for_client
from accounts.models import ROLE_RANK, OrganizationMember, Role, Scope
from sites.models import Site, SiteMembership

ROLE_CACHE_SECONDS = 5.0


class Action(StrEnum):
    VIEW_STATS = "view_stats"
    EXPORT_STATS = "export_stats"
    WRITE_EVENTS = "write_events"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_CLIENTS = "manage_clients"
    RESET_STATS = "reset_stats"
    DELETE_SITE = "delete_site"
    TRANSFER_OWNERSHIP = "transfer_ownership"


# The weakest role that may perform each action.
MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW_STATS: Role.VIEWER,
    Action.EXPORT_STATS: Role.VIEWER,
    Action.WRITE_EVENTS: Role.ADMIN,
    Action.MANAGE_SETTINGS: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.ADMIN,
    Action.MANAGE_CLIENTS: Role.ADMIN,
    Action.RESET_STATS: Role.OWNER,
    Action.DELETE_SITE: Role.OWNER,
    Action.TRANSFER_OWNERSHIP: Role.OWNER,
}


SCOPE_ACTIONS = {
    Scope.WRITE_HITS: Action.WRITE_EVENTS,
    Scope.WRITE_EVENTS: Action.WRITE_EVENTS,
    Scope.WRITE_SESSIONS: Action.WRITE_EVENTS,
    Scope.READ_STATISTICS: Action.VIEW_STATS,
    Scope.READ_DOMAINS: Action.VIEW_STATS,
    Scope.READ_VISITORS: Action.VIEW_STATS,
    Scope.MANAGE_SITE: Action.MANAGE_SETTINGS,
}


def role_allows(role: Role | str | None, action: Action) -> bool:
    """Whether ``role`` is strong enough for ``action``."""
    if not role:
        return False
    return ROLE_RANK[Role(role)] >= ROLE_RANK[MINIMUM_ROLE[action]]


def stronger_role(a: Role | str | None, b: Role | str | None) -> Role | None:
    if not a:
        return Role(b) if b else None
    if not b:
        return Role(a)
    return Role(a) if ROLE_RANK[Role(a)] >= ROLE_RANK[Role(b)] else Role(b)


def site_role(user, site: Site) -> Role | None:
    """The user's effective role on the site, or None without access."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.OWNER
    membership = (
        SiteMembership.objects.filter(site=site, user=user).values_list("role", flat=True).first()
    )
    org_role = None
    if site.organization_id:
        org_role = (
            OrganizationMember.objects.filter(organization_id=site.organization_id, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return stronger_role(membership, org_role)


def can(user, action: Action, site: Site) -> bool:
    """May ``user`` perform ``action`` on ``site``?"""
    return role_allows(site_role(user, site), action)


def sites_for_user(user) -> QuerySet[Site]:
    """Every site the user may at least view."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    org_ids = OrganizationMember.objects.filter(user=user).values("organization_id")
    return Site.objects.filter(
        Q(memberships__user=user) | Q(organization_id__in=org_ids)
    ).distinct()


# --- API clients (principals) -------------------------------------------------------

_role_cache: dict[tuple[int, int], tuple[float, Role | None]] = {}


def principal_site_role(principal: Principal, site: Site | int) -> Role | None:
    """The client's role on a site: its creator's current role, and only its own site."""
    site_id = site if isinstance(site, int) else site.pk
    if principal.site_id is not None and principal.site_id != site_id:
        return None
    key = (principal.client.pk, site_id)
    cached = _role_cache.get(key)
    now = time.monotonic()
    if cached and cached[0] > now:
        return cached[1]
    site_obj = site if isinstance(site, Site) else Site.objects.filter(pk=site_id).first()
    role = site_role(principal.user, site_obj) if site_obj is not None else None
    if len(_role_cache) > 10_000:
        _role_cache.clear()
    _role_cache[key] = (now + ROLE_CACHE_SECONDS, role)
    return role


def principal_may(principal: Principal, scope: str, site: Site | int) -> bool:
    """The scope is held and the creator's current role allows the matching action."""
    if scope not in principal.scopes:
        return False
    return role_allows(principal_site_role(principal, site), SCOPE_ACTIONS[Scope(scope)])


def principal_sites(principal: Principal):
    """The sites a principal may at least read."""
    sites = sites_for_user(principal.user)
    if principal.site_id is not None:
        sites = sites.filter(pk=principal.site_id)
    return sites


def matomo_token_site_role(token_auth: str, site_id: int) -> Role | None:
    """The role a Matomo ``token_auth`` grants on a site (None if invalid)."""
    if not token_auth or keys.key_type(token_auth) != "matomo":
        return None
    client = client_for_key(token_auth, "matomo")
    if client is None:
        return None
    return principal_site_role(principal_for_client(client), site_id)


def forget_cached_roles() -> None:
    _role_cache.clear()
