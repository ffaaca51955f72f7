"""Writes to sites, memberships and invitations, with their business rules.

What other apps do when a site changes (statistics to forget or re-convert) they do
on the signals in ``sites.signals``, sent here: sites never imports them.
"""

import ipaddress
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.timezone import now
from oauth2_provider.models import Application

from accounts.models import ROLE_RANK, Role, User
from accounts.services import mail_send, one_line
from sites import signals, site_lookup, verification
from sites.exchange_rates import reporting_currencies
from sites.models import (
    Invitation,
    Site,
    SiteDomain,
    SiteMembership,
    validate_display_name,
    validate_timezone,
)
from sites.permissions import Action, role_allows, site_role
from sites.selectors import invitation_token_digest
from sites.snippet import COLLECTOR_NAMES

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


def _display_name(display_name: str, host: str) -> str:
    name = (display_name or host).strip()[:200]
    try:
        validate_display_name(name)
    except ValidationError as error:
        raise ValidationError({"display_name": error.messages}) from error
    return name


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
    """Create a site answering to ``hostname`` (and ``aliases``), owned by ``owner``.

    Whether another account has a site for the same name is neither checked nor told:
    the answer would reveal other tenants. Ingestion sorts out shared names (only a
    verified site gets their hits, ``sites.selectors.site_route_for_domain``).
    """
    host = normalize_hostname(hostname)
    validate_hostname(host)
    validate_timezone(timezone)
    name = _display_name(display_name, host)
    names = [host] + [normalize_hostname(a) for a in aliases or []]
    for alias in names:
        validate_hostname(alias)
    site = Site.objects.create(
        display_name=name,
        hostname=host,
        timezone=timezone,
        organization=organization,
    )
    SiteDomain.objects.bulk_create(
        [SiteDomain(site=site, domain=domain) for domain in dict.fromkeys(names)]
    )
    _forget_cached_site()  # a new claimant can change where a shared name's hits go
    if owner is not None:
        SiteMembership.objects.create(site=site, user=owner, role=Role.OWNER)
    return site


def site_add_domain(*, site: Site, domain: str) -> SiteDomain:
    """Let Plausible's ``domain`` field also find ``site`` under another name."""
    name = normalize_hostname(domain)
    validate_hostname(name)
    domain_row, _ = SiteDomain.objects.get_or_create(site=site, domain=name)
    _forget_cached_site()
    return domain_row


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
    Site.objects.filter(pk__in=site_ids, first_event_at__isnull=True).update(first_event_at=now())


# --- Settings pages -------------------------------------------------------------------


@transaction.atomic
def site_update(
    *,
    site: Site,
    display_name: str,
    hostname: str,
    timezone: str,
    public: bool,
    reporting_currency: str | None = None,
) -> Site:
    """Change a site's name, hostname (its Plausible ``domain`` follows), time zone, visibility
    and reporting currency (None keeps it). A new reporting currency re-converts the site's
    stored revenue after commit (``stats`` on ``site_currency_changed``, docs/revenue.md)."""
    host = normalize_hostname(hostname)
    validate_hostname(host)
    validate_timezone(timezone)
    currency = site.reporting_currency if reporting_currency is None else reporting_currency
    validate_reporting_currency(currency)
    name = _display_name(display_name, host)
    if host != site.hostname:
        # A new name starts unverified (unless it was already a verified alias of this site).
        SiteDomain.objects.filter(site=site, domain=site.hostname).delete()
        SiteDomain.objects.get_or_create(site=site, domain=host)
    timezone_changed = timezone != site.timezone
    currency_changed = currency != site.reporting_currency
    site.display_name = name
    site.hostname = host
    site.timezone = timezone
    site.public = bool(public)
    site.reporting_currency = currency
    site.save()
    if timezone_changed:
        signals.site_timezone_changed.send(sender=Site, site=site)
    if currency_changed:
        signals.site_currency_changed.send(sender=Site, site=site)
    _forget_cached_site()
    return site


