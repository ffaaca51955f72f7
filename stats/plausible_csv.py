"""Plausible's CSV export format, read and written (issue #16, docs/imports.md).

Plausible's "Export to CSV" is a zip of one file per table, named
``imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv`` (first and last day of the export), each a
CSV with a header line whose rows are daily totals per dimension value in the site's time
zone. Its importer (``Plausible.Imported.CSVImporter``) reads them with ClickHouse's
``CSVWithNames`` and a fixed structure per table, i.e. by header name. This module:

- ``TABLES``: each table's dimension columns (their names in the file → the column of
  ``stats.models.ImportedBreakdownDay``) and metric columns, in the order Plausible's
  current exporter writes them;
- ``read_export``: the files of a zip (or loose files) checked against limits (file size,
  zip expansion, row count) and parsed row by row; the first bad value raises
  ``BadExport`` naming the file, the line and the column;
- ``write_export``: the zip bytes for rows per table, formatted as ClickHouse writes
  ``CSVWithNames`` (header and text quoted, numbers bare, ``\\n`` line ends).

Columns are read by header name and unknown ones are ignored: upstream renamed the page
columns twice (``time_on_page`` → ``scroll_depth``/``pageleave_visitors`` →
``total_scroll_depth``/``total_time_on_page`` and their ``_visits``); the old names are
read as their successors where the meaning carries over.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

# A zip whose content expands more than this many times its size is refused (a zip bomb).
MAX_EXPANSION_RATIO = 200
FILENAME = re.compile(
    r"^(?:imported_)?(?P<table>[a-z_]+?)(?:_(?P<first>\d{8})_(?P<last>\d{8}))?\.csv$"
)


@dataclass(frozen=True)
class Table:
    name: str
    # (column in the file, field of ImportedBreakdownDay, max length or 0 for a number)
    dimensions: tuple[tuple[str, str, int], ...]
    metrics: tuple[str, ...]
    # Older column names read as the current one.
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def header(self) -> list[str]:
        return ["date", *(column for column, _, _ in self.dimensions), *self.metrics]


SESSION_METRICS = ("visitors", "visits", "visit_duration", "bounces", "pageviews")
TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table("visitors", (), ("visitors", "pageviews", "bounces", "visits", "visit_duration")),
        Table(
            "sources",
            (
                ("source", "source", 200),
                ("referrer", "referrer", 512),
                ("utm_source", "utm_source", 200),
                ("utm_medium", "utm_medium", 200),
                ("utm_campaign", "utm_campaign", 200),
                ("utm_content", "utm_content", 200),
                ("utm_term", "utm_term", 200),
            ),
            ("pageviews", "visitors", "visits", "visit_duration", "bounces"),
        ),
        Table(
            "pages",
            (("hostname", "hostname", 253), ("page", "path", 2048)),
            (
                "visits",
                "visitors",
                "pageviews",
                "total_scroll_depth",
                "total_scroll_depth_visits",
                "total_time_on_page",
                "total_time_on_page_visits",
            ),
            aliases=(("time_on_page", "total_time_on_page"), ("exits", "exits")),
        ),
        Table(
            "entry_pages",
            (("entry_page", "path", 2048),),
            ("visitors", "entrances", "visit_duration", "bounces", "pageviews"),
        ),
        Table(
            "exit_pages",
            (("exit_page", "path", 2048),),
            ("visitors", "visit_duration", "exits", "bounces", "pageviews"),
        ),
        Table(
            "custom_events",
            (("name", "name", 200), ("link_url", "link_url", 2048), ("path", "path", 2048)),
            ("visitors", "events"),
        ),
        Table(
            "custom_props",
            (("property", "property", 300), ("value", "value", 2000)),
            ("visitors", "events"),
        ),
        Table(
            "locations",
            (("country", "country", 2), ("region", "region", 16), ("city", "city", 0)),
            SESSION_METRICS,
        ),
        Table("devices", (("device", "device", 16),), SESSION_METRICS),
        Table(
            "browsers",
            (("browser", "browser", 64), ("browser_version", "browser_version", 32)),
            SESSION_METRICS,
        ),
        Table(
            "operating_systems",
            (
                ("operating_system", "os", 64),
                ("operating_system_version", "os_version", 32),
            ),
            SESSION_METRICS,
        ),
    )
}
# The files a full export has (``custom_props`` joined Plausible's export in 2025; older
# exports lack it). Only ``imported_visitors`` is required: it holds the daily totals.
EXPORT_ORDER = (
    "visitors",
    "sources",
    "pages",
    "entry_pages",
    "exit_pages",
    "custom_events",
    "locations",
    "devices",
    "browsers",
    "operating_systems",
    "custom_props",
)


class BadExport(Exception):
    """Bad input; the message names the file, the line and the column when there is one."""

    def __init__(self, message: str, file: str = "", line: int | None = None, column: str = ""):
        super().__init__(message)
        self.file, self.line, self.column = file, line, column


def _fail(file: str, line: int, column: str, message: str) -> BadExport:
    return BadExport(f"{file}: line {line}, column {column}: {message}", file, line, column)


@dataclass(frozen=True)
class ExportFile:
    name: str
    table: Table
    first: date | None
    last: date | None
    data: bytes


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def parse_name(name: str) -> tuple[Table, date | None, date | None]:
    """The table and the range of a file name (the directory part is ignored)."""
    base = name.rsplit("/", 1)[-1]
    match = FILENAME.match(base)
    table = TABLES.get(match["table"]) if match else None
    if table is None:
        raise BadExport(
            f"{base}: not a file of Plausible's CSV export (expected "
            "imported_<table>_<YYYYMMDD>_<YYYYMMDD>.csv with a table of: "
            f"{', '.join(EXPORT_ORDER)})",
            base,
        )
    if not match["first"]:
        return table, None, None
    try:
        first, last = _day(match["first"]), _day(match["last"])
    except ValueError as exc:
        raise BadExport(f"{base}: the file name's dates are not days ({exc})", base) from exc
    if last < first:
        raise BadExport(f"{base}: the file name's range ends before it starts", base)
    return table, first, last


def open_export(files: list[tuple[str, bytes]], *, max_bytes: int) -> list[ExportFile]:
    """The export's CSV files from zips and loose files, checked for size and expansion
    before anything is decompressed in full. Raises ``BadExport``."""
    found: list[tuple[str, bytes]] = []
    for name, data in files:
        if len(data) > max_bytes:
            raise BadExport(f"{name}: {len(data)} bytes, more than {max_bytes} (IMPORT_MAX_BYTES)")
        if data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
            found.extend(_unzip(name, data, max_bytes=max_bytes))
        else:
            found.append((name.rsplit("/", 1)[-1], data))
    result: dict[str, ExportFile] = {}
    for name, data in found:
        table, first, last = parse_name(name)
        if table.name in result:
            raise BadExport(f"{name}: a second file for table imported_{table.name}", name)
        result[table.name] = ExportFile(name, table, first, last, data)
    if "visitors" not in result:
        raise BadExport(
            "no imported_visitors_<YYYYMMDD>_<YYYYMMDD>.csv: the daily totals are required"
        )
    return [result[name] for name in EXPORT_ORDER if name in result]


def _unzip(name: str, data: bytes, *, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise BadExport(f"{name}: not a zip file ({exc})", name) from exc
    declared = sum(m.file_size for m in members)
    if declared > max_bytes or declared > max(len(data), 1) * MAX_EXPANSION_RATIO:
        raise BadExport(
            f"{name}: expands to {declared} bytes from {len(data)} (more than "
            f"{max_bytes} bytes or {MAX_EXPANSION_RATIO} times its size): refused",
            name,
        )
    budget = max_bytes
    for member in members:
        base = member.filename.rsplit("/", 1)[-1]
        if base.startswith(".") or member.filename.startswith("__MACOSX/"):
            continue
        try:
            with archive.open(member) as stream:
                # Never trust the declared size: read at most what is left of the budget.
                content = stream.read(budget + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise BadExport(f"{name}: {base}: cannot be read from the zip ({exc})", base) from exc
        if len(content) > budget:
            raise BadExport(f"{name}: expands to more than {max_bytes} bytes: refused", name)
        budget -= len(content)
        yield base, content


def count_rows(file: ExportFile) -> int:
    """Data lines of a file (a cheap bound for progress and the row limit)."""
    return max(file.data.count(b"\n") + (0 if file.data.endswith(b"\n") else 1) - 1, 0)


def read_rows(file: ExportFile) -> Iterator[tuple[int, dict]]:
    """The file's rows as ``{"day": date, <field>: value, <metric>: int}``, checked; raises
    ``BadExport`` at the first bad value (file, line, column)."""
    table, name = file.table, file.name
    reader = csv.reader(io.StringIO(_decode(file), newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _fail(name, 1, "?", f"not valid CSV: {exc}") from exc
    if not header:
        raise _fail(name, 1, "1", "no header line")
    aliases = dict(table.aliases)
    positions = _positions(table, aliases, header)
    if "date" not in positions:
        raise _fail(name, 1, "date", "the header has no date column")
    dims = [(c, f, n, positions[c]) for c, f, n in table.dimensions if c in positions]
    names = dict.fromkeys((*table.metrics, *aliases.values()))
    metrics = [(m, positions[m]) for m in names if m in positions]
    at_date = positions["date"]
    width = len(header)
    day_of: dict[str, date] = {}  # a file has many rows per day: each day parsed once
    try:
        for values in reader:
            line = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                raise _fail(
                    name,
                    line,
                    str(min(len(values), width) + 1),
                    f"{len(values)} values for {width} columns",
                )
            text = values[at_date]
            day = day_of.get(text)
            if day is None:
                day = day_of[text] = _file_day(file, text, line)
            row: dict = {"day": day}
            for column, field, limit, position in dims:
                value = values[position]
                if limit == 0:
                    row[field] = _count(value, name, line, column)
                else:
                    row[field] = "" if value == "\\N" else value[:limit]
            for metric, position in metrics:
                value = values[position]
                if value.isdigit() and value.isascii() and len(value) < 19:
                    row[metric] = int(value)
                else:
                    row[metric] = _count(value, name, line, metric)
            yield line, row
    except csv.Error as exc:
        raise _fail(name, reader.line_num, "?", f"not valid CSV: {exc}") from exc


def _decode(file: ExportFile) -> str:
    try:
        return file.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = file.data[: exc.start].count(b"\n") + 1
        raise _fail(file.name, line, "?", "not UTF-8 text") from exc


def _positions(table: Table, aliases: dict[str, str], header: list[str]) -> dict[str, int]:
    """Each known column's (or alias's) first position in the header."""
    known = {column for column, _, _ in table.dimensions} | set(table.metrics) | {"date"}
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        title = title.strip()
        title = title if title in known else aliases.get(title, "")
        if title and title not in positions:
            positions[title] = position
    return positions


def _file_day(file: ExportFile, text: str, line: int) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise _fail(file.name, line, "date", f"not a day (YYYY-MM-DD): {text[:40]!r}") from exc
    if file.first and not (file.first <= day <= file.last):
        raise _fail(
            file.name, line, "date", f"{day} is outside the file's range {file.first}–{file.last}"
        )
    return day


def _count(text: str, name: str, line: int, column: str) -> int:
    text = text.strip()
    if text in ("", "\\N"):
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise _fail(name, line, column, f"not a whole number ≥ 0: {text[:40]!r}")
    return int(text)


# --- writing -----------------------------------------------------------------------------


def file_name(table: str, first: date, last: date) -> str:
    return f"imported_{table}_{first:%Y%m%d}_{last:%Y%m%d}.csv"


def _cell(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = value.isoformat() if isinstance(value, date) else str(value)
    return '"' + text.replace('"', '""') + '"'


def table_csv(table: Table, rows: list[dict]) -> bytes:
    """One file as ClickHouse's ``CSVWithNames`` writes it: every name, text and day in
    double quotes (a quote doubled), numbers bare, ``\\n`` after every line."""
    fields = [("date", "day")] + [(c, f) for c, f, _ in table.dimensions]
    fields += [(m, m) for m in table.metrics]
    lines = [",".join(_cell(column) for column, _ in fields)]
    for row in rows:
        lines.append(
            ",".join(
                _cell(row.get(field, 0 if field in table.metrics else "")) for _, field in fields
            )
        )
    return ("\n".join(lines) + "\n").encode()


def write_export(first: date, last: date, rows_of: Callable[[str], list[dict]]) -> bytes:
    """The zip of every table (``EXPORT_ORDER``), files stored uncompressed as Plausible's
    exporter stores them; ``rows_of(table)`` gives a table's rows sorted by day."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in EXPORT_ORDER:
            info = zipfile.ZipInfo(file_name(name, first, last), date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, table_csv(TABLES[name], rows_of(name)))
    return out.getvalue()
