"""Reads of sites for pages, APIs and commands."""

from dataclasses import dataclass
from datetime import UTC

from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts import keys
from accounts.models import Role
from analytics_project.request_memo import forget, remembered
from sites.models import Invitation, Site
from sites.permissions import sites_for_user


def site_list_for_user(user) -> QuerySet[Site]:
    """The sites a user may view, ordered by name."""
    return sites_for_user(user).order_by("display_name")


def site_identifiers(site: Site) -> dict:
    """Every identifier each protocol uses for the site, plus its other fields (JSON-ready)."""
    return {
        "id": site.public_id,
        "hostname": site.hostname,
        "idsite": site.pk,
        "pid": site.public_id,
        "public_key": site.public_key,
        "display_name": site.display_name,
        "domains": sorted(site.domains.values_list("domain", flat=True)),
        "subdomain": site.subdomain,
        "identification_code": site.identification_code,
        "public": site.public,
        "timezone": site.timezone,
        "group_by_title": site.group_by_title,
        "active_visitors_seconds": site.active_visitors_seconds,
        "disable_scripts": site.disable_scripts,
        "statistics_start": site.statistics_start.isoformat() if site.statistics_start else None,
        "tracking_state": site.tracking_state,
        "organization_id": site.organization.public_id if site.organization_id else None,
        "metadata": site.metadata,
        "settings": site.settings,
        "created_at": site.created_at.isoformat(),
    }


CONFIG_FIELDS = (
    "id",
    "public_id",
    "hostname",
    "timezone",
    "reporting_currency",
    "tracking_state",
    "bot_filter",
    "excluded_ips",
    "respect_dnt",
    "long_lived_visitor_ids",
)


CURRENCY = "reporting-currency"  # the kept fact's name (``analytics_project.request_memo``)


@receiver(post_save, sender=Site, dispatch_uid="sites-currency-saved")
def _site_saved(**kwargs) -> None:
    forget(CURRENCY)


def _read_reporting_currency(site_id: int) -> str:
    found = Site.objects.filter(pk=site_id).values_list("reporting_currency", flat=True).first()
    return found or "EUR"


def site_reporting_currency(site_id: int) -> str:
    """The ISO code a site's revenue statistics are in (``Site.reporting_currency``), read
    once per request: the totals, rows and revenue of one answer use the same currency."""
    return remembered((CURRENCY, site_id), lambda: _read_reporting_currency(site_id))


def site_config_rows(**lookup) -> list[dict]:
    """The fields the ingestion hot path caches for the sites matching ``lookup``."""
    return list(Site.objects.filter(**lookup).values(*CONFIG_FIELDS))


@dataclass(frozen=True, slots=True)
class DomainRoute:
    """Where hits naming a domain go: ``row`` (the site's cached fields) or nowhere.

    ``claimants`` are the sites claiming the name when none may have its hits (several
    claim it and none proved control), so each can be told why its hits are dropped.
    """

    row: dict | None
    claimants: tuple[int, ...] = ()


def site_route_for_domain(domain: str) -> DomainRoute:
    """The site Plausible's ``domain`` names (its hostname or an alias), in one query.

    One claimant gets the hits, verified or not (as before hostname verification). When
    several sites claim the name, only a verified one does (the most recently verified:
    whoever controls the name now); with none verified, nobody does, otherwise anyone
    could take a site's traffic by adding a site with its hostname.
    """
    rows = list(
        Site.objects.filter(domains__domain=domain)
        .values(*CONFIG_FIELDS, "domains__verified_at")
        .order_by("id")
    )
    if not rows:
        return DomainRoute(None)
    if len(rows) == 1:
        return DomainRoute(rows[0])
    verified = [row for row in rows if row["domains__verified_at"] is not None]
    if not verified:
        return DomainRoute(None, tuple(row["id"] for row in rows))
    return DomainRoute(max(verified, key=lambda row: (row["domains__verified_at"], row["id"])))


def _rfc3339(value) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def pirsch_domain(site: Site, *, user_role: str | None) -> dict:
    """A site as Pirsch's domain object (every field of the seed's example)."""
    owner = (
        site.memberships.filter(role=Role.OWNER)
        .select_related("user")
        .order_by("created_at")
        .first()
    )
    return {
        "id": site.public_id,
        "def_time": _rfc3339(site.created_at),
        "mod_time": _rfc3339(site.modified_at),
        "user_id": owner.user.public_id if owner else None,
        "organization_id": site.organization.public_id if site.organization_id else None,
        "hostname": site.hostname,
        "subdomain": site.subdomain,
        "identification_code": site.identification_code,
        "public": site.public,
        "google_user_id": None,
        "google_user_email": None,
        "gsc_domain": None,
        "new_owner": None,
        "timezone": site.timezone,
        "group_by_title": site.group_by_title,
        "active_visitors_seconds": site.active_visitors_seconds,
        "disable_scripts": site.disable_scripts,
        "statistics_start": _rfc3339(site.statistics_start),
        "imported_statistics": site.imported_statistics,
        "metadata": site.metadata,
        "theme_id": None,
        "theme": {},
        "custom_domain": site.custom_domain,
        "user_role": user_role,
        "settings": site.settings,
        "theme_settings": site.theme_settings,
        "display_name": site.display_name,
        "subscription_active": site.tracking_state != Site.TrackingState.INACTIVE,
    }


# --- Invitations --------------------------------------------------------------------


def invitation_token_digest(token: str) -> str:
    """What the database keeps of an emailed invitation token (its SHA-256)."""
    return keys.key_digest(token)


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation whose emailed token this is (any state), or None."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("site", "invited_by")
        .filter(token_hash=invitation_token_digest(token))
        .first()
    )


def pending_invitations(site: Site) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        site=site, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("email")
