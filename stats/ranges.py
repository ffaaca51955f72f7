"""Date ranges of statistics requests: one parser and one cap for every API and the dashboard.

A range costs in proportion to its days (rollups are per day; series have a row a day), so
every reader refuses ranges longer than ``MAX_RANGE_DAYS`` (ten years, what the dashboard
and Pirsch's API always allowed) and days outside ``EARLIEST_DAY``..``LATEST_DAY``: before
the epoch no event can exist, and near ``date.max`` the day after the range, or the
previous period of the growth figures, is not a date at all (an ``OverflowError`` → 500).
"""

from __future__ import annotations

from datetime import date, datetime

MAX_RANGE_DAYS = 3660
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2999, 12, 31)


class RangeError(ValueError):
    """A date parameter is wrong: ``field`` names it (each API words its own error body)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_day(value: str, name: str, *, timestamps: bool = False) -> date:
    """``YYYY-MM-DD`` (or, with ``timestamps``, an ISO timestamp: its date) within bounds."""
    if not value:
        raise RangeError(name, f"{name} is required")
    try:
        if len(value) == 10 or not timestamps:
            day = date.fromisoformat(value)
        else:
            day = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError as exc:
        shape = "a date (YYYY-MM-DD) or an ISO timestamp" if timestamps else "a date (YYYY-MM-DD)"
        raise RangeError(name, f"{name} must be {shape}") from exc
    check_day(day, name)
    return day


def check_day(day: date, name: str) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise RangeError(
            name, f"{name} must be between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"
        )


def check_range(first: date, last: date, first_name: str = "from", last_name: str = "to") -> None:
    """Both days within bounds, in order, and at most ``MAX_RANGE_DAYS`` apart."""
    check_day(first, first_name)
    check_day(last, last_name)
    if last < first:
        raise RangeError(last_name, f"{last_name} must not be before {first_name}")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise RangeError(first_name, "the range must be at most ten years")
