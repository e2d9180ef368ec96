"""The services of this process, built once at start-up by `wiring.build_services` and kept on
`app.state.services`: which service the process is, its stores, caches, verifier and broker.
Dependencies, middleware and the CLI read them from here; nothing else decides which service
this is.

Domain types are named for the type checker only: the task service never loads the auth
service's password hashing or session code just because this module names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, Request

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession

    from taskyard.access_tokens import TokenVerifier
    from taskyard.auth.challenge import ChallengeGate
    from taskyard.auth.keys import KeyRing
    from taskyard.auth.passwords import PasswordService
    from taskyard.auth.tokens import TokenService
    from taskyard.cache.read_your_writes import RecentWriters
    from taskyard.cache.service import ResponseCache
    from taskyard.config import Settings
    from taskyard.cursors import CursorCodec
    from taskyard.db import Database
    from taskyard.edge.rate_limit import RateLimitService
    from taskyard.idempotency.service import ResponseSeal
    from taskyard.identity import AccountStates, Authenticator, IdentityStore, TokenDenylist
    from taskyard.jobs.broker import Broker
    from taskyard.jobs.handlers import EventHandlers
    from taskyard.jobs.relay import OutboxRelay
    from taskyard.jobs.scheduler import PeriodicJobs
    from taskyard.jobs.service import EventPublisher
    from taskyard.live.bus import LiveBus
    from taskyard.live.hub import LiveHub
    from taskyard.live.tickets import StreamTickets
    from taskyard.redis_client import BackendGuard, KeySpace, TrackedRedis
    from taskyard.users.feed import AccountFeed
    from taskyard.users.service import SharedTasks

ServiceName = Literal["all", "auth", "tasks"]


class ServiceMissing(RuntimeError):
    """A part asked of a process that isn't that service (a wiring mistake, never a request's)."""


@dataclass(frozen=True, slots=True)
class AccountServices:
    """What a process that holds the accounts has (the monolith and the auth service)."""

    passwords: PasswordService
    tokens: TokenService
    challenge_gate: ChallengeGate
    keyring: KeyRing | None  # Ed25519 signing: the keys published at /.well-known/jwks.json


@dataclass(frozen=True, slots=True)
class LiveServices:
    """Live updates: the bus every instance reads, this instance's end of it, and the tickets
    a browser opens a stream with."""

    bus: LiveBus
    hub: LiveHub
    tickets: StreamTickets
    relay: OutboxRelay  # carries live events from the outbox onto the bus


@dataclass(frozen=True, slots=True)
class Services:
    service: ServiceName
    settings: Settings
    database: Database
    redis: TrackedRedis | None
    redis_keys: KeySpace
    redis_guard: BackendGuard
    prometheus: httpx.AsyncClient | None
    verifier: TokenVerifier
    denylist: TokenDenylist
    identity: IdentityStore
    authenticator: Authenticator
    account_states: Callable[[AsyncSession], AccountStates]
    response_cache: ResponseCache
    recent_writers: RecentWriters
    response_seal: ResponseSeal
    cursors: CursorCodec
    rate_limits: RateLimitService | None
    event_handlers: EventHandlers
    broker: Broker | None
    relay: OutboxRelay
    periodic: PeriodicJobs | None
    shared_tasks: Callable[[AsyncSession], SharedTasks]
    account_feed: Callable[[EventPublisher], AccountFeed]
    people_catch_up_seconds: float  # how long a task write waits for a person it hasn't seen
    accounts: AccountServices | None
    live: LiveServices

    @property
    def serves_tasks(self) -> bool:
        return self.service in ("all", "tasks")

    async def aclose(self) -> None:
        """Close every connection pool this process opened."""
        if self.broker is not None:
            await self.broker.close()
        await self.live.hub.aclose()
        await self.database.dispose()
        if self.redis is not None:
            await self.redis.aclose()
        if self.prometheus is not None:
            await self.prometheus.aclose()

    @property
    def answers_early(self) -> bool:
        """Whether cached task views are answered before routing (they are task views)."""
        return self.settings.cache_enabled and self.serves_tasks

    async def wake_relays(self, event_type: str) -> None:
        """After a commit that emitted an event: the relay that carries it drains now, not at
        its next poll. The other sleeps on: waking it would cost a claim that finds nothing."""
        for relay in (self.relay, self.live.relay):
            if relay.carries(event_type):
                await relay.wake()

    def require_accounts(self) -> AccountServices:
        if self.accounts is None:
            raise ServiceMissing(f"the {self.service} service holds no accounts")
        return self.accounts


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency in its thread pool, a hop per request.
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
