"""``manage.py user create --email E [--superuser]``: prints the generated password once."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_create


class Command(BaseCommand):
    help = "Create users from scripts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a user with a generated password")
        create.add_argument("--email", required=True)
        create.add_argument("--superuser", action="store_true")

    def handle(self, *args, action, **options):
        try:
            user, password = user_create(email=options["email"], superuser=options["superuser"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(json.dumps({"email": user.email, "password": password}))
