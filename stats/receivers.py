"""stats' part when a site changes (``sites.signals``, sent by ``sites.services``)."""

from django.db import transaction

from stats.services import site_rollups_invalidate, site_stats_reset
from stats.tasks import reconvert_revenue


def on_site_deleting(sender, *, site, **kwargs) -> None:
    """Events are not cascaded by the database: delete them and the rollups first."""
    site_stats_reset(site)


def on_site_timezone_changed(sender, *, site, **kwargs) -> None:
    """Days are rolled up in the site's zone: the next run recomputes every day."""
    site_rollups_invalidate(site)


def on_site_currency_changed(sender, *, site, **kwargs) -> None:
    """Re-convert the stored revenue once the new currency is committed (docs/revenue.md)."""
    site_id = site.pk
    transaction.on_commit(lambda: reconvert_revenue.delay(site_id))
