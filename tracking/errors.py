"""Why the ingest path could not accept rows: shared by the buffer, sessions and the views."""

from __future__ import annotations


class BufferUnavailable(Exception):
    """The rows could not be made durable: answer 5xx and let the client retry."""

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class BacklogFull(BufferUnavailable):
    """Too many events wait for the consumer: refuse rather than exhaust memory."""


class SessionsChanged(Exception):
    """An optimistic store guessed a session key wrong: nothing was written.

    ``current`` holds what each guessed key holds now (None: absent)."""

    def __init__(self, current: dict[str, bytes | None]):
        super().__init__("sessions changed since they were guessed")
        self.current = current
