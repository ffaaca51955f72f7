"""Who may see a site's dashboard: members, anyone (public sites) or holders of a shared link.

Services for shared links (``shared_link_create`` / ``shared_link_revoke``) and the one
access question the dashboard asks (``dashboard_access``). Roles still come from
``sites.permissions``; this module only adds the read-only ways in.

A shared link's token is shown once and stored as its SHA-256 digest. Opening
``/share/<token>/`` (and giving the password, if the link has one) records a grant in the
session: the link's id and a fingerprint of its password hash, so revoking the link or
changing its password ends every grant at once.

Wrong passwords are counted per (link, caller): the 10th from one caller locks that caller
out of that link for a minute, each further one doubles the wait (up to an hour). Counting
per link alone would let anyone holding the URL lock every viewer out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import QuerySet

from accounts.models import Role
from analytics_project.ratelimit import backoff_clear, backoff_failure, backoff_retry_after
from sites.models import SharedLink, Site
from sites.permissions import Action, role_allows, site_role

SESSION_KEY = "footfall_shared_links"
TOKEN_BYTES = 32
PASSWORD_FAILURES_BEFORE_LOCK = 10
PASSWORD_LOCK_SECONDS = 60
PASSWORD_LOCK_MAX_SECONDS = 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _grant_value(link: SharedLink) -> str:
    """Stored in the session: changes when the link's password does."""
    return hashlib.sha256(f"{link.pk}:{link.password}".encode()).hexdigest()[:32]


# --- services --------------------------------------------------------------------------


def shared_link_create(
    *, site: Site, label: str = "", password: str = "", created_by=None
) -> tuple[SharedLink, str]:
    """Create a shared link; returns it and the token (shown once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = SharedLink.objects.create(
        site=site,
        label=(label or "").strip()[:200],
        token_digest=_digest(token),
        token_prefix=token[:8],
        password=make_password(password) if password else "",
        created_by=created_by,
    )
    return link, token


def shared_link_revoke(*, site: Site, link_id: int) -> bool:
    """Delete one of ``site``'s links (another site's id does nothing); True if it existed."""
    deleted, _ = SharedLink.objects.filter(site=site, pk=link_id).delete()
    return bool(deleted)


@dataclass(frozen=True)
class PasswordAttempt:
    accepted: bool
    retry_after: int  # seconds this caller must wait before trying again (0 = may try)


def shared_link_password_attempt(
    link: SharedLink, password: str, *, caller: str
) -> PasswordAttempt:
    """Check a link's password for one caller (a keyed digest of its address).

    A locked caller's password is not checked. A right password clears the caller's count.
    """
    key = f"share:{link.pk}:{caller}"
    if wait := backoff_retry_after(key):
        return PasswordAttempt(False, wait)
    if shared_link_check_password(link, password):
        backoff_clear(key)
        return PasswordAttempt(True, 0)
    wait = backoff_failure(
        key,
        lock_after=PASSWORD_FAILURES_BEFORE_LOCK,
        base_seconds=PASSWORD_LOCK_SECONDS,
        max_seconds=PASSWORD_LOCK_MAX_SECONDS,
    )
    return PasswordAttempt(False, wait)


def shared_link_grant(session, link: SharedLink) -> None:
    """Remember in the session that its holder opened ``link`` (password checked)."""
    grants = dict(session.get(SESSION_KEY, {}))
    grants[str(link.pk)] = _grant_value(link)
    session[SESSION_KEY] = grants


# --- selectors -------------------------------------------------------------------------


def shared_links_for_site(site: Site) -> QuerySet[SharedLink]:
    return SharedLink.objects.filter(site=site).order_by("-created_at")


def shared_link_resolve(token: str) -> SharedLink | None:
    """The link a token opens, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    return SharedLink.objects.select_related("site").filter(token_digest=_digest(token)).first()


def shared_link_check_password(link: SharedLink, password: str) -> bool:
    if not link.password:
        return True
    return bool(password) and check_password(password, link.password)


def _granted_link(session, site: Site) -> SharedLink | None:
    grants = session.get(SESSION_KEY) or {}
    ids = [int(k) for k in grants if str(k).isdigit()]
    if not ids:
        return None
    for link in SharedLink.objects.filter(site=site, pk__in=ids):
        if hmac.compare_digest(str(grants.get(str(link.pk), "")), _grant_value(link)):
            return link
    return None


@dataclass(frozen=True)
class DashboardAccess:
    """How a request may see a site's dashboard."""

    site: Site
    role: Role | None  # the user's own role; None for public and shared-link viewers
    via: str  # "member", "public" or "shared"

    @property
    def read_only(self) -> bool:
        return self.role is None

    @property
    def can_manage_settings(self) -> bool:
        return role_allows(self.role, Action.MANAGE_SETTINGS)

    @property
    def can_export(self) -> bool:
        return self.role is None or role_allows(self.role, Action.EXPORT_STATS)


def dashboard_access(request, site: Site) -> DashboardAccess | None:
    """Members by their role; otherwise public sites and shared-link grants, read-only."""
    role = site_role(request.user, site)
    if role_allows(role, Action.VIEW_STATS):
        return DashboardAccess(site, role, "member")
    if site.public:
        return DashboardAccess(site, None, "public")
    if hasattr(request, "session") and _granted_link(request.session, site) is not None:
        return DashboardAccess(site, None, "shared")
    return None
