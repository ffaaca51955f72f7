"""Raw events in and out: ``manage.py import events`` and ``manage.py export events``.

Import, in order (docs/imports.md describes the format):
1. ``read_rows``     CSV (with a header) or NDJSON → ``RawRow``s; every row is checked
                     before anything is written, so bad input stores nothing and the error
                     names the file, the line and the column.
2. ``import_events`` the rows, sorted by time, go through the real enrichment pipeline
                     (``tracking.pipeline.enrich``) with their own timestamps: visitors,
                     sessions, sources, devices and geography are derived as for live hits.
3. the rows are written with ``tracking.writer.write_rows`` in chunks.

Idempotency: the import id is a hash of the site and the file's bytes, each event's id is
derived from the import id and the row's line, and each session's id from the import id and
its first row: importing the same file again (or again after an interruption) adds nothing
twice (the writer skips ids already stored).

Imported history never joins a live session: the import keeps its own session state in
memory and neither reads nor writes the live session store. Rows are stored with
``protocol = "import"`` and ``received_at`` = when each chunk was written, so the rollups
pick the past days up at their next run (they look for events by ``received_at``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from accounts.models import User
from analytics_project.ids import derived_uuid7
from sites import site_lookup
from sites.models import Site
from sites.permissions import Action, can
from tracking import pipeline, sessions, writer
from tracking.hits import DropReason, EventRow, Hit, Kind, Protocol, SiteConfig
from tracking.models import Event

COLUMNS = (
    "timestamp",
    "url",
    "referrer",
    "user_agent",
    "ip",
    "visitor_key",
    "country",
    "event_name",
    "props",
    "revenue",
    "currency",
    "title",
)
PROTOCOL = "import"
WRITE_CHUNK = 2000
MAX_OPEN_SESSIONS = 50_000
FUTURE_SKEW = timedelta(minutes=10)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


class BadImport(Exception):
    """Bad input: the message names the file, the line and the column."""


@dataclass(slots=True)
class RawRow:
    line: int
    timestamp: datetime
    url: str = ""
    referrer: str = ""
    user_agent: str = ""
    ip: str = ""
    visitor_key: str = ""
    country: str = ""
    event_name: str = "pageview"
    props: dict = field(default_factory=dict)
    revenue: Decimal | None = None
    currency: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class ImportResult:
    import_id: str
    rows: int
    stored: int
    dropped: dict[str, int]
    days: int
    first: date | None
    last: date | None

    def as_json(self) -> dict:
        return {
            "import_id": self.import_id,
            "rows": self.rows,
            "days": self.days,
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
        }


# --- reading and checking ----------------------------------------------------------------


def _fail(name: str, line: int, column: str, message: str) -> BadImport:
    return BadImport(f"{name}: line {line}, column {column}: {message}")


def parse_timestamp(value: object) -> datetime:
    """ISO 8601 (a time without an offset is UTC) or a UNIX time in seconds, milliseconds or
    microseconds (GA4's ``event_timestamp``)."""
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        for divisor in (1, 1_000, 1_000_000):
            if abs(number / divisor) < 1e11:
                return datetime.fromtimestamp(number / divisor, tz=UTC)
        raise ValueError("not a time")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing")
    text = value.strip().replace(" UTC", "+00:00")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lstrip("-").replace(".", "", 1).isdigit()


def _text(value: object, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be text")
    return str(value).strip().replace("\x00", "")[:limit]


def _check(raw: dict, name: str, line: int, now: datetime) -> RawRow:
    """One row's values → a ``RawRow``, or ``BadImport`` naming the offending column."""

    def column(key: str, message: str) -> BadImport:
        return _fail(name, line, key, message)

    unknown = [k for k in raw if k not in COLUMNS]
    if unknown:
        raise column(str(unknown[0])[:64], f"unknown column (known: {', '.join(COLUMNS)})")
    row = RawRow(line=line, timestamp=_timestamp(raw.get("timestamp"), now, column))
    _read_texts(raw, row, column)
    _check_addresses(row, column)
    if row.country and not (len(row.country) == 2 and row.country.isalpha()):
        raise column("country", "must be a two-letter ISO 3166 code")
    row.country = row.country.upper()
    row.props = _props(raw.get("props"), column)
    revenue = raw.get("revenue")
    if revenue not in (None, ""):
        row.revenue = _revenue(revenue, column)
    if row.currency and not (len(row.currency) == 3 and row.currency.isalpha()):
        raise column("currency", "must be a three-letter ISO 4217 code")
    row.currency = row.currency.upper()
    return row


def _timestamp(value: object, now: datetime, column) -> datetime:
    """The row's time: a date and time from 1995 up to now (and the allowed skew)."""
    try:
        at = parse_timestamp(value)
    except (ValueError, OverflowError, OSError) as exc:
        raise column("timestamp", f"not a date and time ({exc})") from exc
    if at > now + FUTURE_SKEW or at < EARLIEST:
        raise column("timestamp", f"{at.isoformat()} is in the future or before 1995")
    return at


def _read_texts(raw: dict, row: RawRow, column) -> None:
    """The text columns into ``row``, cut to their limits; the event name defaults to a
    page view."""
    for key, limit in (
        ("url", 2048),
        ("referrer", 2048),
        ("user_agent", 1000),
        ("ip", 64),
        ("visitor_key", 200),
        ("country", 2),
        ("currency", 3),
        ("title", 512),
    ):
        try:
            setattr(
                row, key, _text(raw.get(key), limit if key not in ("country", "currency") else 8)
            )
        except ValueError as exc:
            raise column(key, str(exc)) from exc
    try:
        row.event_name = _text(raw.get("event_name"), 200) or "pageview"
    except ValueError as exc:
        raise column("event_name", str(exc)) from exc


def _check_addresses(row: RawRow, column) -> None:
    """The page and referrer URLs are absolute, and the visitor is named (a valid IP or a
    visitor key)."""
    if row.url and not row.url.lower().startswith(("http://", "https://")):
        raise column("url", "must be an absolute http(s) URL")
    if row.event_name == "pageview" and not row.url:
        raise column("url", "a page view needs its URL")
    if row.referrer and not row.referrer.lower().startswith(
        ("http://", "https://", "android-app://")
    ):
        raise column("referrer", "must be an absolute URL")
    if row.ip:
        try:
            ipaddress.ip_address(row.ip)
        except ValueError as exc:
            raise column("ip", "not an IP address") from exc
    if not row.ip and not row.visitor_key:
        raise column("ip", "each row needs an ip or a visitor_key (who the visitor is)")


def _revenue(value: object, column) -> Decimal:
    """A finite amount below 10¹⁴."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise column("revenue", "not a number") from exc
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 14:
        raise column("revenue", "not a finite amount")
    return amount


def _props(value: object, column) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise column("props", "not a JSON object") from exc
    if not isinstance(value, dict):
        raise column("props", "must be a JSON object of names to values")
    props = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, dict | list):
            raise column("props", f"the value of {str(key)[:50]!r} must be text or a number")
        props[str(key)[:200]] = str(item).lower() if isinstance(item, bool) else str(item)[:2000]
    if len(props) > 100:
        raise column("props", "at most 100 properties per row")
    return props


def _ndjson_rows(text: IO[str], name: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(name, number, str(exc.colno), f"not JSON: {exc.msg}") from exc
        except (ValueError, RecursionError) as exc:  # nesting too deep, a 5,000-digit number
            raise _fail(name, number, "1", f"not JSON this import can read: {exc}") from exc
        if not isinstance(data, dict):
            raise _fail(name, number, "1", "each line must be a JSON object")
        yield number, data


def _csv_rows(text: IO[str], name: str) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
        if not header:
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
        for position, title in enumerate(header, start=1):
            if title not in COLUMNS:
                raise _fail(name, 1, f"{position} ({title[:64]!r})", "unknown column")
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise _fail(
                    name,
                    reader.line_num,
                    str(min(len(values), len(header)) + 1),
                    f"{len(values)} values for {len(header)} columns",
                )
            yield reader.line_num, {k: v for k, v in zip(header, values, strict=True) if v != ""}
    except csv.Error as exc:
        raise _fail(name, reader.line_num, "?", f"not valid CSV: {exc}") from exc


def detect_format(data: bytes, name: str = "") -> str:
    """By the file's extension (``.ndjson``, ``.jsonl``, ``.json``, ``.csv``), else by its
    first character (``{`` is NDJSON)."""
    extension = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if extension in ("ndjson", "jsonl", "json"):
        return "ndjson"
    if extension == "csv":
        return "csv"
    return "ndjson" if data.lstrip()[:1] == b"{" else "csv"


def read_rows(
    data: bytes, name: str, *, max_rows: int, now: datetime | None = None
) -> list[RawRow]:
    """Every row of the file, checked; raises ``BadImport`` at the first bad one."""
    now = now or datetime.now(UTC)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(name, line, str(column), "not UTF-8 text") from exc
    source = io.StringIO(text, newline="")
    parse = _ndjson_rows if detect_format(data, name) == "ndjson" else _csv_rows
    rows: list[RawRow] = []
    for line, raw in parse(source, name):
        if len(rows) >= max_rows:
            raise _fail(name, line, "-", f"more than {max_rows} rows (IMPORT_MAX_ROWS)")
        rows.append(_check(raw, name, line, now))
    return rows


# --- importing -----------------------------------------------------------------------------


def import_id_for(site_id: int, data: bytes) -> str:
    digest = hashlib.sha256(f"footfall-import:{site_id}:".encode() + data).hexdigest()
    return f"imp_{digest[:24]}"


def _event_id(import_id: str, line: int, at: datetime) -> str:
    """Deterministic, and time-ordered like the live ids."""
    return str(derived_uuid7(f"{import_id}:{line}", int(at.timestamp() * 1000)))


def _session_id(import_id: str, line: int) -> int:
    digest = hashlib.sha256(f"{import_id}:session:{line}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _ImportSessions(sessions.SessionStore):
    """The import's own sessions, in memory only: imported history never continues a live
    visit, and a large import costs no round trip to the session store per row."""

    def find(self, site_id, visitor_ids, at, *, ends_at_midnight=False):
        for visitor_id in visitor_ids:
            state = self.pending.get(sessions._key(site_id, visitor_id))
            if state is not None and abs(at - state.last_seen) <= sessions.timeout_seconds():
                return visitor_id, state
        return visitor_ids[0], None

    def forget_ended(self, now: float) -> None:
        """Drop the sessions over by ``now`` (rows come in time order): memory stays bounded
        by the visitors of the last half hour, not of the whole file."""
        timeout = sessions.timeout_seconds()
        self.pending = {k: v for k, v in self.pending.items() if now - v.last_seen <= timeout}


def _write(chunk: list[EventRow], on_chunk: Callable[[set[int]], None] | None = None) -> int:
    """Store a chunk; ``received_at`` is when it is written, so the next rollup run (which
    looks for events received since its last run) takes its past days up."""
    if on_chunk is not None and chunk:
        on_chunk({event["session_id"] for event in chunk})
    written_at = datetime.now(UTC).isoformat()
    for event in chunk:
        event["received_at"] = written_at
    return writer.write_rows(chunk) if chunk else 0


def _hit(site: SiteConfig, row: RawRow) -> Hit:
    pageview = row.event_name == "pageview"
    return Hit(
        site=site,
        protocol=Protocol.FOOTFALL,  # stored as "import" (see ``PROTOCOL``)
        kind=Kind.PAGEVIEW if pageview else Kind.CUSTOM,
        name="pageview" if pageview else row.event_name,
        url=row.url,
        referrer=row.referrer,
        title=row.title,
        user_agent=row.user_agent,
        ip=row.ip,
        props=row.props,
        revenue_amount=row.revenue,
        revenue_currency=row.currency if row.revenue is not None else "",
        timestamp=row.timestamp,
        visitor_key=f"import:{row.visitor_key}" if row.visitor_key else "",
        country_code=row.country,
    )


def import_events(
    site_id: int,
    data: bytes,
    name: str,
    *,
    max_rows: int,
    on_chunk: Callable[[set[int]], None] | None = None,
) -> ImportResult:
    """Check, enrich and store every row of ``data``; raises ``BadImport`` on bad input
    (nothing stored) and ``LookupError`` for an unknown site. ``on_chunk`` is told the
    session ids of each chunk before it is written (the ``Import`` keeps them, so deleting
    the import removes exactly its events, even of a run cut half-way)."""
    site = site_lookup.site_by_id(site_id)
    if site is None:
        raise LookupError(f"no site {site_id}")
    rows = read_rows(data, name, max_rows=max_rows)
    import_id = import_id_for(site_id, data)
    rows.sort(key=lambda r: (r.timestamp, r.line))
    received_at = datetime.now(UTC)
    store = _ImportSessions()
    session_ids: dict[int, int] = {}
    chunk: list[EventRow] = []
    dropped: dict[str, int] = {}
    stored = 0
    for row in rows:
        result = pipeline.enrich(_hit(site, row), received_at, store)
        if isinstance(result, DropReason):
            dropped[str(result)] = dropped.get(str(result), 0) + 1
            continue
        result["id"] = _event_id(import_id, row.line, row.timestamp)
        result["protocol"] = PROTOCOL
        result["session_id"] = session_ids.setdefault(
            result["session_id"], _session_id(import_id, row.line)
        )
        chunk.append(result)
        if len(chunk) >= WRITE_CHUNK:
            stored += _write(chunk, on_chunk)
            chunk = []
        if len(store.pending) > MAX_OPEN_SESSIONS:
            store.forget_ended(row.timestamp.timestamp())
    stored += _write(chunk, on_chunk)
    zone = ZoneInfo(site.timezone)
    days = sorted({r.timestamp.astimezone(zone).date() for r in rows})
    return ImportResult(
        import_id=import_id,
        rows=len(rows),
        stored=stored,
        dropped=dropped,
        days=len(days),
        first=days[0] if days else None,
        last=days[-1] if days else None,
    )


def read_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused over ``max_bytes`` before it is read."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadImport(
            f"{path}: {size} bytes, more than the {max_bytes} allowed (IMPORT_MAX_BYTES)"
        )
    return path.read_bytes()


# --- exporting -----------------------------------------------------------------------------

EXPORT_COLUMNS = [f.column for f in Event._meta.concrete_fields]
CSV_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def export_events(site_id: int, tz: str, first: date | None, last: date | None) -> Iterator[dict]:
    """Every stored event of the site between the local days ``first`` and ``last``
    (inclusive), oldest first, every column (events hold no IP address)."""
    zone = ZoneInfo(tz)
    events = Event.objects.filter(site_id=site_id)
    if first is not None:
        events = events.filter(timestamp__gte=datetime.combine(first, time.min, tzinfo=zone))
    if last is not None:
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(timestamp__lt=end)
    for values in (
        events.order_by("timestamp", "id").values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)
    ):
        yield {column: _plain(value) for column, value in zip(EXPORT_COLUMNS, values, strict=True)}


def write_ndjson(events: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for event in events:
        out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    # A spreadsheet would run a text cell starting with these as a formula (CSV injection).
    if isinstance(value, str) and text.startswith(CSV_UNSAFE_START) and not _is_number(text):
        return "'" + text
    return text


def write_csv(events: Iterator[dict], out: IO[str]) -> int:
    output = csv.writer(out, lineterminator="\n")
    output.writerow(EXPORT_COLUMNS)
    count = 0
    for event in events:
        output.writerow([_csv_cell(event[column]) for column in EXPORT_COLUMNS])
        count += 1
    return count


# --- the commands' shared checks ------------------------------------------------------------


def site_for_command(value: str, user_email: str | None):
    """The site named by ``--site`` (its number or public id); with ``--user``, only when that
    user is an Owner or Admin of it. Raises ``LookupError`` or ``PermissionError``."""

    text = str(value).strip()
    lookup = {"pk": int(text)} if text.isascii() and text.isdigit() else {"public_id": text}
    site = Site.objects.filter(**lookup).first()
    if site is None:
        raise LookupError(f"no site {text!r}")
    if user_email is not None:
        user = User.objects.filter(email__iexact=user_email.strip()).first()
        if user is None or not can(user, Action.MANAGE_SETTINGS, site):
            raise PermissionError(
                "only the site's Owners and Admins may import or export its events"
            )
    return site
