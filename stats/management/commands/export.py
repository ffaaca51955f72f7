"""``manage.py export events --site ID --from DAY --to DAY --format ndjson|csv``: every stored
event of a site (events hold no IP address), for full portability; ``manage.py export
plausible --site ID --from DAY --to DAY --out FILE.zip``: the site's native data as
Plausible's CSV export (docs/imports.md)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from stats.imports import plausible_export
from tracking import imports


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a day (YYYY-MM-DD)") from exc


class _Unterminated:
    """The command's stdout as a plain text stream (its ``write`` would add line ends)."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")


class Command(BaseCommand):
    help = "Export a site's data: every stored event (NDJSON, CSV) or Plausible's CSV zip."

    def add_arguments(self, parser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="{events,plausible}")
        plausible = kinds.add_parser("plausible", help="Plausible's CSV export (a zip)")
        plausible.add_argument("--site", required=True, help="the site's number or public id")
        plausible.add_argument("--from", dest="first", required=True, help="first day")
        plausible.add_argument("--to", dest="last", required=True, help="last day, included")
        plausible.add_argument("--out", required=True, help="the zip file to write")
        plausible.add_argument(
            "--user", help="act as this user (e-mail): refused unless an Owner or Admin"
        )
        events = kinds.add_parser("events", help="every stored event")
        events.add_argument("--site", required=True, help="the site's number or public id")
        events.add_argument("--from", dest="first", help="first day (site's time zone)")
        events.add_argument("--to", dest="last", help="last day, included")
        events.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")
        events.add_argument("--output", help="write to this file instead of standard output")
        events.add_argument(
            "--user", help="act as this user (e-mail): refused unless an Owner or Admin"
        )

    def handle(self, *args, **options) -> None:
        try:
            site = imports.site_for_command(options["site"], options.get("user"))
        except (LookupError, PermissionError) as exc:
            raise CommandError(str(exc)) from exc
        first = _day(options["first"]) if options.get("first") else None
        last = _day(options["last"]) if options.get("last") else None
        if first and last and last < first:
            raise CommandError("--to is before --from")
        if options["kind"] == "plausible":
            data = plausible_export(site, first, last)
            with open(options["out"], "wb") as out:
                out.write(data)
            self.stderr.write(f"{len(data)} bytes written to {options['out']}")
            return
        events = imports.export_events(site.pk, site.timezone, first, last)
        write = imports.write_csv if options["format"] == "csv" else imports.write_ndjson
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                count = write(events, out)
        else:
            count = write(events, _Unterminated(self.stdout))
        self.stderr.write(f"{count} events exported")
