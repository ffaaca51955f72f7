"""The visitor's IP address from the request, the protocol's own field and trusted proxies."""

from __future__ import annotations

import functools
import ipaddress


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
    """The first valid address of a comma-separated list (X-Forwarded-For)."""
    if not isinstance(header_value, str):
        return None
    for part in header_value.split(",")[:20]:
        address = normalize_ip(part)
        if address:
            return address
    return None


def _in(address: str, networks: tuple) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def resolve_client_ip(
    remote_addr: str,
    *,
    forwarded_for: str = "",
    trusted_proxies: tuple = (),
    protocol_ip: str = "",
) -> str:
    """The protocol's own IP field if valid, else a trusted proxy's X-Forwarded-For, else the peer."""
    address = first_valid_ip(protocol_ip) if protocol_ip else None
    if address:
        return address
    peer = normalize_ip(remote_addr or "")
    if peer and forwarded_for and _in(peer, trusted_proxies):
        forwarded = first_valid_ip(forwarded_for)
        if forwarded:
            return forwarded
    return peer or ""
