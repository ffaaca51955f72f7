"""Reads of accounts and API clients."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.db.models import QuerySet
from oauth2_provider.models import Application

from accounts.models import ApiClient, Role, User


def api_client_for_credentials(client_id: str, client_secret: str) -> ApiClient | None:
    """The active OAuth client with this id and secret (DOT stores the secret hashed)."""
    application = (
        Application.objects.select_related("api_client__user").filter(client_id=client_id).first()
    )
    if application is None or not check_password(client_secret, application.client_secret):
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
