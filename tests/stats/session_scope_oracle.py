"""The session-scope rule computed in Python from stored event rows: the oracle the rollups'
SQL and the raw path's window functions are checked against (``stats.query.SESSION_SCOPE``).

On each local day, a session's value of a group of attributes is that of its first event (by
time, then id) whose key column has a value, else that of its first event with the first of
the group's "weak" values (a "Direct" channel before none)."""

from datetime import datetime
from zoneinfo import ZoneInfo

GROUPS = (
    (("entry_path",), ("",)),
    (
        (
            "channel",
            "referrer",
            "source",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
        ),
        ("Direct", ""),
    ),
    (("browser", "browser_version"), ("",)),
    (("os", "os_version"), ("",)),
    (("device_type",), ("",)),
    (("screen_class",), ("",)),
    (("language",), ("",)),
    (("country_code", "region", "city"), ("",)),
)
SCOPED_COLUMNS = tuple(column for columns, _ in GROUPS for column in columns)


def _at(row: dict) -> datetime:
    value = row["timestamp"]
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _rank(value: str, weak: tuple[str, ...]) -> int:
    return weak.index(value) + 1 if value in weak else 0


def scoped(rows: list[dict], tz: str) -> list[dict]:
    """``rows`` with every session-scoped column replaced by its session-day's value."""
    zone = ZoneInfo(tz)
    by_session_day: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (_at(row).astimezone(zone).date(), row["session_id"])
        by_session_day.setdefault(key, []).append(row)
    values: dict[tuple, dict] = {}
    for key, events in by_session_day.items():
        chosen: dict = {}
        for columns, weak in GROUPS:
            first = min(events, key=lambda e: (_rank(e[columns[0]], weak), _at(e), str(e["id"])))
            chosen.update({column: first[column] for column in columns})
        values[key] = chosen
    return [
        {**row, **values[(_at(row).astimezone(zone).date(), row["session_id"])]} for row in rows
    ]
