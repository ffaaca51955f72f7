"""``manage.py import``: history into a site (docs/imports.md).

- ``import plausible --site ID FILE.zip [FILE …]``  Plausible's CSV export (the zip or its
  files), run here with a progress bar on standard error (the same run as the Celery task
  the site settings start);
- ``import events --site ID FILE``  raw events (CSV or NDJSON) from any system;
- ``import list --site ID``, ``import cancel ID``, ``import delete ID``.

Both imports print ``{"import_id", "rows", "days", "from", "to"}``; the same file imported
again is the same import (nothing doubles).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from stats.imports import (
    ImportRefused,
    as_json,
    describe,
    events_import,
    import_cancel,
    import_create,
    import_delete,
    import_get,
    imports_for_site,
    plausible_import_run,
)
from tracking import imports


def _user(email: str | None):
    if email is None:
        return None

    return User.objects.filter(email__iexact=email.strip()).first()


class Command(BaseCommand):
    help = "Import data into a site: Plausible CSV exports or raw events; list, cancel, delete."

    def add_arguments(self, parser) -> None:
        kinds = parser.add_subparsers(
            dest="kind", required=True, metavar="{plausible,events,list,cancel,delete}"
        )
        events = kinds.add_parser("events", help="raw hits as CSV (with a header) or NDJSON")
        events.add_argument("--site", required=True, help="the site's number or public id")
        events.add_argument(
            "--user", help="act as this user (e-mail): refused unless an Owner or Admin"
        )
        events.add_argument("file", help="the CSV or NDJSON file")
        plausible = kinds.add_parser("plausible", help="Plausible's CSV export (zip or files)")
        plausible.add_argument("--site", required=True, help="the site's number or public id")
        plausible.add_argument(
            "--user", help="act as this user (e-mail): refused unless an Owner or Admin"
        )
        plausible.add_argument("files", nargs="+", help="the export's zip, or its CSV files")
        listing = kinds.add_parser("list", help="a site's imports")
        listing.add_argument("--site", required=True, help="the site's number or public id")
        listing.add_argument("--user")
        for name, text in (("cancel", "stop a running import"), ("delete", "remove an import")):
            command = kinds.add_parser(name, help=text)
            command.add_argument("import_id")
            command.add_argument("--user")

    def handle(self, *args, **options) -> None:
        kind = options["kind"]
        if kind in ("cancel", "delete"):
            return self._cancel_or_delete(kind, options)
        try:
            site = imports.site_for_command(options["site"], options.get("user"))
        except (LookupError, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        if kind == "list":
            for item in imports_for_site(site.pk):
                self.stdout.write(json.dumps(describe(item)))
            return None
        if kind == "plausible":
            return self._plausible(site, options)
        return self._events(site, options)

    def _read(self, name: str) -> bytes:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            return imports.read_file(path, settings.IMPORT_MAX_BYTES)
        except imports.BadImport as exc:
            raise CommandError(str(exc)) from exc

    def _events(self, site, options) -> None:

        name = options["file"]
        data = self._read(name)
        try:
            imported, result = events_import(
                site=site, data=data, name=name, user=_user(options.get("user"))
            )
        except imports.BadImport as exc:
            raise CommandError(str(exc)) from exc
        if result.dropped:
            self.stderr.write(
                "not stored on purpose: "
                + ", ".join(f"{n} {reason}" for reason, n in sorted(result.dropped.items()))
            )
        self.stdout.write(json.dumps(as_json(imported)))

    def _plausible(self, site, options) -> None:

        files = [(name, self._read(name)) for name in options["files"]]
        try:
            imported, run = import_create(
                site=site, kind="plausible", files=files, user=_user(options.get("user"))
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        if run:
            imported = plausible_import_run(imported.pk, files, progress=self._bar)
            self.stderr.write("")
        if imported.status == "failed":
            raise CommandError(imported.error)
        if imported.status == "cancelled":
            raise CommandError(f"import {imported.pk} was cancelled")
        self.stdout.write(json.dumps(as_json(imported)))

    def _bar(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        percent = 100 * done // total if total else 100
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done}/{total} rows",
            ending="",
        )
        self.stderr.flush()

    def _cancel_or_delete(self, kind: str, options) -> None:

        imported = import_get(options["import_id"])
        if imported is None:
            raise CommandError(f"no import {options['import_id']!r}")
        try:
            imports.site_for_command(str(imported.site_id), options.get("user"))
        except (LookupError, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        if kind == "cancel":
            self.stdout.write(json.dumps(describe(import_cancel(imported))))
        else:
            import_delete(imported)
            self.stdout.write(json.dumps({"import_id": options["import_id"], "deleted": True}))
