"""Proving control of a hostname, the way Google Search Console and Matomo do it.

Either proof is enough:

1. DNS: a TXT record on the hostname, ``footfall-site-verification=<token>``;
2. a file at ``https://<host>/.well-known/footfall-verification.txt`` (plain http is tried
   after https) whose body contains the token.

The file fetch is a request to a server someone else names, so it is careful: the name
is resolved once and every address must be public (no loopback, private, link-local or
reserved ranges, unless ``SITE_VERIFICATION_ALLOW_PRIVATE`` is on, which tests use);
the connection goes to that very address (DNS cannot change between the check and the
request); redirects are not followed; timeouts are short and at most 4 KiB is read.
Nothing from the response reaches the user except "found" or "not found".
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl

TXT_PREFIX = "footfall-site-verification="
FILE_PATH = "/.well-known/footfall-verification.txt"
TIMEOUT_SECONDS = 3.0
MAX_BODY_BYTES = 4096
# Where the file is looked for, in order. Tests point these at a server on loopback.
FILE_PORTS: tuple[tuple[str, int], ...] = (("https", 443), ("http", 80))
# DNS servers to ask as (address, port); None asks the system's resolvers. Tests point
# this at a small DNS server on loopback.
NAMESERVERS: tuple[tuple[str, int], ...] | None = None


def txt_records(host: str) -> list[str]:
    """The TXT strings published on ``host`` (empty when there are none or DNS fails)."""
    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=NAMESERVERS is None)
        if NAMESERVERS is not None:
            resolver.nameservers = [address for address, _ in NAMESERVERS]
            resolver.port = NAMESERVERS[0][1]
        resolver.lifetime = TIMEOUT_SECONDS
        answer = resolver.resolve(host, "TXT")
    except dns.exception.DNSException:
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def proved_by_dns(host: str, token: str) -> bool:
    expected = f"{TXT_PREFIX}{token}"
    return any(record.strip() == expected for record in txt_records(host))


def _addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses ``host`` resolves to; none at all if any of them is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private and any(
        not ipaddress.ip_address(address.split("%", 1)[0]).is_global for address in addresses
    ):
        return []
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to one already-checked address (the Host header keeps the name)."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS; the certificate is checked against the hostname, not the address."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def file_body(host: str, *, allow_private: bool) -> str | None:
    """The verification file's body (first 4 KiB), or None when it cannot be fetched."""
    for scheme, port in FILE_PORTS:
        for address in _addresses(host, port, allow_private)[:2]:
            cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
            connection = cls(host, address, port, TIMEOUT_SECONDS)
            try:
                connection.request(
                    "GET", FILE_PATH, headers={"User-Agent": "Footfall site verification"}
                )
                response = connection.getresponse()
                if response.status == 200:
                    return response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException, ssl.SSLError, ValueError):
                continue
            finally:
                connection.close()
    return None


def proved_by_file(host: str, token: str, *, allow_private: bool) -> bool:
    body = file_body(host, allow_private=allow_private)
    return body is not None and token in body


def check(host: str, token: str, *, allow_private: bool) -> str | None:
    """How ``host`` proves ``token``: ``"dns"``, ``"file"``, or None."""
    if proved_by_dns(host, token):
        return "dns"
    if proved_by_file(host, token, allow_private=allow_private):
        return "file"
    return None
