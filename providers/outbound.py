"""Where the server may send a provider request: a member's custom base URL must not turn the server into
a probe of its own network.

Only http and https. Every address the host name resolves to must be public, unless the host or its
network is listed in `PROVIDER_ALLOWED_NETWORKS` (self-hosted providers). Loopback is allowed too while
the sandbox runs in this same server (`SANDBOX_ENABLED`) or in development (`DEBUG`). The check runs when a
key is saved and again before each request to a custom base URL, with a fresh resolution, so a name that
later resolves elsewhere (DNS rebinding) is caught at request time as far as a check before connecting
can catch it.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from providers.errors import UpstreamUnreachable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(UpstreamUnreachable):
    """The base URL names a scheme or an address the server does not send requests to. Reported like any
    other failure to reach (the server tells nobody what lives on its network); nothing was sent."""

    temporary = False


def _allowed_networks() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in getattr(settings, "PROVIDER_ALLOWED_NETWORKS", []) or []:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry.rstrip("."))
    return hosts, networks


def _address_allowed(address: IPAddress, networks: list) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in networks):
        return True
    if address.is_loopback and (settings.DEBUG or getattr(settings, "SANDBOX_ENABLED", False)):
        return True
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise AddressRefused() from None
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def check_provider_url(url: str) -> None:
    """Raise `AddressRefused` unless the server may send a provider request to `url` (see the module)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise AddressRefused() from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise AddressRefused()
    allowed_hosts, networks = _allowed_networks()
    if host in allowed_hosts:
        return
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = _resolve(host, port)
    # Every address: a name resolving to one public and one private address is refused.
    if not addresses or not all(_address_allowed(address, networks) for address in addresses):
        raise AddressRefused()
