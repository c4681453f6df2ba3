"""The client's address as simdesk sees it: the socket's peer, or, behind a reverse proxy that is
configured as trusted (`SIMDESK_TRUSTED_PROXY_HEADER`, `SIMDESK_PROXY_COUNT`), the address that proxy
recorded. Login throttling (django-axes) and the password-reset limits key on it."""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    try:
        return str(ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address. A proxy header is read only when configured: otherwise any client could
    name its own address in it and escape the per-address limits. With `SIMDESK_PROXY_COUNT` trusted
    proxies in front, the entry that the outermost trusted proxy appended is the client's (the ones to
    its left were written by the client and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR", "")
    name = getattr(settings, "SIMDESK_TRUSTED_PROXY_HEADER", "").strip()
    if not name:
        return remote
    header = "HTTP_" + name.upper().replace("-", "_")
    hops = [hop for hop in request.META.get(header, "").split(",") if hop.strip()]
    count = max(int(getattr(settings, "SIMDESK_PROXY_COUNT", 1)), 1)
    if len(hops) < count:
        return remote
    return _valid(hops[-count]) or remote
