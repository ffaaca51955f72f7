"""Turning an API credential into a principal (who is calling, with which scopes).

Credentials: OAuth access tokens (django-oauth-toolkit, client credentials),
``pa_`` access keys (write-only), ``sk_live_`` read keys and Matomo ``token_auth``.
What a principal may do on a site is answered by ``sites.permissions`` (a client never
exceeds its creator's *current* role there).

A resolved credential is remembered for ``PRINCIPAL_CACHE_SECONDS`` in the shared cache
(Redis), keyed by the credential's SHA-256 digest — the same digest the database stores,
never the credential — so busy writers (Pirsch SDKs send one request per hit) do not
cost a database lookup each. Revoking a client forgets its entries at once
(``forget_client_credentials``); other changes (a deactivated user, a deleted client) take
effect within those seconds, like roles. Without the cache, the database answers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts import keys
from accounts.models import ApiClient, User

LAST_USED_RESOLUTION_SECONDS = 60
PRINCIPAL_CACHE_SECONDS = 5


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
    return principal_for_client(client)


def client_for_key(key: str, client_type: str) -> ApiClient | None:
    """The active client whose key this is (constant-time digest comparison)."""
    candidates = ApiClient.objects.select_related("user").filter(
        type=client_type, key_prefix=keys.lookup_prefix(key), revoked_at__isnull=True
    )
    for client in candidates:
        if keys.digest_matches(key, client.key_hash) and client.user.is_active:
            return client
    return None


def principal_for_client(client: ApiClient) -> Principal:
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
