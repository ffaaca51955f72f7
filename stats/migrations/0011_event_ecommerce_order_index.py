"""A partial index on Matomo order events' ``order_id`` per site (PostgreSQL only): the
ecommerce reads find each order id's first tracking by it (``stats.ecommerce.selectors``,
docs/ecommerce.md). Only order events are indexed, so ingestion of everything else pays
nothing for it."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS event_ecommerce_order ON tracking_event "
            "(site_id, (props ->> 'order_id'), \"timestamp\") "
            "WHERE kind = 'custom' AND name = 'Ecommerce Order'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS event_ecommerce_order")


class Migration(migrations.Migration):
    dependencies = [("stats", "0010_rolled_event_revenue"), ("tracking", "0002_event_time_brin")]
    operations = [migrations.RunPython(create, drop)]
