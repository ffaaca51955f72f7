"""``manage.py alerts check [--now ISO]``: what beat runs every minute, with a clock."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from stats.notifications import services
from stats.notifications.management.commands._common import now_arg


class Command(BaseCommand):
    help = "Check the alerts and send what fired; prints JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Check every alert at --now (default: now)")
        check.add_argument("--now", help="ISO 8601 time to run at (UTC without an offset)")

    def handle(self, *args, action, **options):
        result = services.alerts_check(now_arg(options["now"]))
        self.stdout.write(json.dumps(result, indent=2, default=str))
