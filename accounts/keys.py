"""Generating, hashing and checking the secrets of API clients.

Keys are long random strings, so a single SHA-256 is enough to make a stolen
database useless (no password-style stretching needed); lookups go through a short
non-secret prefix and the digest is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import string

from analytics_project.ids import random_string

ACCESS_KEY_PREFIX = "pa_"
READ_KEY_PREFIX = "sk_live_"
PUBLIC_KEY_PREFIX = "pk_live_"
# Plausible's keys are 64 characters; clients send them as they are (no shape checks).
PLAUSIBLE_KEY_PREFIX = "pl_"
PLAUSIBLE_KEY_LENGTH = 61
ACCESS_KEY_LENGTH = 45  # after the prefix: the official Pirsch SDK checks pa_ + 45
READ_KEY_LENGTH = 32
MATOMO_TOKEN_LENGTH = 32
OAUTH_CLIENT_ID_LENGTH = 32  # the Pirsch SDK checks these lengths before sending
OAUTH_CLIENT_SECRET_LENGTH = 64
LOOKUP_PREFIX_LENGTH = 12


def new_key(client_type: str) -> str:
    """A fresh secret for a key-type client (``key``, ``read``, ``matomo`` or ``plausible``)."""
    if client_type == "key":
        return ACCESS_KEY_PREFIX + random_string(ACCESS_KEY_LENGTH)
    if client_type == "read":
        return READ_KEY_PREFIX + random_string(READ_KEY_LENGTH)
    if client_type == "matomo":
        return random_string(MATOMO_TOKEN_LENGTH, string.hexdigits.lower()[:16])
    if client_type == "plausible":
        return PLAUSIBLE_KEY_PREFIX + random_string(PLAUSIBLE_KEY_LENGTH)
    raise ValueError(f"no key for client type {client_type!r}")


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def lookup_prefix(key: str) -> str:
    return key[:LOOKUP_PREFIX_LENGTH]


def digest_matches(key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(key_digest(key), stored_digest)


def key_type(key: str) -> str | None:
    """Which kind of key this looks like, from its shape alone."""
    if key.startswith(ACCESS_KEY_PREFIX) and len(key) == len(ACCESS_KEY_PREFIX) + ACCESS_KEY_LENGTH:
        return "key"
    if key.startswith(READ_KEY_PREFIX) and len(key) == len(READ_KEY_PREFIX) + READ_KEY_LENGTH:
        return "read"
    if key.startswith(PUBLIC_KEY_PREFIX):
        return "public"
    if (
        key.startswith(PLAUSIBLE_KEY_PREFIX)
        and len(key) == len(PLAUSIBLE_KEY_PREFIX) + PLAUSIBLE_KEY_LENGTH
    ):
        return "plausible"
    if len(key) == MATOMO_TOKEN_LENGTH and all(c in string.hexdigits for c in key):
        return "matomo"
    return None
