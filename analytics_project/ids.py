"""Random public identifiers and secrets."""

import hashlib
import os
import secrets
import string
import threading
import time
import uuid

ALPHANUMERIC = string.ascii_letters + string.digits


def random_string(length: int, alphabet: str = ALPHANUMERIC) -> str:
    """A cryptographically random string (``secrets``), e.g. a public id like ``A5kgYzK14m``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_id() -> str:
    """A 10-character public id in the shape Pirsch uses for domains and users."""
    return random_string(10)


_uuid7_lock = threading.Lock()
_uuid7_state = {"ms": 0, "seq": 0}


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7), monotonic within a process.

    Within one millisecond the 12-bit ``rand_a`` field counts up (RFC 9562, method 1),
    so ids of the events of one request sort in the order they were accepted.
    """
    with _uuid7_lock:
        unix_ms = time.time_ns() // 1_000_000
        state = _uuid7_state
        if unix_ms <= state["ms"]:
            unix_ms = state["ms"]
            state["seq"] += 1
            if state["seq"] > 0xFFF:
                unix_ms += 1
                state["seq"] = 0
        else:
            state["seq"] = int.from_bytes(os.urandom(2), "big") & 0x7FF
        state["ms"] = unix_ms
        seq = state["seq"]
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= seq << 64  # rand_a: the monotonic counter
    value |= 0b10 << 62  # variant
    value |= rand_b
    return uuid.UUID(int=value)


def derived_uuid7(key: str, unix_ms: int) -> uuid.UUID:
    """A UUIDv7 whose time is ``unix_ms`` and whose other bits come from ``key``: the same key
    always gives the same id. For replayed history (imports, back-dated bulk hits), so that
    sending the same thing twice stores it once (event ids are unique)."""
    digest = int.from_bytes(
        hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:10], "big"
    )
    value = (max(0, unix_ms) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((digest >> 62) & 0xFFF) << 64  # rand_a
    value |= 0b10 << 62  # variant
    value |= digest & ((1 << 62) - 1)
    return uuid.UUID(int=value)
