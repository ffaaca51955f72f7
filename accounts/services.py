"""Writes to users and organizations."""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value

from accounts import keys
from accounts.authentication import forget_client_credentials
from accounts.models import (
    WRITE_SCOPES,
    ApiClient,
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
    # Created by an administrator, who vouches for the address: no confirmation link.
    if superuser:
        user = User.objects.create_superuser(email=email, password=password, email_verified=True)
    else:
        user = User.objects.create_user(email=email, password=password, email_verified=True)
    return user, password


# --- API clients --------------------------------------------------------------

PLAUSIBLE_STATS_SCOPE = "stats"
PLAUSIBLE_SITES_SCOPE = "sites"

DEFAULT_SCOPES = {
    "oauth": [s.value for s in Scope],
    "key": sorted(WRITE_SCOPES),
    "read": [Scope.READ_STATISTICS.value, Scope.READ_DOMAINS.value, Scope.READ_VISITORS.value],
    "matomo": [Scope.WRITE_HITS.value, Scope.WRITE_EVENTS.value],
    # Plausible's own scope names (its Stats and Sites APIs), not Footfall's.
    "plausible": [PLAUSIBLE_STATS_SCOPE],
}
ALLOWED_SCOPES = {
    "oauth": set(DEFAULT_SCOPES["oauth"]),
    "key": set(DEFAULT_SCOPES["key"]),  # a pa_ key is write-only, always
    "read": set(DEFAULT_SCOPES["read"]),
    "matomo": set(DEFAULT_SCOPES["matomo"]),
    "plausible": {PLAUSIBLE_STATS_SCOPE, PLAUSIBLE_SITES_SCOPE},
}


# Who may create a client for a site is a site question (``sites.permissions``). sites sits
# above accounts, so it installs its answer here at start-up (``SitesConfig.ready``); until
# then no site client can be created (fail closed).
_may_manage_site_clients: Callable[[User, Any], bool] = lambda user, site: False  # noqa: E731


def site_clients_policy_set(policy: Callable[[User, Any], bool]) -> None:
    """Install the check "may ``user`` create and revoke ``site``'s clients"."""
    global _may_manage_site_clients
    _may_manage_site_clients = policy


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
    if type not in DEFAULT_SCOPES:
        raise ValidationError(
            f"Unknown client type {type!r}: use oauth, key, read, matomo or plausible."
        )
    if site is not None and not _may_manage_site_clients(user, site):
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
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    forget_client_credentials(client)  # before its tokens are gone: their digests are needed
    if client.application_id:
        AccessToken.objects.filter(application_id=client.application_id).delete()
    return client


def oauth_token_issue(*, client: ApiClient) -> tuple[str, datetime]:
    """A new access token for an OAuth client (only its checksum is stored)."""
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


# --- E-mail addresses ---------------------------------------------------------------
#
# An address counts only once its owner followed a signed, expiring link sent to it.
# Every answer that a stranger sees is the same whether or not an account exists: the
# difference goes into the e-mail, which only the address's owner reads.

EMAIL_LINK_MAX_AGE = timedelta(days=3)
_SIGNUP_SALT = "footfall.accounts.signup-verification"
_CHANGE_SALT = "footfall.accounts.email-change"


def mail_send(to: str, subject: str, body: str) -> None:
    """One plain-text mail from the default sender; the subject is kept to one line."""
    send_mail(subject=one_line(subject), message=body, from_email=None, recipient_list=[to])


def one_line(text: str) -> str:
    """A header-safe line: control characters (CR/LF) would make the mail fail to build."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _email_token(salt: str, user: User, email: str, next_url: str = "") -> str:
    return signing.dumps({"u": user.public_id, "e": email, "n": next_url}, salt=salt)


def _read_email_token(salt: str, token: str) -> dict | None:
    if not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=salt, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    return data if isinstance(data, dict) and {"u", "e", "n"} <= data.keys() else None


def signup_request(*, email: str, password: str, base_url: str, next_url: str = "") -> None:
    """Sign up ``email``; the caller always answers "check your e-mail".

    A new address gets an unverified account and a link to confirm it. An address that
    already has an account gets a note instead (with a password-reset link, which is also
    how the address's real owner takes over an account someone else registered with it).
    Both paths hash a password, so their timing does not tell them apart either.
    """
    email = (email or "").strip().lower()
    validate_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email, password=password, email_verified=False
                )
        except IntegrityError:  # signed up twice at the same moment
            existing = User.objects.filter(email__iexact=email).first()
        else:
            _send_signup_link(user=user, base_url=base_url, next_url=next_url)
            return
    make_password(password)
    if existing is not None:
        mail_send(
            existing.email,
            "Someone tried to sign up for Footfall with your address",
            "Someone (maybe you) tried to create a Footfall account with this address, "
            "which already has an account. Nothing was changed.\n\n"
            f"To log in, go to {base_url}accounts/login/\n"
            f"Forgot your password? Choose a new one at {base_url}accounts/password/reset/\n\n"
            "If this was not you, you can ignore this message.",
        )


def _send_signup_link(*, user: User, base_url: str, next_url: str = "") -> None:
    token = _email_token(_SIGNUP_SALT, user, user.email, next_url)
    days = EMAIL_LINK_MAX_AGE.days
    mail_send(
        user.email,
        "Confirm your e-mail address for Footfall",
        "Confirm that this address is yours to finish creating your Footfall account "
        f"(you will be asked for the password you chose):\n{base_url}accounts/verify/{token}/\n\n"
        f"The link expires in {days} days. If you did not sign up, ignore this message: "
        "the account cannot be used without it.",
    )


def signup_link_resend(*, email: str, base_url: str) -> None:
    """A new confirmation link for an unverified account; nothing otherwise (same answer)."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email, email_verified=False, is_active=True).first()
    if user is not None:
        _send_signup_link(user=user, base_url=base_url)


def signup_token_user(token: str) -> tuple[User, str] | None:
    """The unverified account a sign-up link names (and where to go next), or None."""
    data = _read_email_token(_SIGNUP_SALT, token)
    if data is None:
        return None
    user = User.objects.filter(public_id=data["u"], is_active=True).first()
    if user is None or user.email != data["e"]:
        return None
    return user, data["n"]


def signup_verify(*, token: str, password: str) -> tuple[User, str]:
    """Mark the address verified: needs the link (the mailbox) *and* the password.

    Someone who registered a stranger's address knows the password but never sees the
    link; the stranger sees the link but does not know the password. Neither alone can
    turn the account into one with a verified address.
    """
    found = signup_token_user(token)
    if found is None:
        raise ValidationError("This link is not valid or has expired.", code="invalid")
    user, next_url = found
    if not user.check_password(password or ""):
        raise ValidationError({"password": "This is not the account's password."})
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user, next_url


def user_mark_verified(*, user: User) -> None:
    """The address's owner proved control another way (a password reset link)."""
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])


