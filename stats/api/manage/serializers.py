"""Input and output serializers of the management API (one pair per resource).

Inputs only check types; the services (``stats.funnels.services``,
``stats.notifications.services``, ``accounts.services``) apply the rules, as for the
dashboard's forms. Outputs are the resources' JSON; a secret (a webhook's signing secret,
an API client's key or client secret) is in the ``create`` answer only.
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiClient
from stats.models import Funnel, Import
from stats.notifications.models import (
    Alert,
    AlertKind,
    Frequency,
    GoalMetric,
    Report,
    Webhook,
    WebhookFormat,
)

# --- funnels -------------------------------------------------------------------------------


class FunnelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Funnel
        fields = (
            "id",
            "name",
            "steps",
            "scope",
            "order",
            "window_seconds",
            "open",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class FunnelInputSerializer(serializers.Serializer):
    """Every field optional on ``PATCH``; ``name`` and ``steps`` needed to create."""

    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    steps = serializers.JSONField(
        required=False,
        help_text='2-8 steps, each {"name", "alternatives": [{"type": "page", "path": "/a*"}, '
        '{"type": "event", "name": "Signup", "props": {...}}, {"type": "goal", "goal": <id>}]}',
    )
    scope = serializers.ChoiceField(choices=Funnel.SCOPES, required=False)
    order = serializers.ChoiceField(choices=Funnel.ORDERS, required=False)
    window_seconds = serializers.IntegerField(required=False)
    open = serializers.BooleanField(required=False)


# --- reports -------------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ("id", "email", "frequency", "created_at")
        read_only_fields = fields


class ReportInputSerializer(serializers.Serializer):
    email = serializers.CharField(
        required=False, max_length=254, help_text="Owners and Admins only; others get their own."
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices)


# --- webhooks ------------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ("id", "name", "url", "format", "secret_prefix", "created_at")
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown this once only.")

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    format = serializers.ChoiceField(choices=WebhookFormat.choices)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


# --- alerts --------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    webhooks = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    threshold = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Alert
        fields = (
            "id",
            "kind",
            "threshold",
            "hours",
            "goal",
            "metric",
            "cooldown_hours",
            "emails",
            "webhooks",
            "enabled",
            "created_at",
            "last_fired_at",
        )
        read_only_fields = fields


class AlertInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    threshold = serializers.DecimalField(
        max_digits=18, decimal_places=2, required=False, min_value=0
    )
    hours = serializers.IntegerField(required=False, min_value=1)
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=50
    )
    webhooks = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=50
    )
    goal = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    metric = serializers.ChoiceField(choices=GoalMetric.choices, required=False)
    cooldown_hours = serializers.IntegerField(required=False, min_value=1)


# --- API clients ---------------------------------------------------------------------------


class ClientSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    site = serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)
    key_last4 = serializers.CharField(read_only=True, help_text="The key's last characters.")

    class Meta:
        model = ApiClient
        fields = (
            "id",
            "type",
            "description",
            "site",
            "scopes",
            "key_last4",
            "created_at",
            "last_used_at",
            "revoked_at",
        )
        read_only_fields = fields


class ClientCreatedSerializer(ClientSerializer):
    key = serializers.CharField(required=False, help_text="The key (keys): shown this once only.")
    client_id = serializers.CharField(required=False, help_text="OAuth clients.")
    client_secret = serializers.CharField(
        required=False, help_text="OAuth clients: shown this once only."
    )

    class Meta(ClientSerializer.Meta):
        fields = (*ClientSerializer.Meta.fields, "key", "client_id", "client_secret")
        read_only_fields = fields


class ClientInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ApiClient.Type.choices)
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    site = serializers.CharField(
        required=False, max_length=20, help_text="A site's public id: a client of that site only."
    )


# --- imports -------------------------------------------------------------------------------


class ImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Import
        fields = (
            "id",
            "kind",
            "status",
            "file_name",
            "rows",
            "total_rows",
            "percent",
            "days",
            "first_day",
            "last_day",
            "error",
            "error_file",
            "error_line",
            "error_column",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields
