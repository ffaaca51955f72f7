"""Turning an API credential into a principal, and what that principal may do.

Credentials: OAuth access tokens (django-oauth-toolkit, client credentials),
``pa_`` access keys (write-only), ``sk_live_`` read keys and Matomo ``token_auth``.
A client never exceeds its creator's *current* role on a site: the role is looked
up on every check (cached a few seconds), so removing a member removes their
clients' access too.

A resolved credential is remembered for ``PRINCIPAL_CACHE_SECONDS`` in the shared cache
(Redis), keyed by the credential's SHA-256 digest — the same digest the database stores,
never the credential — so busy writers (Pirsch SDKs send one request per hit) do not
cost a database lookup each. Revoking a client forgets its entries at once
(``forget_client_credentials``); other changes (a deactivated user, a deleted client) take
effect within those seconds, like roles. Without the cache, the database answers.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts import keys
from accounts.models import ApiClient, Role, Scope, User
from sites.models import Site
from sites.permissions import Action, role_allows, site_role, sites_for_user

LAST_USED_RESOLUTION_SECONDS = 60
ROLE_CACHE_SECONDS = 5.0
PRINCIPAL_CACHE_SECONDS = 5
SCOPE_ACTIONS = {
    Scope.WRITE_HITS: Action.WRITE_EVENTS,
    Scope.WRITE_EVENTS: Action.WRITE_EVENTS,
    Scope.WRITE_SESSIONS: Action.WRITE_EVENTS,
    Scope.READ_STATISTICS: Action.VIEW_STATS,
    Scope.READ_DOMAINS: Action.VIEW_STATS,
    Scope.READ_VISITORS: Action.VIEW_STATS,
    Scope.MANAGE_SITE: Action.MANAGE_SETTINGS,
}


class AuthenticationFailed(Exception):
    """No usable credential: answer 401."""


@dataclass(frozen=True)
class Principal:
    client: ApiClient
    user: User
    site_id: int | None  # set for a site client: it sees that site only
    scopes: frozenset[str]
    kind: str  # "oauth", "key", "read" or "matomo"


def _bearer(authorization_header: str) -> str:
    scheme, _, value = (authorization_header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("An access token or key is required (Authorization: Bearer …).")
    return value.strip()


def _touch(client: ApiClient) -> bool:
    """Record the use (to the minute); True when the stored time changed."""
    now = timezone.now()
    if (
        client.last_used_at is None
        or (now - client.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        try:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        except DatabaseError:
            return False  # best effort: a database outage must not refuse a valid credential
        client.last_used_at = now
        return True
    return False


def _cache_key(digest: str) -> str:
    return f"auth:credential:{digest}"


def _remembered(digest: str) -> tuple | None:
    try:
        return cache.get(_cache_key(digest))
    except Exception:  # the cache is an optimisation: the database answers
        return None


def _remember(digest: str, client: ApiClient, expires_at=None) -> None:
    seconds = PRINCIPAL_CACHE_SECONDS
    if expires_at is not None:
        seconds = min(seconds, int((expires_at - timezone.now()).total_seconds()))
    if seconds <= 0:
        return
    try:
        cache.set(_cache_key(digest), (client, expires_at), seconds)
    except Exception:  # see _remembered
        return


def forget_client_credentials(client: ApiClient) -> None:
    """Drop a client's remembered key and tokens (call before deleting its tokens)."""
    digests = [client.key_hash] if client.key_hash else []
    if client.application_id:
        digests += AccessToken.objects.filter(application_id=client.application_id).values_list(
            "token_checksum", flat=True
        )
    try:
        cache.delete_many([_cache_key(d) for d in digests if d])
    except Exception:  # entries expire on their own within seconds
        return


def _use(digest: str, client: ApiClient, expires_at=None, *, remembered: bool) -> Principal:
    """The principal of a valid credential; it is (re)remembered when it came from the
    database or its last use was just recorded (so the cached copy stays current)."""
    if _touch(client) or not remembered:
        _remember(digest, client, expires_at)
    return _principal(client)


def client_for_key(key: str, client_type: str) -> ApiClient | None:
    """The active client whose key this is (constant-time digest comparison)."""
    candidates = ApiClient.objects.select_related("user").filter(
        type=client_type, key_prefix=keys.lookup_prefix(key), revoked_at__isnull=True
    )
    for client in candidates:
        if keys.digest_matches(key, client.key_hash) and client.user.is_active:
            return client
    return None


def _principal(client: ApiClient) -> Principal:
    return Principal(
        client=client,
        user=client.user,
        site_id=client.site_id,
        scopes=frozenset(client.scopes or []),
        kind=client.type,
    )


def authenticate_bearer(authorization_header: str, *, allowed_kinds: set[str]) -> Principal:
    """The principal behind ``Authorization: Bearer …``, or ``AuthenticationFailed``."""
    value = _bearer(authorization_header)
    if len(value) > 512:
        raise AuthenticationFailed("The access token is invalid.")
    kind = keys.key_type(value)
    if kind == "public":
        raise AuthenticationFailed(
            "Public keys (pk_live_) identify a site to the tracker and cannot be used for API access."
        )
    if kind in ("key", "read", "matomo", "plausible"):
        if kind not in allowed_kinds:
            raise AuthenticationFailed("This kind of key cannot be used here.")
        digest = keys.key_digest(value)
        remembered = _remembered(digest)
        if remembered is not None and remembered[0].type == kind:
            return _use(digest, remembered[0], remembered=True)
        client = client_for_key(value, kind)
        if client is None:
            raise AuthenticationFailed("The key is invalid or has been revoked.")
        return _use(digest, client, remembered=False)
    if "oauth" not in allowed_kinds:
        raise AuthenticationFailed("The key is invalid.")
    checksum = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    remembered = _remembered(checksum)
    if remembered is not None and remembered[0].type == "oauth":
        client, expires_at = remembered
        if expires_at is not None and expires_at <= timezone.now():
            raise AuthenticationFailed("The access token is invalid or has expired.")
        return _use(checksum, client, expires_at, remembered=True)
    token = (
        AccessToken.objects.select_related("application__api_client__user")
        .filter(token_checksum=checksum)
        .first()
    )
    if token is None or token.is_expired():
        raise AuthenticationFailed("The access token is invalid or has expired.")
    client = getattr(token.application, "api_client", None) if token.application_id else None
    if client is None or not client.is_active or not client.user.is_active:
        raise AuthenticationFailed("The client has been revoked.")
    return _use(checksum, client, token.expires, remembered=False)


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
    return principal_site_role(_principal(client), site_id)


def forget_cached_roles() -> None:
    _role_cache.clear()
