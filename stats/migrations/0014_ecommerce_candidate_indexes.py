"""Partial indexes on ``(site_id, timestamp)`` of the events the ecommerce report reads
(PostgreSQL only; ``stats.ecommerce.selectors``, docs/ecommerce.md "Storage"): Matomo's
order and cart events, and product page views (``product_sku``), in the raw table and in the
rolled-up copy. The report finds them among a month's page views by index instead of a
range scan; only those events are indexed, so writing anything else pays nothing. Built
``CONCURRENTLY`` (outside a transaction): a live site keeps writing events meanwhile."""

from django.db import migrations

ECOMMERCE = "kind = 'custom' AND name IN ('Cart Update', 'Ecommerce Order')"
PRODUCT_VIEWS = "kind = 'pageview' AND (props ->> 'product_sku') IS NOT NULL"
INDEXES = (
    ("event_ecommerce_time", "tracking_event", ECOMMERCE),
    ("event_product_view_time", "tracking_event", PRODUCT_VIEWS),
    ("rolled_event_ecommerce_time", "stats_rolledevent", ECOMMERCE),
    ("rolled_event_product_view_time", "stats_rolledevent", PRODUCT_VIEWS),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, predicate in INDEXES:
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                f'(site_id, "timestamp") '
                f"WHERE {predicate}"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _predicate in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction
    dependencies = [("stats", "0013_imported_sessions"), ("tracking", "0002_event_time_brin")]
    operations = [migrations.RunPython(create, drop)]
