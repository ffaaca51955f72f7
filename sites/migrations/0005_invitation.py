"""The Invitation model moves from ``accounts`` to ``sites`` (a site's roles and invitations
belong to ``sites``, so ``accounts`` no longer points at ``sites.Site``). Only Django's state
moves: the table keeps its name ``accounts_invitation`` and its rows. The content type is
renamed so that permissions granted on invitations stay attached."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _rename_content_type(apps, schema_editor, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label=new, model="invitation").exists():
        content_type.objects.filter(app_label=old, model="invitation").update(app_label=new)


def forwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, "accounts", "sites")


def backwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, "sites", "accounts")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_apiclient_plausible_type"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sites", "0004_site_reporting_currency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Invitation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("email", models.EmailField(max_length=254)),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("viewer", "Viewer"),
                                    ("admin", "Admin"),
                                    ("owner", "Owner"),
                                ],
                                default="viewer",
                                max_length=10,
                            ),
                        ),
                        (
                            "token_hash",
                            models.CharField(editable=False, max_length=64, unique=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        ("accepted_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "accepted_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "invited_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="invitations",
                                to="sites.site",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_invitation",
                        "ordering": ["-created_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
