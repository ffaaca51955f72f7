"""A BRIN index on event time: tiny, and ideal for append-only time-range scans (PostgreSQL only)."""

from django.db import migrations


def create_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS event_time_brin ON tracking_event USING brin (timestamp)"
        )


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS event_time_brin")


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]
    operations = [migrations.RunPython(create_brin, drop_brin)]
