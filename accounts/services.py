"""Writes to users and organizations."""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Organization, OrganizationMember, Role, User


def generate_password() -> str:
    """A random password for users created from the command line or the demo."""
    return secrets.token_urlsafe(15)


def user_create(*, email: str, password: str | None = None, superuser: bool = False) -> tuple[User, str]:
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
