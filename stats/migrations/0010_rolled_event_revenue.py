"""Revenue in the reporting currency on rolled-up events (``RolledEvent``), so statistics
of rolled days read it as they read raw events (docs/revenue.md)."""

from django.db import migrations, models

ATTRIBUTE_COLUMNS = (
    "hostname, entry_path, referrer, source, channel, utm_source, utm_medium, utm_campaign, "
    "utm_content, utm_term, browser, browser_version, os, os_version, device_type, "
    "screen_class, language, country_code, region, city"
)


def view_sql(revenue: bool) -> str:
    extra = "e.revenue_reporting, e.revenue_reporting_currency, " if revenue else ""
    return f"""
DROP VIEW IF EXISTS stats_rolledevent_view;
CREATE VIEW stats_rolledevent_view AS
    SELECT e.site_id, e."timestamp", e.id, e.kind, e.name, e.visitor_id, e.session_id, e.path,
           e.title, e.props, e.interactive, e.duration_ms, e.scroll_depth, e.screen_width,
           e.screen_height, {extra}{ATTRIBUTE_COLUMNS}
    FROM stats_rolledevent e
    LEFT JOIN stats_sessionattributes a ON a.id = e.attributes_id AND a.site_id = e.site_id;
"""  # noqa: S608 (fixed column names only)


def add_revenue(apps, schema_editor):
    """Add the columns and copy the converted revenue of the events already rolled up
    (tracking ``0004`` converted them): only revenue events, by id."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE stats_rolledevent ADD COLUMN IF NOT EXISTS revenue_reporting "
            "numeric(18, 4), ADD COLUMN IF NOT EXISTS revenue_reporting_currency varchar(3) "
            "NOT NULL DEFAULT ''"
        )
        schema_editor.execute(view_sql(revenue=True))
        schema_editor.execute(
            "UPDATE stats_rolledevent r SET revenue_reporting = e.revenue_reporting, "
            "revenue_reporting_currency = e.revenue_reporting_currency FROM tracking_event e "
            "WHERE e.id = r.id AND e.site_id = r.site_id AND e.revenue_reporting IS NOT NULL"
        )


def drop_revenue(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(view_sql(revenue=False))
        schema_editor.execute(
            "ALTER TABLE stats_rolledevent DROP COLUMN IF EXISTS revenue_reporting, "
            "DROP COLUMN IF EXISTS revenue_reporting_currency"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0009_plausible_imports"),
        ("tracking", "0004_convert_stored_revenue"),
    ]

    operations = [
        migrations.RunPython(add_revenue, drop_revenue),
        migrations.AddField(
            model_name="rolledevent",
            name="revenue_reporting",
            field=models.DecimalField(decimal_places=4, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name="rolledevent",
            name="revenue_reporting_currency",
            field=models.CharField(blank=True, max_length=3),
        ),
    ]
