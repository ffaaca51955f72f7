"""Random public identifiers and secrets."""

import secrets
import string

ALPHANUMERIC = string.ascii_letters + string.digits


def random_string(length: int, alphabet: str = ALPHANUMERIC) -> str:
    """A cryptographically random string (``secrets``), e.g. a public id like ``A5kgYzK14m``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_id() -> str:
    """A 10-character public id in the shape Pirsch uses for domains and users."""
    return random_string(10)
