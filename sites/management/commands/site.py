"""``manage.py site create|list|verify``: provision sites from scripts, printing JSON."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from sites.models import Site
from sites.selectors import site_identifiers
from sites.services import site_create, site_verify_domains


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Create or list sites; prints JSON with every protocol identifier."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a site")
        create.add_argument("--name", required=True)
        create.add_argument("--hostname", required=True)
        create.add_argument("--timezone", default="UTC")
        create.add_argument("--owner", help="Email of the owning user")
        create.add_argument(
            "--alias", action="append", default=[], help="Another Plausible domain name"
        )
        sub.add_parser("list", help="List all sites")
        verify = sub.add_parser(
            "verify", help="Check a site's names for its verification token (DNS TXT or file)"
        )
        verify.add_argument("--site", required=True, help="The site's id (public id or idsite)")

    def handle(self, *args, action, **options):
        if action == "list":
            sites = Site.objects.order_by("pk").prefetch_related("domains")
            self.stdout.write(json.dumps([site_identifiers(site) for site in sites], indent=2))
            return
        if action == "verify":
            self._verify(options["site"])
            return
        owner = None
        if options["owner"]:
            owner = User.objects.filter(email__iexact=options["owner"]).first()
            if owner is None:
                raise CommandError(f"Unknown owner: no user with email {options['owner']}.")
        try:
            site = site_create(
                display_name=options["name"],
                hostname=options["hostname"],
                timezone=options["timezone"],
                owner=owner,
                aliases=options["alias"],
            )
        except ValidationError as error:
            raise CommandError(validation_message(error)) from error
        self.stdout.write(json.dumps(site_identifiers(site), indent=2))

    def _verify(self, ident: str) -> None:
        """Print every name's state; exit 1 when the site's hostname is not verified."""
        lookup = {"pk": int(ident)} if ident.isdigit() else {"public_id": ident}
        site = Site.objects.filter(**lookup).first()
        if site is None:
            raise CommandError(f"Unknown site: {ident}.")
        proved = site_verify_domains(site=site)
        domains = {
            d.domain: d.verified_at.isoformat() if d.verified_at else None
            for d in site.domains.order_by("domain")
        }
        self.stdout.write(
            json.dumps(
                {
                    "id": site.public_id,
                    "hostname": site.hostname,
                    "verification_token": site.verification_token,
                    "verified_now": proved,
                    "domains": domains,
                },
                indent=2,
            )
        )
        if domains.get(site.hostname) is None:
            raise CommandError(f"{site.hostname} is not verified.")
