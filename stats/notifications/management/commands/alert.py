"""``manage.py alert add|list|remove``: traffic alerts from scripts, printing JSON."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from stats.models import Goal
from stats.notifications import services
from stats.notifications.management.commands._common import site_arg, validation_message
from stats.notifications.models import Alert, AlertKind, GoalMetric, Webhook, WebhookFormat


def alert_json(alert: Alert, secrets: dict[int, str] | None = None) -> dict:
    return {
        "id": alert.pk,
        "site": alert.site.public_id,
        "kind": alert.kind,
        "threshold": float(alert.threshold),
        "hours": alert.hours,
        "goal": alert.goal.name if alert.goal else None,
        "metric": alert.metric,
        "cooldown_hours": alert.cooldown_hours,
        "emails": alert.emails,
        "webhooks": [
            {
                "id": hook.pk,
                "url": hook.url,
                "format": hook.format,
                # The signing secret, shown once: only when this command created the webhook.
                **({"secret": secrets[hook.pk]} if secrets and hook.pk in secrets else {}),
            }
            for hook in alert.webhooks.all()
        ],
    }


class Command(BaseCommand):
    help = "Add, list or remove traffic alerts; prints JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an alert to a site")
        add.add_argument("--site", required=True, help="Site id or public id")
        add.add_argument("--kind", required=True, choices=AlertKind.values)
        add.add_argument("--threshold", required=True)
        add.add_argument("--hours", type=int, help="Window for drop, no-data and goal alerts")
        add.add_argument("--email", action="append", default=[], help="A recipient (repeatable)")
        add.add_argument("--webhook", help="A webhook URL (https)")
        add.add_argument("--format", choices=WebhookFormat.values, default=WebhookFormat.JSON)
        add.add_argument("--goal", help="Goal name or id (goal alerts; default: every goal)")
        add.add_argument("--metric", choices=GoalMetric.values, default=GoalMetric.CONVERSIONS)
        add.add_argument("--cooldown", type=int, default=12, help="Hours between two firings")
        listing = sub.add_parser("list", help="List alerts")
        listing.add_argument("--site", help="Only this site")
        remove = sub.add_parser("remove", help="Remove an alert")
        remove.add_argument("--id", type=int, required=True)

    def handle(self, *args, action, **options):
        if action == "list":
            alerts = Alert.objects.select_related("site", "goal").order_by("pk")
            if options["site"]:
                alerts = alerts.filter(site=site_arg(options["site"]))
            self.stdout.write(json.dumps([alert_json(a) for a in alerts], indent=2))
            return
        if action == "remove":
            alert = Alert.objects.select_related("site", "goal").filter(pk=options["id"]).first()
            if alert is None:
                raise CommandError(f"Unknown alert {options['id']}.")
            data = alert_json(alert)
            services.alert_delete(alert=alert)
            self.stdout.write(json.dumps({**data, "removed": True}, indent=2))
            return
        site = site_arg(options["site"])
        goal = None
        if options["goal"]:
            goals = Goal.objects.filter(site=site)
            goal = (
                goals.filter(pk=int(options["goal"])).first() if options["goal"].isdigit() else None
            ) or goals.filter(name=options["goal"]).first()
            if goal is None:
                raise CommandError(f"Unknown goal {options['goal']!r} on this site.")
        secrets: dict[int, str] = {}
        try:
            with transaction.atomic():  # a webhook made for an alert that fails is not kept
                alert = self._add(site, goal, options, secrets)
        except ValidationError as error:
            raise CommandError(validation_message(error)) from error
        self.stdout.write(json.dumps(alert_json(alert, secrets), indent=2))

    def _add(self, site, goal, options, secrets: dict[int, str]) -> Alert:
        webhook_ids = []
        if options["webhook"]:
            hook = Webhook.objects.filter(
                site=site, url=options["webhook"], format=options["format"]
            ).first()
            if hook is None:
                hook, secret = services.webhook_create(
                    site=site, url=options["webhook"], format=options["format"]
                )
                secrets[hook.pk] = secret
            webhook_ids.append(hook.pk)
        return services.alert_create(
            site=site,
            kind=options["kind"],
            threshold=options["threshold"],
            hours=options["hours"],
            emails=options["email"],
            webhook_ids=webhook_ids,
            goal=goal,
            metric=options["metric"],
            cooldown_hours=options["cooldown"],
        )
