"""Single-use tickets for opening an event stream from a browser.

`EventSource` can't send an Authorization header, and a long-lived token must never sit in a
URL (logs, history, referrers). So the web client trades its access token for a ticket that
opens one stream, once, within seconds; the stream then checks the token it stands for as any
request does. Only the ticket's digest is a key; the token is read and deleted in one step.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Protocol

from redis.asyncio import Redis

TICKET_BYTES = 32


def new_ticket() -> str:
    return secrets.token_urlsafe(TICKET_BYTES)


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class StreamTickets(Protocol):
    lifetime_seconds: int

    async def issue(self, token: str) -> str: ...

    async def redeem(self, ticket: str) -> str | None:
        """The token the ticket stands for, once; None if unknown, used or expired."""
        ...


class RedisStreamTickets:
    """Shared by every instance: a ticket from one opens a stream on any other."""

    def __init__(self, redis: Redis, *, prefix: str, lifetime_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lifetime_seconds = lifetime_seconds

    async def issue(self, token: str) -> str:
        ticket = new_ticket()
        await self.redis.set(
            f"{self.prefix}live:ticket:{_digest(ticket)}", token, ex=self.lifetime_seconds
        )
        return ticket

    async def redeem(self, ticket: str) -> str | None:
        token = await self.redis.getdel(f"{self.prefix}live:ticket:{_digest(ticket)}")
        if token is None:
            return None
        return token.decode() if isinstance(token, bytes) else str(token)


class InProcessStreamTickets:
    def __init__(self, *, lifetime_seconds: int) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._tickets: dict[str, tuple[str, float]] = {}

    async def issue(self, token: str) -> str:
        now = time.monotonic()
        # Forget the expired ones as new ones come: the dict stays as small as the traffic.
        for digest, (_token, expires) in list(self._tickets.items()):
            if expires < now:
                del self._tickets[digest]
        ticket = new_ticket()
        self._tickets[_digest(ticket)] = (token, now + self.lifetime_seconds)
        return ticket

    async def redeem(self, ticket: str) -> str | None:
        found = self._tickets.pop(_digest(ticket), None)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]
