"""Event rows for statistics tests, written through the real bulk writer."""

from datetime import UTC, datetime

from analytics_project.ids import uuid7
from stats.models import Import, ImportedDay
from tracking import writer


def event_row(
    site_id: int,
    at: datetime,
    *,
    visitor: int = 1,
    session: int = 1,
    kind: str = "pageview",
    received_at: datetime | None = None,
    **fields,
) -> dict:
    row = {column: "" for column in writer.EVENT_COLUMNS}
    row.update(
        id=str(uuid7()),
        site_id=site_id,
        timestamp=at.astimezone(UTC).isoformat(),
        received_at=(received_at or at).astimezone(UTC).isoformat(),
        protocol="pirsch",
        kind=kind,
        name="pageview" if kind == "pageview" else fields.pop("name", "Signup"),
        visitor_id=visitor,
        session_id=session,
        session_start=False,
        path="/",
        screen_width=None,
        screen_height=None,
        props={},
        revenue_amount=None,
        revenue_reporting=None,
        duration_ms=None,
        scroll_depth=None,
        interactive=True,
    )
    row.update(fields)
    if row["revenue_amount"] is not None and "revenue_reporting" not in fields:
        # As the pipeline converts it for a site reporting in EUR (the default).
        from decimal import Decimal

        from sites.exchange_rates import convert

        value = convert(
            Decimal(str(row["revenue_amount"])), row["revenue_currency"], "EUR", at.date()
        )
        row["revenue_reporting"] = None if value is None else str(value)
        row["revenue_reporting_currency"] = "" if value is None else "EUR"
    return row


def store(rows: list[dict]) -> None:
    writer.write_rows(rows)


def complete_import(site, day, *, import_id: str, **totals):
    """A complete Plausible import of one day's totals (``visitors``, ``pageviews``,
    ``visits``, ``bounces``, ``visit_duration``), as ``stats.imports`` leaves it."""
    record = Import.objects.create(
        id=import_id,
        site=site,
        kind="plausible",
        status=Import.COMPLETE,
        file_hash=import_id.encode().hex().ljust(64, "0")[:64],
        first_day=day,
        last_day=day,
    )
    ImportedDay.objects.create(imported=record, site=site, day=day, **totals)
    return record
