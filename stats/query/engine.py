"""The database engine statistics run on, chosen once: what it can do decides the sources.

PostgreSQL answers in set-based SQL over rolled-up and raw events, filters on visit
attributes from session rows, and independent reads on connections of their own. The
embedded default (SQLite, small sites) answers from the daily rollups and otherwise from
raw events through the ORM and Python, with the same definitions (the oracle's check).
Another engine is one more ``Engine`` here and a source module for its events.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Engine:
    name: str
    set_based: bool  # statistics of events in one SQL statement (else ORM and Python)
    session_rows: bool  # ``SessionDay`` rows answer filters on visit attributes
    rolled_events: bool  # ``RolledEvent`` rows answer covered days' event questions
    parallel: bool  # independent reads may run at once on connections of their own


POSTGRESQL = Engine(
    "postgresql", set_based=True, session_rows=True, rolled_events=True, parallel=True
)
EMBEDDED = Engine(
    "sqlite", set_based=False, session_rows=False, rolled_events=False, parallel=False
)


@functools.cache
def engine() -> Engine:
    """The engine of the default database (the one place its vendor is looked at)."""
    return POSTGRESQL if connection.vendor == "postgresql" else EMBEDDED
