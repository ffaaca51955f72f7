"""The one place that answers "may this user do X on this site".

A user's role on a site is the strongest of their own membership and their
role in the organization that owns the site. Staff superusers may do everything.
Views, APIs, API clients and the admin all ask here.
"""

from enum import StrEnum

from django.db.models import Q, QuerySet

from accounts.models import ROLE_RANK, OrganizationMember, Role
from sites.models import Site, SiteMembership


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
