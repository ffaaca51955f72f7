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

    from accounts.authentication import forget_client_credentials

    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    forget_client_credentials(client)  # before its tokens are gone: their digests are needed
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


# --- Profile ------------------------------------------------------------------


def user_update_profile(*, user: User, full_name: str, email: str) -> User:
    """Change a user's name and log-in email (unique, case-insensitive)."""
    email = (email or "").strip().lower()
    validate_email(email)
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": "An account with this email address already exists."})
    user.full_name = (full_name or "").strip()[:150]
    user.email = email
    user.save(update_fields=["full_name", "email"])
    return user


# --- Invitations --------------------------------------------------------------

INVITATION_LIFETIME_DAYS = 7


def invitation_token_digest(token: str) -> str:
    return keys.key_digest(token)


@transaction.atomic
def invitation_create(*, site, email: str, role: Role | str, invited_by: User | None):
    """A new invitation for ``email`` (replacing a pending one); returns it and its token.

    The token is returned only here, to be put in the emailed link.
    """
    from datetime import timedelta

    from accounts.models import Invitation

    email = (email or "").strip().lower()
    validate_email(email)
    Invitation.objects.filter(site=site, email=email, accepted_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        site=site,
        email=email,
        role=Role(role),
        token_hash=invitation_token_digest(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_LIFETIME_DAYS),
    )
    return invitation, token


def invitation_send(*, invitation, accept_url: str) -> None:
    """Email the accept link (the only place the token ever goes)."""
    from django.core.mail import send_mail

    inviter = invitation.invited_by.email if invitation.invited_by_id else "Someone"
    send_mail(
        subject=f"You are invited to {invitation.site.display_name} on Footfall",
        message=(
            f"{inviter} invited you to see the statistics of {invitation.site.display_name} "
            f"({invitation.site.hostname}) as {invitation.get_role_display()}.\n\n"
            f"Accept the invitation (log in or sign up with {invitation.email}):\n{accept_url}\n\n"
            f"The link expires in {INVITATION_LIFETIME_DAYS} days."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_revoke(*, invitation) -> None:
    invitation.delete()


@transaction.atomic
def invitation_accept(*, invitation, user: User):
    """Make ``user`` a member with the invited role (keeping a stronger role they have)."""
    from accounts.models import ROLE_RANK, Invitation
    from sites.models import SiteMembership
    from sites.services import membership_set

    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError("This invitation has expired or was already used.")
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(
            f"This invitation was sent to {invitation.email}: log in with that address."
        )
    current = (
        SiteMembership.objects.filter(site=invitation.site, user=user)
        .values_list("role", flat=True)
        .first()
    )
    role = invitation.role
    if current and ROLE_RANK[Role(current)] > ROLE_RANK[Role(role)]:
        role = current
    membership = membership_set(site=invitation.site, user=user, role=role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
