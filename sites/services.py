"""Writes to sites and memberships, with their business rules."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Role, User
from sites.models import Site, SiteDomain, SiteMembership, validate_timezone

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)


def normalize_hostname(value: str) -> str:
    """``https://www.Example.com/path`` → ``example.com``: how sites are named and matched."""
    host = (value or "").strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = host.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host


def validate_hostname(host: str) -> None:
    if not HOSTNAME_RE.match(host):
        raise ValidationError({"hostname": f"{host!r} is not a valid hostname."})


@transaction.atomic
def site_create(
    *,
    display_name: str,
    hostname: str,
    timezone: str = "UTC",
    owner: User | None = None,
    organization=None,
    aliases: list[str] | None = None,
) -> Site:
    """Create a site answering to ``hostname`` (and ``aliases``), owned by ``owner``."""
    host = normalize_hostname(hostname)
    validate_hostname(host)
    validate_timezone(timezone)
    names = [host] + [normalize_hostname(a) for a in aliases or []]
    for name in names:
        validate_hostname(name)
    taken = SiteDomain.objects.filter(domain__in=names).values_list("domain", flat=True)
    if Site.objects.filter(hostname=host).exists() or taken:
        raise ValidationError({"hostname": f"A site for {host} already exists."})
    site = Site.objects.create(
        display_name=(display_name or host).strip()[:200],
        hostname=host,
        timezone=timezone,
        organization=organization,
    )
    SiteDomain.objects.bulk_create(
        [SiteDomain(site=site, domain=name) for name in dict.fromkeys(names)]
    )
    if owner is not None:
        SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    return site


def site_add_domain(*, site: Site, domain: str) -> SiteDomain:
    """Let Plausible's ``domain`` field also find ``site`` under another name."""
    name = normalize_hostname(domain)
    validate_hostname(name)
    if SiteDomain.objects.filter(domain=name).exists():
        raise ValidationError({"domain": f"{name} is already used by a site."})
    return SiteDomain.objects.create(site=site, domain=name)


def membership_set(*, site: Site, user: User, role: Role | str) -> SiteMembership:
    """Give ``user`` ``role`` on ``site`` (creating or changing the membership)."""
    membership, _ = SiteMembership.objects.update_or_create(
        site=site, user=user, defaults={"role": Role(role)}
    )
    return membership


def membership_remove(*, site: Site, user: User) -> None:
    """Remove a member; the last Owner cannot be removed."""
    membership = SiteMembership.objects.filter(site=site, user=user).first()
    if membership is None:
        return
    if (
        membership.role == Role.OWNER
        and not site.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()
    ):
        raise ValidationError("A site needs at least one Owner: transfer ownership first.")
    membership.delete()


def site_mark_first_event(site_ids: set[int]) -> None:
    """Record when each site's first event arrived (its set-up page turns green)."""
    from django.utils import timezone

    Site.objects.filter(pk__in=site_ids, first_event_at__isnull=True).update(
        first_event_at=timezone.now()
    )
