"""Who is calling: the client's address behind trusted proxies, and its keyed digest.

Every part of the product that asks "which address is this?" uses ``client_ip``: the
visitor identity and GeoIP of tracked hits, excluded-IP lists, the log-in throttle, the
token endpoint's limits, shared-link and password-reset throttles. It lives here, below
every app, so ``accounts`` and ``sites`` need not import ``tracking``.

Reverse proxies (nginx ``$proxy_add_x_forwarded_for``, HAProxy ``option forwardfor``)
*append* the address they saw to ``X-Forwarded-For``; whatever is to the left of it came
from the client and is the client's choice. So the header is read **from the right**:
each hop that is one of ``TRUSTED_PROXIES`` is skipped and the first address that is not
a trusted proxy is the client. The leftmost entry is never believed, except through a
protocol's own documented IP field (Pirsch ``ip``, Matomo ``cip`` with a token, Swetrix
``X-Client-IP-Address``, Plausible's ``X-Forwarded-For``), which the adapters pass as
``protocol_ip``.

``ip_digest`` is what goes into cache keys: an HMAC keyed with ``SECRET_KEY``, so Redis
never holds an address, and a plain hash of the 2^32 IPv4 addresses cannot be reversed
by trying them all.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

# At most this many X-Forwarded-For entries are examined (a chain of proxies is short).
MAX_FORWARDED_HOPS = 20


def parse_trusted_proxies(value: str | list[str]) -> tuple:
    """Networks whose forwarding headers we believe (``"10.0.0.0/8, ::1"``)."""
    items = value.split(",") if isinstance(value, str) else value
    networks = []
    for item in items or []:
        item = str(item).strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return tuple(networks)


@functools.lru_cache(maxsize=50_000)
def normalize_ip(value: str) -> str | None:
    """A canonical address, or None: strips ports and brackets, unwraps IPv4-mapped IPv6."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):  # [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def first_valid_ip(header_value: str) -> str | None:
    """The first valid address of a comma-separated list (a protocol's own IP field)."""
    if not isinstance(header_value, str):
        return None
    for part in header_value.split(",")[:MAX_FORWARDED_HOPS]:
        address = normalize_ip(part)
        if address:
            return address
    return None


def _in(address: str, networks: tuple) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def forwarded_client(peer: str, forwarded_for: str, trusted_proxies: tuple) -> str:
    """Walk ``X-Forwarded-For`` from the right, past trusted proxies, to the client.

    ``peer`` is a trusted proxy. The first entry (from the right) that is not a trusted
    proxy is the client. An unreadable entry ends the walk: nothing to its left was
    written by a proxy we trust, so the nearest trusted hop is the best we know. When
    every entry is a trusted proxy the request started inside the trusted network and
    its leftmost entry is the origin.
    """
    nearest = peer
    for part in reversed(forwarded_for.split(",")[-MAX_FORWARDED_HOPS:]):
        address = normalize_ip(part)
        if address is None:
            return nearest
        if not _in(address, trusted_proxies):
            return address
        nearest = address
    return nearest


def resolve_client_ip(
    remote_addr: str,
    *,
    forwarded_for: str = "",
    trusted_proxies: tuple = (),
    protocol_ip: str = "",
) -> str:
    """The protocol's own IP field if valid, else the client behind trusted proxies, else the peer."""
    address = first_valid_ip(protocol_ip) if protocol_ip else None
    if address:
        return address
    peer = normalize_ip(remote_addr or "")
    if peer and forwarded_for and isinstance(forwarded_for, str) and _in(peer, trusted_proxies):
        return forwarded_client(peer, forwarded_for, trusted_proxies)
    return peer or ""


@functools.cache
def _trusted_proxies(value: tuple[str, ...]) -> tuple:
    return parse_trusted_proxies(list(value))


def trusted_proxies() -> tuple:
    return _trusted_proxies(tuple(settings.TRUSTED_PROXIES))


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """The direct peer is one of ``TRUSTED_PROXIES`` (its forwarding headers are believed)."""
    peer = normalize_ip(request.META.get("REMOTE_ADDR", "") or "")
    return bool(peer) and _in(peer, trusted_proxies())


def client_ip(request: HttpRequest, protocol_ip: str = "") -> str:
    """The caller's address: the protocol's own field, else the rightmost untrusted hop, else the peer."""
    return resolve_client_ip(
        request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted_proxies=trusted_proxies(),
        protocol_ip=protocol_ip,
    )


def keyed_digest(value: str) -> str:
    """HMAC-SHA256 keyed with ``SECRET_KEY`` (128 bits): for cache keys, never the value."""
    key = settings.SECRET_KEY.encode("utf-8", "replace")
    return hmac.new(key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def ip_digest(ip: str) -> str:
    """A keyed digest of an address for cache keys and logs (never the address itself)."""
    return keyed_digest(ip)
