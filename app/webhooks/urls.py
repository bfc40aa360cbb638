"""Webhook URLs: http(s) only, and never a private, loopback or link-local address unless
TACTFUL_WEBHOOK_ALLOW_PRIVATE allows it (checked on creation and again before each send,
since a name may resolve elsewhere later)."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class RefusedUrl(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise RefusedUrl saying why the URL may not receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("must be an http or https URL")
    host = parts.hostname
    if not host:
        raise RefusedUrl("must name a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedUrl("has an invalid port") from None
    if allow_private:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl("the host does not resolve") from None
    if not found or not all(_public(str(info[4][0])) for info in found):
        raise RefusedUrl("resolves to a private, loopback or reserved address")
