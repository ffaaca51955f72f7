"""A BRIN index on events' ``received_at``: rollups find late data by it (PostgreSQL only)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS event_received_brin ON tracking_event USING brin (received_at)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS event_received_brin")


class Migration(migrations.Migration):
    dependencies = [("stats", "0001_daily_site_stats"), ("tracking", "0002_event_time_brin")]
    operations = [migrations.RunPython(create, drop)]