def validate_reporting_currency(code: str) -> None:
    """A reporting currency must be one the ECB reference rates still publish."""
    if code not in reporting_currencies():
        raise ValidationError(
            {"reporting_currency": f"{code!r} is not a currency the exchange rates know."}
        )


def site_verify_domains(*, site: Site) -> dict[str, str]:
    """Check each of the site's names for its verification token (DNS TXT or file).

    Returns ``{domain: "dns" | "file"}`` for the names proved now, and marks them
    verified; a failed check leaves an earlier verification alone (DNS has bad minutes).
    The most recently verified site wins a shared name, so a domain that changed hands
    follows its new owner once they verify it.
    """
    proved: dict[str, str] = {}
    for domain in site.domains.order_by("domain"):
        how = verification.check(
            domain.domain,
            site.verification_token,
            allow_private=settings.SITE_VERIFICATION_ALLOW_PRIVATE,
        )
        if how:
            proved[domain.domain] = how
    if proved:
        SiteDomain.objects.filter(site=site, domain__in=proved).update(verified_at=now())
        _forget_cached_site()
    return proved


def parse_excluded_ips(text: str) -> list[str]:
    """One address or CIDR per line (or comma-separated) → normalised list; bad lines refused."""
    values, bad = [], []
    for raw in re.split(r"[\s,]+", text or ""):
        if not raw:
            continue
        try:
            values.append(str(ipaddress.ip_network(raw, strict=False)))
        except ValueError:
            bad.append(raw)
    if bad:
        raise ValidationError(
            {"excluded_ips": f"Not an IP address or CIDR range: {', '.join(bad[:5])}."}
        )
    return list(dict.fromkeys(values))


def site_tracking_update(
    *,
    site: Site,
    bot_filter: bool,
    excluded_ips: list[str],
    respect_dnt: bool,
    long_lived_visitor_ids: bool,
    behaviour_collectors: bool,
    collectors: dict[str, bool],
    retention_days: int | None,
) -> Site:
    """Save a site's tracking options; ingestion picks them up within its cache TTL."""
    unknown = set(collectors) - COLLECTOR_NAMES
    if unknown:
        raise ValidationError(f"Unknown collectors: {', '.join(sorted(unknown))}.")
    if retention_days is not None and not 1 <= retention_days <= 36500:
        raise ValidationError({"retention_days": "Keep events between 1 and 36500 days."})
    site.bot_filter = bool(bot_filter)
    site.excluded_ips = list(excluded_ips)
    site.respect_dnt = bool(respect_dnt)
    site.long_lived_visitor_ids = bool(long_lived_visitor_ids)
    site.behaviour_collectors = bool(behaviour_collectors)
    site.settings = {
        **(site.settings or {}),
        "collectors": {name: bool(collectors.get(name)) for name in sorted(COLLECTOR_NAMES)},
    }
    site.retention_days = retention_days
    site.save()
    _forget_cached_site()
    return site


