"""The visitor's IP address: see ``analytics_project.client_ip`` (shared with log-in
throttles and rate limits, so every part of the product resolves an address the same
way: ``X-Forwarded-For`` walked from the right past trusted proxies)."""

from __future__ import annotations

from analytics_project.client_ip import (
    first_valid_ip,
    forwarded_client,
    normalize_ip,
    parse_trusted_proxies,
    resolve_client_ip,
)

__all__ = [
    "first_valid_ip",
    "forwarded_client",
    "normalize_ip",
    "parse_trusted_proxies",
    "resolve_client_ip",
]
