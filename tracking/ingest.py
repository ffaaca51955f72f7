"""``accept``: the single entry point every protocol adapter calls.

Enrich each hit, count the drops, enqueue the accepted rows in one call. When the
rows cannot be made durable (``buffer.BufferUnavailable``) the exception reaches
the adapter, which answers its protocol's 5xx: a 2xx always means the event is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracking import buffer, drops, pipeline, sessions
from tracking.buffer import BacklogFull, BufferUnavailable
from tracking.hits import DropReason, Hit

__all__ = ["BacklogFull", "BufferUnavailable", "Outcome", "accept"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one hit: stored under ``event_id``, or dropped for ``dropped``."""

    event_id: str | None = None
    dropped: DropReason | None = None


def accept(hits: list[Hit]) -> list[Outcome]:
    """Enrich and enqueue ``hits``; one outcome per hit, in order."""
    received_at = datetime.now(UTC)
    store = sessions.SessionStore()
    rows: list[dict] = []
    outcomes: list[Outcome] = []
    for hit in hits:
        result = pipeline.enrich(hit, received_at, store)
        if isinstance(result, DropReason):
            drops.count_drop(hit.site.id, result)
            outcomes.append(Outcome(dropped=result))
        else:
            rows.append(result)
            outcomes.append(Outcome(event_id=result["id"]))
    # Sessions are saved with the events, in one round trip: a hit that could not be
    # made durable leaves no session behind either.
    buffer.enqueue(rows, sessions=store)
    return outcomes
