"""Revenue stored before conversion existed gets its amount in the site's reporting
currency (EUR unless changed), as new events get it at ingest (docs/revenue.md)."""

from django.db import migrations


def convert_stored_revenue(apps, schema_editor):
    from tracking.revenue import revenue_reconvert

    Event = apps.get_model("tracking", "Event")
    Site = apps.get_model("sites", "Site")
    site_ids = Event.objects.filter(revenue_amount__isnull=False).values("site_id").distinct()
    for site in Site.objects.filter(pk__in=site_ids).only("pk", "reporting_currency"):
        revenue_reconvert(site_id=site.pk, currency=site.reporting_currency, model=Event)


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0004_site_reporting_currency"),
        ("tracking", "0003_event_revenue_reporting"),
    ]

    operations = [migrations.RunPython(convert_stored_revenue, migrations.RunPython.noop)]
