"""``manage.py import events --site ID FILE``: raw events from any system (docs/imports.md).

``import plausible`` (Plausible's CSV exports) is named here so that the command's shape is
settled; it is not available yet.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking import imports


class Command(BaseCommand):
    help = "Import data into a site: raw events (CSV or NDJSON) from any system."

    def add_arguments(self, parser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="{events,plausible}")
        events = kinds.add_parser("events", help="raw hits as CSV (with a header) or NDJSON")
        events.add_argument("--site", required=True, help="the site's number or public id")
        events.add_argument(
            "--user", help="act as this user (e-mail): refused unless an Owner or Admin"
        )
        events.add_argument("file", help="the CSV or NDJSON file")
        plausible = kinds.add_parser("plausible", help="Plausible CSV exports (not available yet)")
        plausible.add_argument("--site")
        plausible.add_argument("--user")
        plausible.add_argument("files", nargs="*")

    def handle(self, *args, **options) -> None:
        if options["kind"] != "events":
            raise CommandError(f"import {options['kind']} is not available yet.")
        try:
            site = imports.site_for_command(options["site"], options.get("user"))
        except (LookupError, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            data = imports.read_file(path, settings.IMPORT_MAX_BYTES)
            result = imports.import_events(
                site.pk, data, str(path), max_rows=settings.IMPORT_MAX_ROWS
            )
        except imports.BadImport as exc:
            raise CommandError(str(exc)) from exc
        if result.dropped:
            self.stderr.write(
                "not stored on purpose: "
                + ", ".join(f"{n} {reason}" for reason, n in sorted(result.dropped.items()))
            )
        self.stdout.write(json.dumps(result.as_json()))
