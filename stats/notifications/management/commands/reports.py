"""``manage.py reports send-due [--now ISO]``: what beat runs, with an injectable clock."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from stats.notifications import services
from stats.notifications.management.commands._common import now_arg


class Command(BaseCommand):
    help = "Send the scheduled reports that are due; prints JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send-due", help="Send every report due at --now (default: now)")
        send.add_argument("--now", help="ISO 8601 time to run at (UTC without an offset)")

    def handle(self, *args, action, **options):
        result = services.reports_send_due(now_arg(options["now"]))
        self.stdout.write(json.dumps(result, indent=2, default=str))
