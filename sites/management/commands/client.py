"""``manage.py client create|list|revoke``: API clients from the command line.

``create`` prints the secret once, as JSON; it is never shown again.
"""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiClient, User
from accounts.services import api_client_create, api_client_revoke
from sites.models import Site


def describe(client: ApiClient) -> dict:
    return {
        "id": client.public_id,
        "type": client.type,
        "scopes": client.scopes,
        "description": client.description,
        "user": client.user.email,
        "site": client.site.public_id if client.site_id else None,
        "secret": client.masked_secret,
        "created_at": client.created_at.isoformat(),
        "last_used_at": client.last_used_at.isoformat() if client.last_used_at else None,
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


class Command(BaseCommand):
    help = (
        "Create, list and revoke API clients (OAuth, pa_ access keys, sk_live_ read keys, "
        "Matomo tokens, Plausible keys with the stats/sites scopes)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--site", help="Public id of the site (a site client)")
        owner.add_argument("--user", help="Email of the user (an account client)")
        create.add_argument(
            "--type", required=True, choices=["oauth", "key", "read", "matomo", "plausible"]
        )
        create.add_argument(
            "--scopes", default="", help="Comma-separated scopes (default: the type's)"
        )
        create.add_argument("--description", default="")
        create.add_argument(
            "--as-user", help="Creator of a site client (default: the site's first Owner)"
        )
        listing = sub.add_parser("list")
        listing.add_argument("--site")
        listing.add_argument("--user")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("id")

    def handle(self, *args, action, **options):
        if action == "create":
            self.stdout.write(json.dumps(self._create(options)))
        elif action == "list":
            clients = ApiClient.objects.select_related("user", "site", "application").order_by(
                "created_at"
            )
            if options["site"]:
                clients = clients.filter(site__public_id=options["site"])
            if options["user"]:
                clients = clients.filter(user__email__iexact=options["user"])
            self.stdout.write(json.dumps([describe(c) for c in clients], indent=2))
        else:
            client = ApiClient.objects.filter(public_id=options["id"]).first()
            if client is None:
                raise CommandError(f"No client with id {options['id']}.")
            api_client_revoke(client=client)
            self.stdout.write(json.dumps(describe(client)))

    def _create(self, options) -> dict:
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()] or None
        site = None
        if options["site"]:
            site = Site.objects.filter(public_id=options["site"]).first()
            if site is None:
                raise CommandError(f"No site with id {options['site']}.")
            if options["as_user"]:
                user = User.objects.filter(email__iexact=options["as_user"]).first()
            else:
                membership = (
                    site.memberships.filter(role="owner")
                    .select_related("user")
                    .order_by("created_at")
                    .first()
                )
                user = membership.user if membership else None
            if user is None:
                raise CommandError(
                    "The site has no Owner to create the client for: pass --as-user EMAIL."
                )
        else:
            user = User.objects.filter(email__iexact=options["user"]).first()
            if user is None:
                raise CommandError(f"No user with email {options['user']}.")
        try:
            _client, payload = api_client_create(
                user=user,
                type=options["type"],
                site=site,
                scopes=scopes,
                description=options["description"],
            )
        except (ValidationError, PermissionDenied) as error:
            message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            raise CommandError(message) from error
        return payload
