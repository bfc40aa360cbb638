"""Webhook URLs: http(s) only, and never a private, loopback or link-local address unless
TACTFUL_WEBHOOK_ALLOW_PRIVATE allows it (checked on creation and again before each send,
since a name may resolve elsewhere later)."""

import asyncio
import ipaddress
import socket

import httpx


class RefusedUrl(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise RefusedUrl saying why the URL may not receive webhooks. The URL is read as the
    sender (httpx) reads it, so what is checked is what would be sent to."""
    try:
        parts = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:  # ValueError: e.g. an invalid IDNA host
        raise RefusedUrl(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("must be an http or https URL")
    host = parts.raw_host.decode("ascii")  # IDNA-encoded; `host` would decode it
    if not host:
        raise RefusedUrl("must name a host")
    if parts.port is not None and not 0 < parts.port < 65536:
        raise RefusedUrl("has an invalid port")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl("the host does not resolve") from None
    if not found or not all(_public(str(info[4][0])) for info in found):
        raise RefusedUrl("resolves to a private, loopback or reserved address")
