"""Random public identifiers and secrets."""

import os
import secrets
import string
import time
import uuid

ALPHANUMERIC = string.ascii_letters + string.digits


def random_string(length: int, alphabet: str = ALPHANUMERIC) -> str:
    """A cryptographically random string (``secrets``), e.g. a public id like ``A5kgYzK14m``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_id() -> str:
    """A 10-character public id in the shape Pirsch uses for domains and users."""
    return random_string(10)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): event ids that index well and sort by time."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68 & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b (62 bits)
    return uuid.UUID(int=value)