def _forget_cached_site() -> None:
    """This process drops its cached sites at once; other workers within the cache TTL."""
    site_lookup.clear()


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete a site with its statistics (events are not cascaded by the database).

    Its clients go with it (cascade); their OAuth applications and tokens are deleted
    explicitly, as the link from a client to its application is the other way round.
    """
    signals.site_deleting.send(sender=Site, site=site)  # statistics go first (stats)
    Application.objects.filter(api_client__site=site).delete()
    site.delete()
    _forget_cached_site()


# --- Members ------------------------------------------------------------------------


def _require(actor, action, site: Site) -> Role:
    role = site_role(actor, site)
    if not role_allows(role, action):
        raise PermissionDenied("You may not do this on this site.")
    return role


def _is_last_owner(site: Site, membership: SiteMembership) -> bool:
    return (
        membership.role == Role.OWNER
        and not site.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()
    )


@transaction.atomic
def member_invite(*, site: Site, actor: User, email: str, role: Role | str):
    """Invite ``email``: always an emailed token, whether or not the address has an account.

    Returns ``(invitation, token)``. Nobody becomes a member here: only the address's
    owner, logged in with it verified, does by accepting (``invitation_accept``), so
    typing someone's address never grants anything and the answer never tells whether
    the address has an account. Only an Owner may grant Owner.
    """
    actor_role = _require(actor, Action.MANAGE_MEMBERS, site)
    role = Role(role)
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise PermissionDenied("Only an Owner can make someone an Owner.")
    email = (email or "").strip().lower()
    # Members are listed on this page already: saying so tells the inviter nothing new.
    if SiteMembership.objects.filter(site=site, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this site."})
    return invitation_create(site=site, email=email, role=role, invited_by=actor)


@transaction.atomic
def member_role_change(*, site: Site, actor: User, membership: SiteMembership, role) -> None:
    """Change a member's role: Admins cannot touch Owners or grant Owner; one Owner stays."""
    actor_role = _require(actor, Action.MANAGE_MEMBERS, site)
    role = Role(role)
    membership = SiteMembership.objects.select_for_update().get(pk=membership.pk, site=site)
    if actor_role != Role.OWNER and (role == Role.OWNER or membership.role == Role.OWNER):
        raise PermissionDenied("Only an Owner can change Owners or grant Owner.")
    if role != Role.OWNER and _is_last_owner(site, membership):
        raise ValidationError("A site needs at least one Owner: transfer ownership first.")
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def member_remove(*, site: Site, actor: User, membership: SiteMembership) -> None:
    """Remove a member: Admins cannot remove Owners; the last Owner cannot be removed."""
    actor_role = _require(actor, Action.MANAGE_MEMBERS, site)
    membership = SiteMembership.objects.select_for_update().get(pk=membership.pk, site=site)
    if membership.role == Role.OWNER and actor_role != Role.OWNER:
        raise PermissionDenied("Only an Owner can remove an Owner.")
    membership_remove(site=site, user=membership.user)


@transaction.atomic
def ownership_transfer(*, site: Site, actor: User, membership: SiteMembership) -> None:
    """Make another member the Owner; the actor's own Owner membership becomes Admin."""
    _require(actor, Action.TRANSFER_OWNERSHIP, site)
    membership = SiteMembership.objects.select_for_update().get(pk=membership.pk, site=site)
    if membership.user_id == actor.pk:
        raise ValidationError("Choose another member to transfer ownership to.")
    membership.role = Role.OWNER
    membership.save(update_fields=["role"])
    SiteMembership.objects.filter(site=site, user=actor, role=Role.OWNER).update(role=Role.ADMIN)


# --- Invitations --------------------------------------------------------------

INVITATION_LIFETIME_DAYS = 7


@transaction.atomic
def invitation_create(
    *, site: Site, email: str, role: Role | str, invited_by: User | None
) -> tuple[Invitation, str]:
    """A new invitation for ``email`` (replacing a pending one); returns it and its token.

    The token is returned only here, to be put in the emailed link.
    """
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
        expires_at=now() + timedelta(days=INVITATION_LIFETIME_DAYS),
    )
    return invitation, token


def invitation_send(*, invitation: Invitation, accept_url: str) -> None:
    """Email the accept link (the only place the token ever goes)."""
    inviter = invitation.invited_by.email if invitation.invited_by_id else "Someone"
    name = one_line(invitation.site.display_name)
    mail_send(
        invitation.email,
        f"You are invited to {name} on Footfall",
        f"{inviter} invited you to see the statistics of {name} "
        f"({invitation.site.hostname}) as {invitation.get_role_display()}.\n\n"
        f"Accept the invitation (log in or sign up with {invitation.email}):\n{accept_url}\n\n"
        f"The link expires in {INVITATION_LIFETIME_DAYS} days.",
    )


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.delete()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> SiteMembership:
    """Make ``user`` a member with the invited role (keeping a stronger role they have).

    The only way anyone joins a site: the recipient of the emailed link, logged in with
    that verified address, accepts it.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError("This invitation has expired or was already used.")
    # The account's address must be the invited one *and* proven by its owner: typing an
    # address at sign-up or on the profile page proves nothing.
    if invitation.email.lower() != user.email.lower() or not user.email_verified:
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
    invitation.accepted_at = now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
