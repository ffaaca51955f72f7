"""Sites: what each protocol calls a domain, dashboard, project or idsite.

One row answers to every protocol's identifier:
- Pirsch domain ``id`` and Swetrix ``pid``: ``public_id`` (a short random string);
- Matomo ``idsite``: the integer primary key ``id``;
- Plausible ``domain``: ``hostname`` and any ``SiteDomain`` alias;
- the Footfall snippet and identity-js: ``public_key`` (``pk_live_…``).
"""

import unicodedata
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import Role
from analytics_project.ids import public_id, random_string


def validate_display_name(value: str) -> None:
    """Names go into e-mail subjects and pages: no control, format or line-break characters
    (a CR/LF would break the invitation mail's header after the site was saved)."""

    if any(
        unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in value
    ):
        raise ValidationError("The name cannot contain line breaks or control characters.")


def validate_timezone(value: str) -> None:
    """Accept only IANA time zone names known to the system database."""
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a valid IANA time zone name.")


_TIMEZONES: frozenset[str] | None = None


def available_timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(zoneinfo.available_timezones())
    return _TIMEZONES


def new_public_key() -> str:
    return "pk_live_" + random_string(32)


def new_identification_code() -> str:
    return random_string(32)


def new_verification_token() -> str:
    return random_string(32)


class Site(models.Model):
    class TrackingState(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"  # Swetrix answers 400
        OVER_QUOTA = "over_quota", "Over quota"  # Swetrix answers 402
        INACTIVE = "inactive", "Inactive"  # subscription ended: Swetrix answers 402

    public_id = models.CharField(max_length=20, unique=True, default=public_id, editable=False)
    public_key = models.CharField(
        max_length=48, unique=True, default=new_public_key, editable=False
    )
    display_name = models.CharField(max_length=200)
    # Not unique: any account may add a site for any hostname (refusing would tell it that
    # another tenant has it). When several sites claim a name, ingestion routes it only to
    # a site that proved control of it (``SiteDomain.verified_at``).
    hostname = models.CharField(max_length=253, db_index=True)
    subdomain = models.CharField(max_length=100, blank=True)
    identification_code = models.CharField(
        max_length=64, default=new_identification_code, editable=False
    )
    # Published by the site's owner in a DNS TXT record or a file on the site to prove
    # that they control its hostname (``sites.verification``). Not a secret.
    verification_token = models.CharField(
        max_length=64, default=new_verification_token, editable=False
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sites",
    )
    public = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Revenue is converted into this ISO 4217 code at ingest (sites.exchange_rates).
    reporting_currency = models.CharField(max_length=3, default="EUR")
    group_by_title = models.BooleanField(default=False)
    active_visitors_seconds = models.PositiveIntegerField(default=600)
    disable_scripts = models.BooleanField(default=False)
    statistics_start = models.DateTimeField(null=True, blank=True)
    imported_statistics = models.BooleanField(default=False)
    custom_domain = models.CharField(max_length=253, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    theme_settings = models.JSONField(default=dict, blank=True)
    tracking_state = models.CharField(
        max_length=12, choices=TrackingState.choices, default=TrackingState.ACTIVE
    )
    # Tracking options.
    bot_filter = models.BooleanField(default=True, help_text="Drop known bots and crawlers.")
    excluded_ips = models.JSONField(
        default=list, blank=True, help_text="Addresses or CIDRs whose hits are dropped."
    )
    respect_dnt = models.BooleanField(default=False, help_text="Honour Do Not Track / GPC.")
    long_lived_visitor_ids = models.BooleanField(
        default=False, help_text="Keep visitor ids the site supplies (Matomo uid/_id) across days."
    )
    behaviour_collectors = models.BooleanField(
        default=False, help_text="Load the snippet's behaviour collectors."
    )
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Delete raw events older than this many days."
    )
    first_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.hostname})"

    @property
    def idsite(self) -> int:
        """Matomo's numeric site id."""
        return self.pk

    @property
    def pid(self) -> str:
        """Swetrix's project id."""
        return self.public_id


class SiteDomain(models.Model):
    """A name under which Plausible's ``domain`` field finds a site (its hostname is one).

    Several sites may claim one name; ``verified_at`` says this site proved control of it.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "domain"], name="uniq_site_domain")]

    def __str__(self) -> str:
        return self.domain


class SiteMembership(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="uniq_site_member")]

    def __str__(self) -> str:
        return f"{self.user} on {self.site} ({self.get_role_display()})"


class SharedLink(models.Model):
    """A secret link showing a site's dashboard read-only without log-in (``/share/<token>/``).

    Only the SHA-256 digest of the token is stored (like every other secret here), so the
    link is shown once when it is created; ``token_prefix`` lets owners tell links apart.
    An optional password is stored with Django's password hasher.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="shared_links")
    label = models.CharField(max_length=200, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=8, editable=False)
    password = models.CharField(max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label or self.token_prefix} ({self.site})"

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class Invitation(models.Model):
    """An invitation to a site for an email address (with or without an account).

    Membership is granted only when the recipient, logged in with that verified
    address, follows the emailed link: typing an address proves nothing.

    The token travels only in the emailed link; the database keeps its SHA-256 digest,
    so a leaked table cannot be used to join a site. Invitations expire after
    ``INVITATION_LIFETIME_DAYS`` and are single-use.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Moved from ``accounts`` (a site's roles and invitations belong to ``sites``); the
        # table kept its name (migrations sites 0005 and accounts 0007 only move the state).
        db_table = "accounts_invitation"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.site_id} as {self.get_role_display()}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
