"""``manage.py reroll --site ID | --all``: recompute the rollups of days already rolled up.

Needed once after upgrading to session-scoped visit attributes (docs/statistics.md,
"Session scope"): rollups written before count a visitor under each value its events
carried. Runs next to the scheduled rollups (never at the same time: their lock)."""

from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from sites.models import Site
from stats.rollups import ADVISORY_LOCK_ID, reroll_site


class Command(BaseCommand):
    help = "Roll up again every day already rolled up, for one site or all sites."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--site", type=int, help="the site's id")
        which.add_argument("--all", action="store_true", help="every site")

    def handle(self, *args, **options):
        sites = Site.objects.order_by("pk")
        if options["site"] is not None:
            sites = sites.filter(pk=options["site"])
            if not sites.exists():
                raise CommandError(f"no site with id {options['site']}")
        with _rollup_lock():
            for site in sites:
                days = reroll_site(site)
                self.stdout.write(f"site {site.pk}: {days} days rolled up again")


@contextmanager
def _rollup_lock():
    """The scheduled rollups' lock (PostgreSQL): a run in progress makes this fail fast."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_ID])
        if not cursor.fetchone()[0]:
            raise CommandError("the rollups are running: try again when they are done")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