def user_update_profile(*, user: User, full_name: str, email: str, base_url: str = "") -> bool:
    """Save the name; a new log-in address only waits for confirmation by its owner.

    Returns whether a new address is now pending (the caller says "we sent a link to
    it", whatever the address is). The address changes in ``email_change_confirm``.
    """
    email = (email or "").strip().lower()
    validate_email(email)
    user.full_name = (full_name or "").strip()[:150]
    fields = ["full_name"]
    pending = email != user.email.lower()
    if pending or user.pending_email:
        user.pending_email = email if pending else ""
        fields.append("pending_email")
    user.save(update_fields=fields)
    if pending:
        owner = User.objects.filter(email__iexact=email).exclude(pk=user.pk).first()
        if owner is None:
            token = _email_token(_CHANGE_SALT, user, email)
            mail_send(
                email,
                "Confirm your new e-mail address for Footfall",
                f"{user.email} asked to log in to Footfall with this address from now on.\n\n"
                f"Confirm it (you must be logged in to that account):\n"
                f"{base_url}accounts/email/confirm/{token}/\n\n"
                f"The link expires in {EMAIL_LINK_MAX_AGE.days} days. "
                "If you did not ask for this, ignore this message.",
            )
        else:
            mail_send(
                owner.email,
                "Someone tried to use your address on Footfall",
                "Another Footfall account asked to use this address, which already has an "
                "account. Nothing was changed. If this was you, log in with this address.",
            )
    return pending


def email_change_confirm(*, user: User, token: str) -> User:
    """Make the pending address the log-in address; the old address is told."""
    data = _read_email_token(_CHANGE_SALT, token)
    if data is None or data["u"] != user.public_id:
        raise ValidationError("This link is not valid or has expired.", code="invalid")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.pending_email or user.pending_email != data["e"]:
            raise ValidationError("This link is not valid or has expired.", code="invalid")
        if User.objects.filter(email__iexact=data["e"]).exclude(pk=user.pk).exists():
            raise ValidationError("This address is now used by another account.", code="taken")
        old = user.email
        user.email = data["e"]
        user.pending_email = ""
        user.email_verified = True
        user.save(update_fields=["email", "pending_email", "email_verified"])
    mail_send(
        old,
        "Your Footfall log-in address was changed",
        f"The log-in address of your Footfall account was changed from {old} to {user.email}.\n\n"
        "If you did not do this, reset your password and contact your administrator.",
    )
    return user
