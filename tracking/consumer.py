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
"""

from __future__ import annotations

import gc
import logging
import signal
import time
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

from tracking import buffer, writer
from tracking.models import DeadLetter

logger = logging.getLogger(__name__)

GROUP = "writers"
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


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
        self._fresh = False  # whether the batch in hand was read for the first time

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

    def _read(self) -> list:
        if self._read_own_pending:
            # After a (re)start or a failed write: first what this consumer read but never acked.
            result: Any = self.client.xreadgroup(
                GROUP, self.name, {self.stream: "0"}, count=self.batch_size
            )
            entries = [e for e in (result[0][1] if result else []) if e and e[1]]
            if entries:
                return entries
            self._read_own_pending = False
        fresh: Any = self.client.xreadgroup(
            GROUP, self.name, {self.stream: ">"}, count=self.batch_size, block=self.block_ms
        )
        self._fresh = True  # never delivered before: most likely not stored yet
        return [e for e in (fresh[0][1] if fresh else []) if e and e[1]]

    def run_once(self) -> int:
        """Read one batch, write it, acknowledge it; returns the entries handled (0 = idle)."""
        self.ensure_group()
        self._fresh = False
        entries = self._claim() or self._read()
        if not entries:
            return 0
        # A batch makes hundreds of thousands of short-lived objects (decoded rows, cleaned
        # values), freed by reference counting; the cyclic collector scanning them again
        # and again cost a fifth of the consumer's time (docs/performance.md).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._handle(entries)
        finally:
            if collecting:
                gc.enable()

    def _handle(self, entries: list) -> int:
        decoded: list[tuple[bytes, list[dict]]] = []
        poison: list[tuple[bytes, bytes, str]] = []
        for entry_id, fields in entries:
            payload = fields.get(buffer.ROWS_FIELD.encode(), b"")
            try:
                decoded.append((entry_id, buffer.decode(payload)))
            except (ValueError, UnicodeDecodeError) as exc:
                poison.append((entry_id, payload, f"undecodable: {exc}"))
        try:
            self._write(decoded, poison)
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
        return len(entries)

    def _write(self, decoded: list, poison: list) -> None:
        try:
            writer.write_rows([row for _, rows in decoded for row in rows], replay=not self._fresh)
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
        while not self.stopping:
            try:
                handled = self.run_once()
                if 0 < handled < self.batch_size:
                    # A short pause lets entries pile up into bigger COPYs: one
                    # transaction per request would cost more than the requests.
                    time.sleep(self.linger_ms / 1000)
            except redis.RedisError as exc:
                logger.warning("consumer %s: redis unavailable, retrying: %s", self.name, exc)
                self._group_ready = False
                self._read_own_pending = True
                time.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, 10)
