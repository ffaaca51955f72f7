"""``manage.py consume_events``: write buffered events from Redis to the database."""

import os
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking.consumer import EventConsumer


class Command(BaseCommand):
    help = "Consume the event stream (Redis) into the events table, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--claim-idle-ms", type=int, default=30_000)
        parser.add_argument("--once", action="store_true", help="Drain what is there, then exit.")

    def handle(self, *args, name, batch_size, claim_idle_ms, once, **options):
        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: without Redis events are stored directly.")
        consumer = EventConsumer(
            name, batch_size=batch_size, block_ms=100 if once else 1000, claim_idle_ms=claim_idle_ms
        )
        if once:
            total = 0
            while handled := consumer.run_once():
                total += handled
            self.stdout.write(f"{total} stream entries written")
            return
        consumer.run_forever()
