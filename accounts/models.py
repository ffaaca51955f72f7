"""People, organizations and the API clients they create."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from analytics_project.ids import public_id


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address."""

    public_id = models.CharField(max_length=20, unique=True, default=public_id, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Whether the owner of ``email`` proved it (a signed link). Only public sign-up creates
    # unverified accounts (explicitly); every other path is an administrator creating the
    # account (admin, ``manage.py user``, the demo), and accounts from before e-mail
    # verification existed count as verified. An unverified account cannot log in.
    email_verified = models.BooleanField(default=True)
    # A new log-in address waiting for its owner to follow the emailed link; ``email``
    # changes only then (nobody can take over an address by typing it).
    pending_email = models.EmailField(blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name or self.email


class Organization(models.Model):
    """A team of people sharing sites; members get their organization role on its sites."""

    public_id = models.CharField(max_length=20, unique=True, default=public_id, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="OrganizationMember", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Roles on a site (or on all of an organization's sites), weakest first."""

    VIEWER = "viewer", "Viewer"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"


ROLE_RANK = {Role.VIEWER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class OrganizationMember(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_org_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.get_role_display()})"


class Scope(models.TextChoices):
    """What an API client may do; each endpoint checks one."""

    WRITE_HITS = "hits:write", "Write page views"
    WRITE_EVENTS = "events:write", "Write events"
    WRITE_SESSIONS = "sessions:write", "Write session keep-alives"
    READ_STATISTICS = "statistics:read", "Read statistics"
    READ_DOMAINS = "domains:read", "Read domains"
    READ_VISITORS = "visitors:read", "Read visitors, sessions and events"
    MANAGE_SITE = "site:manage", "Manage the site"


WRITE_SCOPES = frozenset({Scope.WRITE_HITS, Scope.WRITE_EVENTS, Scope.WRITE_SESSIONS})


class ApiClient(models.Model):
    """An OAuth client or a key, created for one site or for a user's whole account.

    Secrets are shown once at creation and only their hash is kept: DOT hashes
    OAuth client secrets, and keys keep a short lookup prefix plus a SHA-256 digest.
    """

    class Type(models.TextChoices):
        OAUTH = "oauth", "OAuth client"
        ACCESS_KEY = "key", "Access key (pa_, write-only)"
        READ_KEY = "read", "Secret read key (sk_live_)"
        MATOMO = "matomo", "Matomo token_auth"
        PLAUSIBLE = "plausible", "Plausible Stats/Sites API key (pl_)"

    public_id = models.CharField(max_length=20, unique=True, default=public_id, editable=False)
    type = models.CharField(max_length=10, choices=Type.choices)
    description = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_clients"
    )
    # Set for a site client (sees that site only); null for an account client.
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="api_clients"
    )
    scopes = models.JSONField(default=list, blank=True)
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_client",
    )
    key_prefix = models.CharField(max_length=24, blank=True, db_index=True, editable=False)
    key_hash = models.CharField(max_length=128, blank=True, editable=False)
    key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return (
            f"{self.get_type_display()} {self.masked_secret} ({self.description or self.public_id})"
        )

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def masked_secret(self) -> str:
        """What the UI shows instead of the secret, e.g. ``pa_…1234``."""
        if self.type == self.Type.OAUTH:
            client_id = self.application.client_id if self.application_id else ""
            return f"{client_id[:6]}…"
        prefix = {"key": "pa_", "read": "sk_live_", "matomo": "", "plausible": "pl_"}[self.type]
        return f"{prefix}…{self.key_last4}"
