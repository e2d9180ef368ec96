"""The real client: X-Forwarded-For and X-Forwarded-Proto, believed only from trusted proxies.

A trusted proxy (nginx) appends the address it saw to X-Forwarded-For, so the right-most entry is
the one it vouches for. Anything to its left came from the client and may be forged, so it is
never used. A request that does not come from a trusted proxy keeps its own peer address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDED_PROTO = b"x-forwarded-proto"


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(network, strict=False) for network in networks]

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


def _last_value(raw: bytes) -> str | None:
    value = raw.decode("latin-1").rsplit(",", 1)[-1].strip()
    return value or None


def apply_forwarded(scope: Scope, trusted: TrustedProxies) -> None:
    """Rewrite the ASGI client address and scheme from a trusted proxy's headers."""
    client = scope.get("client")
    if not (trusted and client and trusted.trusts(client[0])):
        return
    forwarded_for = forwarded_proto = None
    for name, value in scope.get("headers", ()):
        if name == _FORWARDED_FOR:
            forwarded_for = _last_value(value)
        elif name == _FORWARDED_PROTO:
            forwarded_proto = _last_value(value)
    if forwarded_for:
        try:
            ipaddress.ip_address(forwarded_for)
        except ValueError:
            forwarded_for = None
    if forwarded_for:
        scope["client"] = (forwarded_for, client[1])
    if forwarded_proto in {"http", "https"}:
        scope["scheme"] = forwarded_proto
