"""``accept``: the single entry point every protocol adapter calls.

Enrich each hit, count the drops, enqueue the accepted rows in one call. When the
rows cannot be made durable (``buffer.BufferUnavailable``) the exception reaches
the adapter, which answers its protocol's 5xx: a 2xx always means the event is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from tracking import buffer, drops, pipeline, sessions
from tracking.buffer import BacklogFull, BufferUnavailable
from tracking.hits import DropReason, EventRow, Hit

__all__ = ["BacklogFull", "BufferUnavailable", "Outcome", "accept"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one hit: stored under ``event_id``, or dropped for ``dropped``."""

    event_id: str | None = None
    dropped: DropReason | None = None


def _count_drops(dropped: list[tuple[int, DropReason]]) -> None:
    drops.count_drops(dropped)


# Attempts of one request with Redis: the guess, then checked reads while other requests
# change the visitor's sessions in between, then a last one that writes what it read
# without the check (what every request did before the check existed: under a storm of
# requests for one visitor a session may take another's changes, but none is refused).
MAX_ATTEMPTS = 3


def accept(hits: list[Hit]) -> list[Outcome]:
    """Enrich and enqueue ``hits``; one outcome per hit, in order.

    With Redis the sessions are guessed, not read, and the write checks the guesses
    (``sessions.SessionStore``): when one was wrong nothing was written, and the request
    runs again on what Redis answered."""
    received_at = datetime.now(UTC)
    optimistic = bool(settings.REDIS_URL)
    known: dict = {}
    if optimistic and len(hits) > 1:
        # A batch reads its visitors' sessions first, in one round trip: a wrong guess
        # among hundreds of visitors would run the whole batch again.
        keys = {key: None for hit in hits for key in pipeline.session_keys(hit, received_at)}
        known = sessions.read(list(keys))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        store = sessions.SessionStore(
            optimistic=optimistic, known=known, checked=attempt < MAX_ATTEMPTS
        )
        rows: list[EventRow] = []
        outcomes: list[Outcome] = []
        dropped: list[tuple[int, DropReason]] = []
        for hit in hits:
            result = pipeline.enrich(hit, received_at, store)
            if isinstance(result, DropReason):
                dropped.append((hit.site.id, result))
                outcomes.append(Outcome(dropped=result))
            else:
                rows.append(result)
                outcomes.append(Outcome(event_id=result["id"]))
        # Sessions are saved with the events, in one round trip: a hit that could not be
        # made durable leaves no session behind either.
        try:
            buffer.enqueue(rows, sessions=store)
        except buffer.SessionsChanged as changed:
            known = changed.current
            continue
        except BufferUnavailable:
            _count_drops(dropped)
            raise
        _count_drops(dropped)
        if optimistic:
            sessions.remember_written(store.dumped)
        return outcomes
    raise AssertionError("unreachable")
