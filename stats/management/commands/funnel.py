"""``manage.py funnel create|list``: define funnels from scripts and tests, printing JSON.

``funnel create --site ID --name NAME --step "page:/pricing" --step "event:Signup"
[--step "page:/checkout|/cart"] [--window 1d] [--order sequential|strict|any]
[--scope visitor|session] [--open]`` prints the funnel with its ``id``;
``funnel list --site ID`` prints the site's funnels. ``ID`` is the site's public id or
number. Step syntax: ``stats.funnels.steps.parse_cli_step`` (docs/funnels.md)."""

import json

from django.core.management.base import BaseCommand, CommandError

from sites.models import Site
from stats.funnels.selectors import definition_json
from stats.funnels.services import funnel_create
from stats.funnels.steps import StepError, parse_cli_step
from stats.models import Funnel


def _site(ident: str) -> Site:
    lookup = {"pk": int(ident)} if ident.isdigit() else {"public_id": ident}
    site = Site.objects.filter(**lookup).first()
    if site is None:
        raise CommandError(f"Unknown site: {ident}.")
    return site


class Command(BaseCommand):
    help = "Create or list a site's funnels; prints JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a funnel")
        create.add_argument("--site", required=True, help="The site's id (public id or number)")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--step",
            action="append",
            default=[],
            help='A step: "page:/pricing", "event:Signup", "event:Signup;plan=pro", "goal:3", '
            'alternatives joined by | ("page:/checkout|/cart"); 2 to 8, in order',
        )
        create.add_argument("--window", default="1d", help="Conversion window: 30m, 12h, 1d…")
        create.add_argument("--order", default="sequential", choices=Funnel.ORDERS)
        create.add_argument("--scope", default="visitor", choices=Funnel.SCOPES)
        create.add_argument("--open", action="store_true", help="Visitors may enter at any step")
        listing = sub.add_parser("list", help="List a site's funnels")
        listing.add_argument("--site", required=True, help="The site's id (public id or number)")

    def handle(self, *args, action, **options):
        site = _site(options["site"])
        if action == "list":
            funnels = Funnel.objects.filter(site=site).order_by("pk")
            self.stdout.write(json.dumps([definition_json(f) for f in funnels], indent=2))
            return
        try:
            funnel = funnel_create(
                site,
                {
                    "name": options["name"],
                    "steps": [parse_cli_step(spec) for spec in options["step"]],
                    "window": options["window"],
                    "order": options["order"],
                    "scope": options["scope"],
                    "open": options["open"],
                },
            )
        except StepError as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        self.stdout.write(json.dumps(definition_json(funnel), indent=2))
