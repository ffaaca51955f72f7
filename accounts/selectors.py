"""Reads of accounts and API clients."""

from __future__ import annotations

import functools
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import F, QuerySet
from oauth2_provider.models import Application

from accounts.models import ApiClient, Role, User


@functools.cache
def _unknown_client_secret_hash() -> str:
    return make_password(secrets.token_urlsafe(32))


def api_client_for_credentials(client_id: str, client_secret: str) -> ApiClient | None:
    """The active OAuth client with this id and secret (DOT stores the secret hashed)."""
    application = (
        Application.objects.select_related("api_client__user").filter(client_id=client_id).first()
    )
    if application is None:
        # Hash anyway: an unknown id must take as long as a wrong secret (no id oracle).
        check_password(client_secret, _unknown_client_secret_hash())
        return None
    if not check_password(client_secret, application.client_secret):
        return None
    client = getattr(application, "api_client", None)
    if client is None or not client.is_active or not client.user.is_active:
        return None
    return client


def api_clients_for_user(user: User) -> QuerySet[ApiClient]:
    return ApiClient.objects.filter(user=user).select_related("site", "application")


def role_label(role: Role | str | None) -> str | None:
    """Pirsch spells roles Owner / Admin / Viewer."""
    return Role(role).label if role else None


def account_clients(user: User) -> QuerySet[ApiClient]:
    """A user's account-level clients (not tied to one site), newest first."""
    return (
        api_clients_for_user(user)
        .filter(site__isnull=True)
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    )


def site_clients(site) -> QuerySet[ApiClient]:
    """Every client of a site, whoever created it; active ones first."""
    return (
        ApiClient.objects.filter(site=site)
        .select_related("user", "application")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    )
