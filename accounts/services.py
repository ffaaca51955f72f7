"""Writes to users and organizations."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts import keys
from accounts.models import (
    WRITE_SCOPES,
    ApiClient,
    Organization,
    OrganizationMember,
    Role,
    Scope,
    User,
)
from analytics_project.ids import random_string


def generate_password() -> str:
    """A random password for users created from the command line or the demo."""
    return secrets.token_urlsafe(15)


def user_create(
    *, email: str, password: str | None = None, superuser: bool = False
) -> tuple[User, str]:
    """Create a user; returns it with its (possibly generated) password."""
    email = (email or "").strip().lower()
    validate_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(f"A user with email {email} already exists.")
    password = password or generate_password()
    if superuser:
        user = User.objects.create_superuser(email=email, password=password)
    else:
        user = User.objects.create_user(email=email, password=password)
    return user, password


def organization_create(*, name: str, owner: User) -> Organization:
    organization = Organization.objects.create(name=name)
    OrganizationMember.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


# --- API clients --------------------------------------------------------------

DEFAULT_SCOPES = {
    "oauth": [s.value for s in Scope],
    "key": sorted(WRITE_SCOPES),
    "read": [Scope.READ_STATISTICS.value, Scope.READ_DOMAINS.value, Scope.READ_VISITORS.value],
    "matomo": [Scope.WRITE_HITS.value, Scope.WRITE_EVENTS.value],
}
ALLOWED_SCOPES = {
    "oauth": set(DEFAULT_SCOPES["oauth"]),
    "key": set(DEFAULT_SCOPES["key"]),  # a pa_ key is write-only, always
    "read": set(DEFAULT_SCOPES["read"]),
    "matomo": set(DEFAULT_SCOPES["matomo"]),
}


@transaction.atomic
def api_client_create(
    *,
    user: User,
    type: str,
    site=None,
    scopes: list[str] | None = None,
    description: str = "",
) -> tuple[ApiClient, dict]:
    """Create a client; returns it and the payload with its secret, shown this once only."""
    from oauth2_provider.models import Application

    from sites.permissions import Action, can

    if type not in DEFAULT_SCOPES:
        raise ValidationError(f"Unknown client type {type!r}: use oauth, key, read or matomo.")
    if site is not None and not can(user, Action.MANAGE_CLIENTS, site):
        raise PermissionDenied("Only the site's Owners and Admins can create its clients.")
    chosen = list(dict.fromkeys(scopes)) if scopes else list(DEFAULT_SCOPES[type])
    invalid = [s for s in chosen if s not in ALLOWED_SCOPES[type]]
    if invalid:
        raise ValidationError(f"Scopes not allowed for a {type} client: {', '.join(invalid)}.")
    client = ApiClient(
        type=type, user=user, site=site, scopes=chosen, description=description.strip()[:200]
    )
    payload = {"id": client.public_id, "type": type, "scopes": chosen}
    if type == "oauth":
        client_id = random_string(keys.OAUTH_CLIENT_ID_LENGTH)
        secret = random_string(keys.OAUTH_CLIENT_SECRET_LENGTH)
        client.application = Application.objects.create(
            name=(description or f"Footfall client {client.public_id}")[:255],
            user=user,
            client_id=client_id,
            client_secret=secret,  # hashed by DOT on save
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            hash_client_secret=True,
        )
        payload.update(client_id=client_id, client_secret=secret)
    else:
        key = keys.new_key(type)
        client.key_prefix = keys.lookup_prefix(key)
        client.key_hash = keys.key_digest(key)
        client.key_last4 = key[-4:]
        payload["key"] = key
    client.save()
    return client, payload


@transaction.atomic
def api_client_revoke(*, client: ApiClient) -> ApiClient:
    """Revoke at once: the key stops working and OAuth tokens are deleted."""
    from oauth2_provider.models import AccessToken

    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    if client.application_id:
        AccessToken.objects.filter(application_id=client.application_id).delete()
    return client


def oauth_token_issue(*, client: ApiClient) -> tuple[str, "timezone.datetime"]:
    """A new access token for an OAuth client (only its checksum is stored)."""
    from datetime import timedelta

    from django.conf import settings
    from oauth2_provider.models import AccessToken, set_token_value

    raw = secrets.token_urlsafe(48)
    expires = timezone.now() + timedelta(
        seconds=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    )
    token = AccessToken(
        user=client.user,
        application=client.application,
        expires=expires,
        scope=" ".join(client.scopes),
    )
    set_token_value(token, raw)
    token.save()
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return raw, expires
