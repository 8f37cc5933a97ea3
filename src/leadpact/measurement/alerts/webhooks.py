"""Where an alert webhook may point, and posting to it without being led elsewhere (SSRF).

A webhook is an address an admin types and the worker posts to from inside the network: pointed at
``http://127.0.0.1:8000/admin/``, a cloud's metadata service (``169.254.169.254``) or an intranet host,
it would make the worker a proxy into places no one outside should reach. So:

- only ``http`` and ``https``, with a host name;
- the host is resolved and **every** address it resolves to is checked: loopback, link-local, private,
  shared (carrier-grade NAT), multicast, reserved and unspecified addresses are refused, also inside
  IPv4-mapped or NAT64 IPv6 addresses — unless the operator allows them
  (``settings.ALERT_WEBHOOKS_ALLOW_PRIVATE``, ``LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE=1``);
- the connection goes to an address that was checked (no second lookup that could answer otherwise),
  with the host name kept for the ``Host`` header and TLS (certificate and SNI);
- redirects are never followed: a 3xx is a failed send.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

__all__ = ["WebhookRefused", "webhook_addresses", "webhook_post"]

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not "private" to Python, not public
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookRefused(ValueError):  # noqa: N818 - a refusal, said in words (like VersionNotFound)
    """A webhook address that may not be posted to: the message says why."""


def _refused_reason(address: IPAddress) -> str | None:
    """Why an address is not a public one (``None``: it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return _refused_reason(inner)
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if not address.is_global:
        return "not global"
    return None


def _allow_private() -> bool:
    return bool(getattr(settings, "ALERT_WEBHOOKS_ALLOW_PRIVATE", False))


def webhook_addresses(
    url: str, *, allow_private: bool | None = None, resolve: Resolver = socket.getaddrinfo
) -> list[str]:
    """The addresses ``url``'s host resolves to, each one checked; :class:`WebhookRefused` when the url
    is not http(s), has no host, does not resolve, or any address is not public (and the operator has
    not allowed private targets)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused(f"webhook: {parts.scheme or 'no'} scheme; only http and https are posted to")
    host = parts.hostname
    if not host:
        raise WebhookRefused("webhook: the address has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise WebhookRefused(f"webhook host {host!r}: {error}") from error
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise WebhookRefused(f"webhook host {host!r} does not resolve: {error}") from error
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in found))
    if not addresses:
        raise WebhookRefused(f"webhook host {host!r} does not resolve to any address")
    allowed = _allow_private() if allow_private is None else allow_private
    if not allowed:
        for text in addresses:
            reason = _refused_reason(ipaddress.ip_address(text))
            if reason is not None:
                raise WebhookRefused(
                    f"webhook host {host!r} resolves to {text}, a {reason} address: alerts are only posted "
                    "to public addresses (an operator may allow private ones: "
                    "LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE=1)"
                )
    return addresses


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to a checked address, the URL's host name kept for the ``Host`` header."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; the certificate is checked for the URL's host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def webhook_post(
    url: str,
    body: bytes,
    *,
    timeout: float = 10.0,
    allow_private: bool | None = None,
    resolve: Resolver = socket.getaddrinfo,
) -> int:
    """POST ``body`` (JSON) to ``url`` at an address checked by :func:`webhook_addresses`; returns the
    status. A redirect is not followed (:class:`WebhookRefused`); any other status outside 2xx is an
    :class:`OSError`, as a refused connection is."""
    addresses = webhook_addresses(url, allow_private=allow_private, resolve=resolve)
    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    kind = _PinnedTLS if parts.scheme == "https" else _Pinned
    connection = kind(parts.hostname, port, address=addresses[0], timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read(65536)
        status = int(response.status)
    finally:
        connection.close()
    if 300 <= status < 400:
        raise WebhookRefused(f"webhook {parts.hostname}: answered {status} (a redirect, not followed)")
    if not 200 <= status < 300:
        raise OSError(f"webhook {parts.hostname}: answered {status}, not 2xx")
    return status
