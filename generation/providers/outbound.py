"""The one door out: every connection the studio opens to a provider is checked here first.

An owner types a provider's base URL, and providers answer with URLs of their own (output files,
redirects, status addresses): any of them may name this machine's own services or the cloud's
metadata address (169.254.169.254). So every connection resolves the host once, refuses it when any
address is loopback, link-local, private, shared (carrier-grade NAT), multicast, unspecified or
otherwise reserved, and then connects to the very address it checked: a DNS answer that changes
between the check and the connection (rebinding) never reaches the socket.

The operator opens exceptions (a ComfyUI box on the LAN) with OUTBOUND_ALLOWED_PRIVATE_ADDRESSES:
addresses, CIDR ranges and host names, like Mastodon's ALLOWED_PRIVATE_ADDRESSES.

Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) are not used: a proxy resolves and
connects on the studio's behalf, out of this check's reach.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from .base import ProviderError

SETTING = "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# What each kind of address is called in a refusal. Checked in this order; whatever else is not
# globally routable (documentation, benchmarking, IETF ranges) is "reserved".
_V4 = [
    ("unspecified", ["0.0.0.0/8"]),  # 0.0.0.0 reaches this machine on Linux
    ("loopback", ["127.0.0.0/8"]),
    ("link-local", ["169.254.0.0/16"]),  # the cloud metadata service lives here
    ("private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    ("shared", ["100.64.0.0/10"]),
    ("multicast", ["224.0.0.0/4"]),
    ("broadcast", ["255.255.255.255/32"]),
    ("reserved", ["240.0.0.0/4"]),
]
_V6 = [
    ("unspecified", ["::/128"]),
    ("loopback", ["::1/128"]),
    ("link-local", ["fe80::/10"]),
    ("private", ["fc00::/7", "fec0::/10"]),  # unique local, and the retired site-local
    ("multicast", ["ff00::/8"]),
]
_TABLE = [(kind, [ipaddress.ip_network(n) for n in nets]) for kind, nets in _V4 + _V6]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _kind_words(kind: str) -> str:
    return {
        "unspecified": _("an unspecified address"),
        "loopback": _("a loopback address"),
        "link-local": _("a link-local address"),
        "private": _("a private address"),
        "shared": _("a shared (carrier-grade NAT) address"),
        "multicast": _("a multicast address"),
        "broadcast": _("a broadcast address"),
        "reserved": _("a reserved address"),
    }[kind]


def address_kind(ip: Address) -> str | None:
    """Why the studio does not call `ip` by default ("loopback", "private", …); None when public."""
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 address
        return address_kind(ip.ipv4_mapped)
    if ip.version == 6 and ip in _NAT64:  # so is 64:ff9b::a.b.c.d, through a NAT64 gateway
        return address_kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for kind, networks in _TABLE:
        if any(ip.version == network.version and ip in network for network in networks):
            return kind
    if ip.version == 6 and ip.sixtofour is not None:  # 2002:a.b.c.d::: what its IPv4 address is
        return address_kind(ip.sixtofour)
    return None if ip.is_global else "reserved"


class AllowList:
    """The operator's exceptions: networks (an address is a /32 or /128) and host names."""

    def __init__(self, entries: Iterable[str]):
        self.networks, self.hosts = [], set()
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(_host_name(entry))

    def allows_host(self, host: str) -> bool:
        return _host_name(host) in self.hosts

    def allows(self, host: str, ip: Address) -> bool:
        if self.allows_host(host):
            return True
        forms = [ip] + ([ip.ipv4_mapped] if ip.version == 6 and ip.ipv4_mapped is not None else [])
        return any(form in network for form in forms for network in self.networks
                   if network.version == form.version)


def _host_name(host: str) -> str:
    return host.strip().lower().rstrip(".")


@functools.lru_cache(maxsize=8)
def _allow_list(entries: tuple[str, ...]) -> AllowList:
    return AllowList(entries)


def allow_list() -> AllowList:
    """Read at each new connection, so a changed setting (a test's) holds at once."""
    if settings.configured:
        entries = getattr(settings, SETTING, ())
    else:  # the adapters used on their own, outside the studio (a script)
        entries = [e.strip() for e in os.environ.get(SETTING, "").split(",") if e.strip()]
    return _allow_list(tuple(entries))


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, once each. (Tests replace it.)"""
    found: list[str] = []
    for *_info, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


class OutboundRefused(ProviderError):
    """The studio will not connect to `address` (what `host` resolved to): it is of `kind`."""

    def __init__(self, *, host: str, address: str, kind: str):
        self.host, self.address, self.kind = host, address, kind
        if _host_name(host) == _host_name(address):
            reason = _("%(address)s is %(kind)s") % {"address": address, "kind": _kind_words(kind)}
        else:
            reason = _("%(host)s resolves to %(address)s, %(kind)s") % {
                "host": host, "address": address, "kind": _kind_words(kind)}
        super().__init__(
            _("%(reason)s; the studio only calls public addresses unless the operator lists it in "
              "%(setting)s.") % {"reason": reason, "setting": SETTING},
            code="blocked_address",
        )


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses of `host` the studio may connect to; OutboundRefused if any is refused.

    One refused address refuses the host: a name that answers a public and a private address
    would otherwise reach the private one whenever the public one is slow.
    socket.gaierror (OSError) when the name does not resolve."""
    allowed = allow_list()
    addresses = resolve(host, port)
    if allowed.allows_host(host):
        return addresses
    for address in addresses:
        ip = ipaddress.ip_address(address)
        kind = address_kind(ip)
        if kind and not allowed.allows(host, ip):
            raise OutboundRefused(host=host, address=address, kind=kind)
    return addresses


def url_problem(url: str) -> str | None:
    """Why the studio would not call `url`, in words for the form that took it; None when it would."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a URL validator lets :99999 through
        return _("%(url)s has a port no server can listen on (ports go from 1 to 65535).") % {"url": url}
    try:
        checked_addresses(host, port)
    except OutboundRefused as exc:
        return exc.message
    except (OSError, UnicodeError, ValueError):
        return _("The studio could not find %(host)s: no address answers to that name. Check the address.") % {
            "host": host}
    return None


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses checked_addresses() let through.

    The socket goes to the checked IP; httpcore still gives TLS the URL's host name, so SNI and the
    certificate check are unchanged."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except OSError as exc:  # the name does not resolve: as unreachable as before
            raise httpcore.ConnectError(str(exc)) from exc
        failure = None
        for address in addresses:  # in the resolver's order, as socket.create_connection does
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("The studio calls providers over TCP only.")


# httpx's own defaults, which the clients had before.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool built on GuardedBackend."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits = LIMITS):
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # HTTPTransport has no parameter for the network backend: its pool is made again with ours
        # (same options). Reading with HTTP11Connection keeps http.py's faster reads.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=GuardedBackend(),
        )
