"""The event consumer: Redis stream → PostgreSQL, in batches, acknowledged after commit.

- A consumer group shares the stream between consumers; each entry is delivered to one.
- Entries are acknowledged (XACK) and deleted (XDEL) only after their rows are
  committed, so a consumer killed at any point loses nothing.
- Entries another consumer read but never acknowledged (it died) are claimed with
  XAUTOCLAIM once idle for ``claim_idle_ms`` and written again; event ids make the
  replay idempotent (``ON CONFLICT DO NOTHING``), so nothing is stored twice.
- Entries read for the first time (``>``) are COPYed straight into the events table;
  claimed or re-read ones take the staging path that skips stored ids, as does a first
  delivery whose COPY finds an id already stored (``tracking.writer``).
- Transient database errors keep the entries pending and retry with backoff; an
  entry that cannot be decoded or written on its own goes to ``DeadLetter``.
- While there is a backlog, ``run_forever`` reads, decodes and cleans the next batch in
  a second thread while this one is written: Redis and PostgreSQL do their part of the
  work while Python does its own (docs/performance.md). The next batch is only read,
  never acknowledged, before this one is committed; if this one fails, the read-ahead
  is dropped and both are read again as this consumer's pending entries.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

from tracking import buffer, writer
from tracking.models import DeadLetter

logger = logging.getLogger(__name__)

GROUP = "writers"
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


@dataclass
class Batch:
    """Stream entries read together, decoded and cleaned, not yet written."""

    fresh: bool  # read for the first time (``>``): most likely not stored yet
    decoded: list[tuple[bytes, list[dict]]] = field(default_factory=list)
    poison: list[tuple[bytes, bytes, str]] = field(default_factory=list)
    values: list[list] | None = None  # the decoded rows cleaned (None: cleaning failed)

    def __len__(self) -> int:
        return len(self.decoded) + len(self.poison)


class EventConsumer:
    def __init__(
        self,
        name: str,
        *,
        batch_size: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        linger_ms: int = 200,
    ):
        self.name = name
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.linger_ms = linger_ms
        self.stream = settings.EVENT_STREAM_KEY
        self.stopping = False
        self._read_own_pending = True  # after a (re)start, first finish what we had read
        self._group_ready = False
        self._backoff = 0.5

    @property
    def client(self) -> redis.Redis:
        return buffer.redis_client()

    def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def _claim(self) -> list:
        _next, entries, *_ = self.client.xautoclaim(
            self.stream,
            GROUP,
            self.name,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch_size,
        )
        return [e for e in entries if e and e[1]]

    def _read(self) -> tuple[list, bool]:
        """The next entries, and whether they are read for the first time."""
        if self._read_own_pending:
            # After a (re)start or a failed write: first what this consumer read but never acked.
            result: Any = self.client.xreadgroup(
                GROUP, self.name, {self.stream: "0"}, count=self.batch_size
            )
            entries = [e for e in (result[0][1] if result else []) if e and e[1]]
            if entries:
                return entries, False
            self._read_own_pending = False
        fresh: Any = self.client.xreadgroup(
            GROUP, self.name, {self.stream: ">"}, count=self.batch_size, block=self.block_ms
        )
        # Never delivered before: most likely not stored yet.
        return [e for e in (fresh[0][1] if fresh else []) if e and e[1]], True

    def _next(self) -> Batch | None:
        """Read the next batch (claimed entries first), decode and clean it."""
        entries, fresh = self._claim(), False
        if not entries:
            entries, fresh = self._read()
        if not entries:
            return None
        # A batch makes hundreds of thousands of short-lived objects (decoded rows, cleaned
        # values), freed by reference counting; the cyclic collector scanning them again
        # and again cost a fifth of the consumer's time (docs/performance.md).
        with _collector_paused():
            batch = Batch(fresh)
            for entry_id, fields in entries:
                payload = fields.get(buffer.ROWS_FIELD.encode(), b"")
                try:
                    batch.decoded.append((entry_id, buffer.decode(payload)))
                except (ValueError, UnicodeDecodeError) as exc:
                    batch.poison.append((entry_id, payload, f"undecodable: {exc}"))
            try:
                batch.values = writer.clean_rows(row for _, rows in batch.decoded for row in rows)
            except (ValueError, TypeError):
                batch.values = None  # _write finds the entry at fault
        return batch

    def run_once(self) -> int:
        """Read one batch, write it, acknowledge it; returns the entries handled (0 = idle)."""
        self.ensure_group()
        batch = self._next()
        return self._handle(batch) if batch is not None else 0

    def _handle(self, batch: Batch) -> int:
        """Write ``batch`` and acknowledge it; 0 if the database is unavailable (it stays
        pending and is read again)."""
        with _collector_paused():
            return self._write_and_ack(batch)

    def _write_and_ack(self, batch: Batch) -> int:
        decoded, poison = batch.decoded, batch.poison
        try:
            self._write(batch)
        except TRANSIENT_DB_ERRORS as exc:
            logger.warning("consumer %s: database unavailable, will retry: %s", self.name, exc)
            close_old_connections()
            self._read_own_pending = True  # the batch stays pending: read it again
            time.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, 10)
            return 0
        self._backoff = 0.5
        ids = [entry_id for entry_id, _ in decoded] + [p[0] for p in poison]
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()
        return len(batch)

    def _write(self, batch: Batch) -> None:
        decoded, poison = batch.decoded, batch.poison
        try:
            if batch.values is None:
                raise ValueError("a row could not be cleaned")
            writer.write_clean(batch.values, replay=not batch.fresh)
        except TRANSIENT_DB_ERRORS:
            raise
        except (DatabaseError, ValueError, TypeError) as exc:
            # One bad entry must not block the stream: write them one by one.
            logger.warning("consumer %s: batch failed (%s), writing entries singly", self.name, exc)
            for entry_id, rows in decoded:
                try:
                    writer.write_rows(rows)
                except TRANSIENT_DB_ERRORS:
                    raise
                except (DatabaseError, ValueError, TypeError) as error:
                    poison.append((entry_id, buffer.encode(rows), repr(error)))
        for entry_id, payload, reason in poison:
            logger.error("consumer %s: dead-lettering %s: %s", self.name, entry_id, reason)
            DeadLetter.objects.create(
                stream_id=entry_id.decode(),
                payload=payload.decode("utf-8", "replace"),
                error=reason[:2000],
            )

    def stop(self, *_args) -> None:
        self.stopping = True

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("consumer %s reading %s", self.name, self.stream)
        with ThreadPoolExecutor(1, thread_name_prefix=f"consumer-{self.name}-read") as reader:
            ahead: Future[Batch | None] | None = (
                None  # the next batch, read while this one is written
            )
            while not self.stopping:
                try:
                    self.ensure_group()
                    if ahead is not None:
                        taken, ahead = ahead, None
                        batch = taken.result()
                    else:
                        batch = self._next()
                    if batch is None:
                        continue
                    full = len(batch) >= self.batch_size
                    if full and not self._read_own_pending:
                        ahead = reader.submit(self._next)  # a backlog: read on while writing
                    handled = self._handle(batch)
                    if handled == 0 and ahead is not None:
                        # Not written: what was read ahead is read again after it, as pending.
                        _drop(ahead)
                        ahead = None
                    if handled > 0 and not full:
                        # A short pause lets entries pile up into bigger COPYs: one
                        # transaction per request would cost more than the requests.
                        time.sleep(self.linger_ms / 1000)
                except redis.RedisError as exc:
                    _drop(ahead)
                    ahead = None
                    logger.warning("consumer %s: redis unavailable, retrying: %s", self.name, exc)
                    self._group_ready = False
                    self._read_own_pending = True
                    time.sleep(self._backoff)
                    self._backoff = min(self._backoff * 2, 10)
            self._finish(ahead)

    def _finish(self, ahead: Future[Batch | None] | None) -> None:
        """On stop, write what was read ahead rather than leave it pending until claimed."""
        if ahead is None:
            return
        try:
            batch = ahead.result()
            if batch is not None:
                self._handle(batch)
        except redis.RedisError as exc:
            logger.warning("consumer %s: read-ahead left pending: %s", self.name, exc)


def _drop(ahead: Future[Batch | None] | None) -> None:
    """Wait for a read-ahead to end and forget it: its entries stay pending to this
    consumer, which reads its pending entries again before anything new."""
    if ahead is not None:
        with contextlib.suppress(redis.RedisError):
            ahead.result()


class _CollectorPause:
    """Pauses the cyclic garbage collector while any batch is handled, in any thread:
    only the last one out enables it again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._was_enabled = gc.isenabled()
                gc.disable()
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


_collector_paused = _CollectorPause()
