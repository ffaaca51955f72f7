"""``manage.py report add|list|remove``: scheduled email reports from scripts, printing JSON."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stats.notifications import services
from stats.notifications.management.commands._common import site_arg, validation_message
from stats.notifications.models import Frequency, Report


def report_json(report: Report) -> dict:
    return {
        "id": report.pk,
        "site": report.site.public_id,
        "email": report.email,
        "every": report.frequency,
        "created_at": report.created_at.isoformat(),
    }


class Command(BaseCommand):
    help = "Add, list or remove scheduled email reports; prints JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Subscribe an address to a site's report")
        add.add_argument("--site", required=True, help="Site id or public id")
        add.add_argument("--email", required=True)
        add.add_argument("--every", required=True, choices=Frequency.values)
        listing = sub.add_parser("list", help="List reports")
        listing.add_argument("--site", help="Only this site")
        remove = sub.add_parser("remove", help="Remove a report")
        remove.add_argument("--id", type=int, required=True)

    def handle(self, *args, action, **options):
        if action == "add":
            site = site_arg(options["site"])
            try:
                report = services.report_create(
                    site=site, email=options["email"], frequency=options["every"]
                )
            except ValidationError as error:
                raise CommandError(validation_message(error)) from error
            self.stdout.write(json.dumps(report_json(report), indent=2))
        elif action == "list":
            reports = Report.objects.select_related("site").order_by("pk")
            if options["site"]:
                reports = reports.filter(site=site_arg(options["site"]))
            self.stdout.write(json.dumps([report_json(r) for r in reports], indent=2))
        else:
            report = Report.objects.select_related("site").filter(pk=options["id"]).first()
            if report is None:
                raise CommandError(f"Unknown report {options['id']}.")
            data = report_json(report)
            services.report_delete(report=report)
            self.stdout.write(json.dumps({**data, "removed": True}, indent=2))
