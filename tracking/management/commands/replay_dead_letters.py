"""``manage.py replay_dead_letters``: write parked events again once the cause is fixed."""

from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django.utils import timezone

from tracking import buffer, writer
from tracking.models import DeadLetter


class Command(BaseCommand):
    help = "Retry the events the consumer could not write (idempotent: stored events are skipped)."

    def handle(self, *args, **options):
        replayed = failed = 0
        for letter in DeadLetter.objects.filter(replayed_at__isnull=True).order_by("pk"):
            try:
                writer.write_rows(buffer.decode(letter.payload.encode()))
            except (ValueError, TypeError, DatabaseError) as exc:
                failed += 1
                self.stderr.write(f"dead letter {letter.pk} still fails: {exc}")
                continue
            letter.replayed_at = timezone.now()
            letter.save(update_fields=["replayed_at"])
            replayed += 1
        self.stdout.write(f"{replayed} replayed, {failed} still failing")
