"""What happens to a site that other apps must follow, sent by ``sites.services``.

``stats`` (above sites in the layering, docs/architecture.md) connects its receivers in
``StatsConfig.ready``: a site's statistics are deleted before the site, rolled-up days are
forgotten when its time zone changes, and stored revenue is re-converted when its
reporting currency changes. Each signal is sent with ``sender=Site`` and ``site=``.
"""

from django.dispatch import Signal

site_deleting = Signal()  # inside site_delete's transaction, before the row goes
site_timezone_changed = Signal()  # inside site_update's transaction
site_currency_changed = Signal()  # inside site_update's transaction
