"""Partial indexes on the events that carry converted revenue (PostgreSQL only): revenue
statistics (``stats.revenue``) read only those events of a range, so they cost a few index
entries instead of a scan of every event (docs/revenue.md). Events without revenue, nearly
all of them, are not in the indexes: ingestion pays nothing for them."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS event_revenue ON tracking_event (site_id, "timestamp") '
            "WHERE revenue_amount IS NOT NULL"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS rolled_event_revenue ON stats_rolledevent "
            '(site_id, "timestamp") WHERE revenue_reporting IS NOT NULL'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP INDEX IF EXISTS event_revenue; DROP INDEX IF EXISTS rolled_event_revenue"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0011_event_ecommerce_order_index"),
        ("tracking", "0004_convert_stored_revenue"),
    ]
    operations = [migrations.RunPython(create, drop)]
