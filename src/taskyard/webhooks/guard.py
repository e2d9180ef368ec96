"""Where a webhook may be sent: http or https, to a host whose every address is public.

A URL whose host resolves to a loopback, private, link-local, multicast or otherwise special
address would let a project admin make the server call inside its own network (SSRF). It is
refused when registered and again at each delivery, since DNS can change in between; unless
`TASKYARD_WEBHOOK_ALLOW_PRIVATE` allows it (tests, and private networks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})


class UnsafeUrl(ValueError):
    """Why a webhook URL may not be called."""


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def parse_webhook_url(url: str) -> tuple[str, int]:
    """The URL's host and port; UnsafeUrl if it isn't an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl("Must be a valid URL") from error
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeUrl("Must be an http or https URL")
    if not parts.hostname:
        raise UnsafeUrl("Must name a host")
    if parts.username or parts.password:
        raise UnsafeUrl("Must not carry a user name or password")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_destination(url: str, *, allow_private: bool) -> None:
    """UnsafeUrl unless the URL is http(s) and (unless allowed) every address of its host is
    public. Resolves the host, so it runs at registration and before each delivery."""
    host, port = parse_webhook_url(url)
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise UnsafeUrl("Its host could not be resolved") from error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses or any(_special(address) for address in addresses):
        raise UnsafeUrl("Must not point at a loopback, private, link-local or multicast address")
