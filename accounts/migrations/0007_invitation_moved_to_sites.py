"""The Invitation model now lives in ``sites`` (sites 0005): only Django's state forgets it
here; the table ``accounts_invitation`` and its rows stay, owned by ``sites.Invitation``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_apiclient_plausible_type"),
        ("sites", "0005_invitation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Invitation")],
            database_operations=[],
        ),
    ]
