"""Import runs (issue #16, docs/imports.md): Plausible CSV exports into imported daily
tables, raw events through ``tracking.imports``, and Plausible CSV exports of native data.

A run, in order:
1. ``plausible_import_create``  the files are hashed with the site: the same bytes again
                                 are the same ``Import`` (nothing is doubled); a failed or
                                 cancelled one is run again.
2. ``plausible_import_run``     (the Celery task ``stats.tasks.import_run``, or the CLI
                                 inline): the rows (bounded by their line count first) are
                                 checked and written in chunks in one pass, with progress
                                 (rows, percent) on the ``Import``; the first bad value fails
                                 the import with its file, line and column and what it wrote
                                 is removed; a cancel seen between chunks stops it alike.
3. complete: only now do statistics read the import's rows (``stats.imported``).

Limits: ``IMPORT_MAX_BYTES`` per file and for a zip's expansion (a zip bomb is refused
before it is inflated), ``IMPORT_MAX_ROWS`` rows per import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import TruncDay
from django.utils import timezone

from stats import geonames, plausible_csv
from stats.models import Import, ImportedBreakdownDay, ImportedDay, ImportedSession
from stats.plausible_export import export_rows
from stats.query.sources.imported import forget_complete_imports
from stats.rollups import rollup_site_day
from tracking import imports as raw
from tracking.models import Event

WRITE_CHUNK = 5000
Progress = Callable[[int, int], None]  # (rows done, rows in all)


class ImportRefused(Exception):
    """An import that cannot run (bad input, limits): the message is for the user."""


def file_hash(files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(files, key=lambda f: (f[0].rsplit("/", 1)[-1], f[1])):
        digest.update(name.rsplit("/", 1)[-1].encode() + b"\0" + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def import_id_for(site_id: int, kind: str, digest: str) -> str:
    return "imp_" + hashlib.sha256(f"{kind}:{site_id}:{digest}".encode()).hexdigest()[:24]


def _uploads_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_create(
    *,
    site,
    kind: str,
    files: list[tuple[str, bytes]],
    user=None,
    keep_files: bool = False,
    import_id: str | None = None,
) -> tuple[Import, bool]:
    """The ``Import`` of these files (created, or the existing one) and whether it must run.

    An import of the same bytes that is pending, running or complete is returned as is
    (importing the same file twice doubles nothing); a failed or cancelled one is reset.
    With ``keep_files`` the bytes are stored under ``DATA_DIR/imports`` for the task."""
    for name, data in files:
        if len(data) > settings.IMPORT_MAX_BYTES:
            raise ImportRefused(
                f"{name}: {len(data)} bytes, more than the {settings.IMPORT_MAX_BYTES} "
                "allowed (IMPORT_MAX_BYTES)"
            )
    digest = file_hash(files)
    import_id = import_id or import_id_for(site.pk, kind, digest)
    name = ", ".join(n.rsplit("/", 1)[-1] for n, _ in files)[:255]
    with transaction.atomic():
        existing = Import.objects.select_for_update().filter(pk=import_id).first()
        if existing and existing.status in (Import.PENDING, Import.RUNNING, Import.COMPLETE):
            return existing, False
        values = {
            "site": site,
            "kind": kind,
            "status": Import.PENDING,
            "file_name": name,
            "file_hash": digest,
            "rows": 0,
            "total_rows": 0,
            "percent": 0,
            "error": "",
            "error_file": "",
            "error_line": None,
            "error_column": "",
            "finished_at": None,
            "created_by": user,
        }
        imported, _ = Import.objects.update_or_create(pk=import_id, defaults=values)
    if keep_files:
        folder = _uploads_dir() / import_id
        folder.mkdir(exist_ok=True)
        for index, (file, data) in enumerate(files):
            (folder / f"{index:03d}_{file.rsplit('/', 1)[-1]}").write_bytes(data)
        Import.objects.filter(pk=import_id).update(stored_path=str(folder))
        imported.stored_path = str(folder)
    return imported, True


def _stored_files(imported: Import) -> list[tuple[str, bytes]]:
    folder = Path(imported.stored_path)
    return [(p.name.split("_", 1)[1], p.read_bytes()) for p in sorted(folder.iterdir())]


def _forget_files(imported: Import) -> None:
    if not imported.stored_path:
        return
    folder = Path(imported.stored_path)
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        folder.rmdir()
    Import.objects.filter(pk=imported.pk).update(stored_path="")


def _delete_rows(import_id: str) -> None:
    ImportedDay.objects.filter(imported_id=import_id).delete()
    ImportedBreakdownDay.objects.filter(imported_id=import_id).delete()


def _fail(imported: Import, message: str, file: str = "", line=None, column: str = "") -> Import:
    _delete_rows(imported.pk)
    Import.objects.filter(pk=imported.pk).update(
        status=Import.FAILED,
        error=message[:2000],
        error_file=file[:255],
        error_line=line,
        error_column=column[:100],
        finished_at=timezone.now(),
    )
    imported.refresh_from_db()
    return imported


def _cancelled(import_id: str) -> bool:
    return Import.objects.filter(pk=import_id, status=Import.CANCELLED).exists()


def plausible_import_run(
    import_id: str, files: list[tuple[str, bytes]] | None = None, progress: Progress | None = None
) -> Import:
    """Check and store every row of a Plausible export, in one pass (idempotent: a rerun
    first removes what an earlier attempt wrote). Never raises for bad input: the ``Import``
    says why, and what it wrote is removed (it was never shown: statistics read only
    complete imports)."""
    imported = Import.objects.get(pk=import_id)
    if imported.status in (Import.COMPLETE, Import.CANCELLED):
        return imported
    Import.objects.filter(pk=import_id).update(status=Import.RUNNING)
    _delete_rows(import_id)
    try:
        files = files if files is not None else _stored_files(imported)
        export = plausible_csv.open_export(files, max_bytes=settings.IMPORT_MAX_BYTES)
        total = _bound(export)
        Import.objects.filter(pk=import_id).update(total_rows=total)
        done, days = _store(imported, export, total, progress)
    except plausible_csv.BadExport as exc:
        _forget_files(imported)
        return _fail(imported, str(exc), exc.file, exc.line, exc.column)
    except OSError as exc:
        return _fail(imported, f"the uploaded files cannot be read: {exc}")
    if done is None:  # cancelled
        _delete_rows(import_id)
        _forget_files(imported)
        imported.refresh_from_db()
        return imported
    # Name the imported cities now (GeoNames' list is read into its index on first use, which
    # takes seconds): the worker pays for it, not the first dashboard that shows them.
    geonames.names(
        ImportedBreakdownDay.objects.filter(imported_id=import_id, table="locations")
        .exclude(city=0)
        .values_list("city", flat=True)
        .distinct()
        .order_by()
    )
    ranges = [(f.first, f.last) for f in export if f.first]
    first = min((r[0] for r in ranges), default=min(days, default=None))
    last = max((r[1] for r in ranges), default=max(days, default=None))
    finished = Import.objects.filter(pk=import_id, status=Import.RUNNING).update(
        status=Import.COMPLETE,
        rows=done,
        percent=100,
        days=((last - first).days + 1) if first and last else 0,
        first_day=first,
        last_day=last,
        finished_at=timezone.now(),
    )
    if not finished:  # cancelled after the last chunk
        _delete_rows(import_id)
    forget_complete_imports(imported.site_id)
    _forget_files(imported)
    imported.refresh_from_db()
    return imported


def _bound(export: list[plausible_csv.ExportFile]) -> int:
    """The rows of the export (its data lines), refused over ``IMPORT_MAX_ROWS`` before
    anything is parsed."""
    limit = settings.IMPORT_MAX_ROWS
    total = 0
    for file in export:
        total += plausible_csv.count_rows(file)
        if total > limit:
            raise plausible_csv.BadExport(
                f"{file.name}: more than {limit} rows in all (IMPORT_MAX_ROWS)",
                file.name,
                None,
                "-",
            )
    return total


def _store(
    imported: Import, export: list[plausible_csv.ExportFile], total: int, progress
) -> tuple[int | None, set[date]]:
    """Parse and write every row in chunks; (rows, days), or (None, …) when cancelled.
    Raises ``BadExport`` at the first bad value."""
    done = 0
    days: set[date] = set()
    for file in export:
        chunk: list = []
        table = file.table.name
        for _line, row in plausible_csv.read_rows(file):
            days.add(row["day"])
            chunk.append(_model_row(imported, table, row))
            if len(chunk) >= WRITE_CHUNK:
                done += _write(chunk)
                chunk = []
                if not _progress(imported.pk, done, total, progress):
                    return None, days
        if chunk:
            done += _write(chunk)
            if not _progress(imported.pk, done, total, progress):
                return None, days
    return done, days


def _progress(import_id: str, done: int, total: int, progress: Progress | None) -> bool:
    """Record progress; False when the import was cancelled meanwhile."""
    if progress:
        progress(done, total)
    percent = min(99, done * 100 // total) if total else 99
    updated = Import.objects.filter(pk=import_id, status=Import.RUNNING).update(
        rows=done, percent=percent
    )
    return bool(updated)


_DAY_FIELDS = [f for f in ImportedDay._meta.concrete_fields if not f.primary_key]
_BREAKDOWN_FIELDS = [f for f in ImportedBreakdownDay._meta.concrete_fields if not f.primary_key]
_DAY_INDEX = {f.attname: n for n, f in enumerate(_DAY_FIELDS)}
_BREAKDOWN_INDEX = {f.attname: n for n, f in enumerate(_BREAKDOWN_FIELDS)}
_DAY_TEMPLATE = [f.get_default() for f in _DAY_FIELDS]
_BREAKDOWN_TEMPLATE = [f.get_default() for f in _BREAKDOWN_FIELDS]


def _model_row(imported: Import, table: str, row: dict) -> tuple[type, list]:
    """(model, values in its field order) of one parsed row."""
    if table == "visitors":
        model, index, values = ImportedDay, _DAY_INDEX, _DAY_TEMPLATE.copy()
    else:
        model, index, values = ImportedBreakdownDay, _BREAKDOWN_INDEX, _BREAKDOWN_TEMPLATE.copy()
        values[index["table"]] = table
        if table == "devices":
            row["device"] = row.get("device", "").lower()
    values[index["imported_id"]] = imported.pk
    values[index["site_id"]] = imported.site_id
    for name, value in row.items():
        position = index.get(name)
        if position is not None:
            values[position] = value
    return model, values


def _write(chunk: list[tuple[type, list]]) -> int:
    """Store a chunk (rows of one model): COPY on PostgreSQL, bulk INSERTs elsewhere."""
    if not chunk:
        return 0
    model = chunk[0][0]
    fields = _DAY_FIELDS if model is ImportedDay else _BREAKDOWN_FIELDS
    if connection.vendor == "postgresql":
        columns = ", ".join(f'"{f.column}"' for f in fields)
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(
                f"COPY {model._meta.db_table} ({columns}) FROM STDIN"  # fixed names
            ) as copy,
        ):
            for _model, values in chunk:
                copy.write_row(values)
    else:
        names = [f.attname for f in fields]
        model.objects.bulk_create(
            [model(**dict(zip(names, values, strict=True))) for _model, values in chunk],
            batch_size=500,
        )
    return len(chunk)


# --- cancel, delete, list ------------------------------------------------------------------


def import_cancel(imported: Import) -> Import:
    """Stop a pending or running import (its task stops at the next chunk and removes its
    rows); a finished one is left as it is."""
    Import.objects.filter(pk=imported.pk, status__in=(Import.PENDING, Import.RUNNING)).update(
        status=Import.CANCELLED, finished_at=timezone.now()
    )
    imported.refresh_from_db()
    if imported.status == Import.CANCELLED:
        _delete_rows(imported.pk)
    return imported


def import_delete(imported: Import) -> None:
    """Remove an import and what it wrote (a running one is cancelled first): a Plausible
    import's rows; an ``events`` import's events (those of the sessions it recorded), with
    the rollups of the days they were on made again from what is left, so the statistics
    are what they were before the import."""
    import_cancel(imported)
    _delete_rows(imported.pk)
    if imported.kind == "events":
        _delete_events(imported)
    _forget_files(imported)
    Import.objects.filter(pk=imported.pk).delete()
    forget_complete_imports(imported.site_id)


def _delete_events(imported: Import) -> int:
    """Delete the events of an ``events`` import and roll the past days they were on up
    again (``stats.rollups.rollup_site_day``: a day without events left loses its rows);
    returns the events deleted. Today is never rolled up: it is read from raw events."""
    site = imported.site
    zone = ZoneInfo(site.timezone)
    events = Event.objects.filter(
        site_id=site.pk,
        protocol=raw.PROTOCOL,
        session_id__in=ImportedSession.objects.filter(imported_id=imported.pk).values("session_id"),
    )
    days = sorted(
        {
            day.astimezone(zone).date()
            for day in events.annotate(day=TruncDay("timestamp", tzinfo=zone))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        }
    )
    with transaction.atomic():
        deleted, _ = events.delete()
        ImportedSession.objects.filter(imported_id=imported.pk).delete()
    today = timezone.now().astimezone(zone).date()
    for day in days:
        if day < today:
            rollup_site_day(site.pk, day, site.timezone)
    return deleted


def imports_for_site(site_id: int) -> list[Import]:
    return list(Import.objects.filter(site_id=site_id).order_by("-created_at"))


def import_get(import_id: str, site_id: int | None = None) -> Import | None:
    imports = Import.objects.filter(pk=import_id)
    if site_id is not None:
        imports = imports.filter(site_id=site_id)
    return imports.first()


def as_json(imported: Import) -> dict:
    return {
        "import_id": imported.pk,
        "rows": imported.rows,
        "days": imported.days,
        "from": imported.first_day.isoformat() if imported.first_day else None,
        "to": imported.last_day.isoformat() if imported.last_day else None,
    }


def describe(imported: Import) -> dict:
    return {
        **as_json(imported),
        "site": imported.site_id,
        "kind": imported.kind,
        "status": imported.status,
        "percent": imported.percent,
        "file": imported.file_name,
        "error": imported.error or None,
        "created_at": imported.created_at.isoformat(),
    }


# --- raw events (tracking.imports), recorded as an Import -----------------------------------


def events_import(*, site, data: bytes, name: str, user=None):
    """``manage.py import events``: the rows through ``tracking.imports`` (which is itself
    idempotent), recorded as an ``Import`` of kind ``events``. Returns (Import, result);
    raises ``tracking.imports.BadImport`` after recording the failure."""

    imported, _ = import_create(
        site=site,
        kind="events",
        files=[(name, data)],
        user=user,
        import_id=raw.import_id_for(site.pk, data),  # the events' ids derive from it
    )
    Import.objects.filter(pk=imported.pk).update(status=Import.RUNNING)

    def record_sessions(session_ids: set[int]) -> None:
        ImportedSession.objects.bulk_create(
            [ImportedSession(imported_id=imported.pk, session_id=s) for s in session_ids],
            ignore_conflicts=True,  # a rerun of the same file derives the same sessions
        )

    try:
        result = raw.import_events(
            site.pk, data, name, max_rows=settings.IMPORT_MAX_ROWS, on_chunk=record_sessions
        )
    except raw.BadImport as exc:
        file, line, column = _where(str(exc))
        _fail(imported, str(exc), file, line, column)
        raise
    Import.objects.filter(pk=imported.pk).update(
        status=Import.COMPLETE,
        rows=result.rows,
        total_rows=result.rows,
        percent=100,
        days=result.days,
        first_day=result.first,
        last_day=result.last,
        finished_at=timezone.now(),
    )
    imported.refresh_from_db()
    return imported, result


def _where(message: str) -> tuple[str, int | None, str]:
    """(file, line, column) from ``tracking.imports``' "<file>: line N, column C: …"."""
    file, _, rest = message.partition(": line ")
    number, _, rest = rest.partition(", column ")
    column = rest.split(":", 1)[0]
    return (file, int(number), column) if number.isdigit() else ("", None, "")


# --- export --------------------------------------------------------------------------------


def plausible_export(site, first: date, last: date) -> bytes:
    """The site's native data of [first, last] (its time zone) as Plausible's CSV export."""

    rows = export_rows(site.pk, site.timezone, first, last)
    return plausible_csv.write_export(first, last, lambda table: rows.get(table, []))


def plausible_export_name(site, first: date, last: date) -> str:
    host = site.hostname.replace(".", "_")
    return f"{host}_{first:%Y%m%d}_{last:%Y%m%d}.zip"


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
