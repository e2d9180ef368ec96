"""Which domains a process serves: its services (built once, `build_services`), its routes,
event handlers and periodic jobs. The one place that knows every domain and decides which
service this process is: the app factory and the job plumbing know none."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.access_tokens import FetchKeySet, HmacVerifier, KeySetVerifier, TokenVerifier
from taskyard.api_tokens import copies as token_copies
from taskyard.cache.backend import CacheBackend, InProcessCache, RedisCache
from taskyard.cache.read_your_writes import RecentWriters
from taskyard.cache.service import ResponseCache
from taskyard.comments import notifications as comment_notifications
from taskyard.config import Settings
from taskyard.cursors import CursorCodec
from taskyard.db import Database
from taskyard.edge.metrics import instrument_pool, is_multiprocess
from taskyard.edge.rate_limit import RateLimitService
from taskyard.exports import jobs as export_jobs
from taskyard.idempotency.service import ResponseSeal
from taskyard.idempotency.service import purge_expired as purge_expired_keys
from taskyard.identity import (
    AccountStates,
    Authenticator,
    IdentityStore,
    InProcessDenylist,
    InProcessIdentityStore,
    NoIdentityStore,
    RedisDenylist,
    RedisIdentityStore,
    TokenDenylist,
)
from taskyard.jobs.broker import Broker
from taskyard.jobs.handlers import EventHandlers
from taskyard.jobs.mail import mailer_for
from taskyard.jobs.registry import EventRegistry
from taskyard.jobs.relay import BrokerDelivery, OutboxRelay
from taskyard.jobs.scheduler import PeriodicJobs
from taskyard.jobs.service import EventPublisher
from taskyard.jobs.worker import broker_for
from taskyard.live.bus import BusDelivery
from taskyard.live.events import LIVE_EVENT
from taskyard.ops.repository import prometheus_client
from taskyard.redis_client import BackendGuard, KeySpace, TrackedRedis, create_redis
from taskyard.services import AccountServices, LiveServices, Services
from taskyard.tasks import notifications as task_notifications
from taskyard.tasks import people
from taskyard.tasks.people import PEOPLE_CATCH_UP_SECONDS
from taskyard.users import notifications as user_notifications
from taskyard.users.feed import AccountFeed, EventFeed, SilentFeed
from taskyard.webhooks import jobs as webhook_jobs

if TYPE_CHECKING:
    from taskyard.users.service import SharedTasks  # loads the account code: typing only


def event_registry(settings: Settings, cache: ResponseCache | None = None) -> EventRegistry:
    """The monolith carries out everything; split, the auth service sends the welcome mail and
    the task service keeps its copy of people and does the rest."""
    registry = EventRegistry()
    registry.every_round("expired idempotency-key purge", purge_expired_keys)
    if settings.service in ("all", "auth"):
        user_notifications.register(registry)
    if settings.service in ("all", "tasks"):
        task_notifications.register(registry)
        comment_notifications.register(registry)
        export_jobs.register(registry, public_url=settings.public_url)
        webhook_jobs.register(registry, settings)
    if settings.service == "tasks":
        people.register(registry, cache or _shared_cache(settings))
        token_copies.register(registry)
    return registry


def _shared_cache(settings: Settings) -> ResponseCache:
    """The task service's response cache as a worker sees it: in Redis, which split mode
    requires, so retiring a view here retires it on every instance."""
    redis = create_redis(settings)
    assert redis is not None  # required by the settings in split mode
    guard = BackendGuard("redis")
    keys = KeySpace(settings.redis_key_prefix, redis.lifetime)
    return _response_cache(
        settings, RedisCache(redis, guard), RedisIdentityStore(redis, keys, guard), keys
    )


def _response_cache(
    settings: Settings, backend: CacheBackend, identity: IdentityStore, keys: KeySpace
) -> ResponseCache:
    return ResponseCache(
        backend, identity, ttl=settings.cache_ttl, keys=keys, enabled=settings.cache_enabled
    )


def _key_set_over_http(url: str) -> FetchKeySet:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    return fetch


def build_services(settings: Settings) -> Services:
    """Every service of this process, for the service it is. Domain modules are imported here,
    per service, so the task service never loads the auth service's password hashing or
    session code."""
    database = Database(settings)
    instrument_pool(database.engine)
    redis = create_redis(settings)
    # Keys that must not come back from an older copy of Redis live under its current run.
    redis_keys = KeySpace(settings.redis_key_prefix, redis.lifetime if redis else None)
    redis_guard = BackendGuard("redis")
    accounts = _account_services(settings, database, redis)
    verifier = _verifier(settings, accounts, database)
    denylist: TokenDenylist = (
        RedisDenylist(redis, redis_keys, redis_guard) if redis is not None else InProcessDenylist()
    )
    identity = _identity_store(redis, redis_keys, redis_guard)
    cache_backend: CacheBackend = (
        RedisCache(redis, redis_guard) if redis is not None else InProcessCache()
    )
    response_cache = _response_cache(settings, cache_backend, identity, redis_keys)
    # The serving process's own cache: no second Redis pool for the events it carries out.
    registry = event_registry(settings, response_cache)
    event_handlers = EventHandlers(database, mailer_for(settings), registry)
    broker = broker_for(settings, registry.event_types) if settings.broker_url else None
    live = _live(settings, database, redis)
    relay = _relay(settings, database, event_handlers, broker)
    return Services(
        service=settings.service,
        settings=settings,
        database=database,
        redis=redis,
        redis_keys=redis_keys,
        redis_guard=redis_guard,
        prometheus=prometheus_client(settings.prometheus_url),
        verifier=verifier,
        denylist=denylist,
        identity=identity,
        authenticator=Authenticator(identity, denylist),
        account_states=_account_states(settings, database),
        response_cache=response_cache,
        recent_writers=RecentWriters(
            cache_backend,
            window_seconds=settings.read_your_writes_seconds,
            prefix=settings.redis_key_prefix,
        ),
        response_seal=ResponseSeal(settings.signing_key),
        cursors=CursorCodec(settings.signing_key),
        rate_limits=(
            RateLimitService(settings, redis_guard, redis) if settings.rate_limit_enabled else None
        ),
        event_handlers=event_handlers,
        broker=broker,
        relay=relay,
        # Periodic jobs run in the workers when there is a broker, else in this process.
        periodic=(
            PeriodicJobs(
                database,
                registry,
                interval_seconds=settings.due_scan_seconds,
                after_round=relay.wake,
            )
            if broker is None
            else None
        ),
        shared_tasks=_shared_tasks(settings),
        account_feed=account_feed_for(settings),
        people_catch_up_seconds=(
            # SQLite: the request holds the write lock the event's writer would wait for.
            PEOPLE_CATCH_UP_SECONDS if settings.service == "tasks" and not settings.is_sqlite else 0
        ),
        accounts=accounts,
        live=live,
    )


def _live(settings: Settings, database: Database, redis: TrackedRedis | None) -> LiveServices:
    from taskyard.live.bus import InProcessLiveBus, LiveBus, RedisLiveBus
    from taskyard.live.hub import READ_BLOCK_SECONDS, LiveHub
    from taskyard.live.tickets import InProcessStreamTickets, RedisStreamTickets, StreamTickets

    bus: LiveBus
    tickets: StreamTickets
    if redis is not None and settings.redis_url:
        bus = RedisLiveBus(
            redis,
            settings.redis_url,
            key=f"{settings.redis_key_prefix}live:events",
            replay_seconds=settings.live_replay_seconds,
            block_margin=READ_BLOCK_SECONDS,
        )
        tickets = RedisStreamTickets(
            redis, prefix=settings.redis_key_prefix, lifetime_seconds=settings.live_ticket_seconds
        )
    else:
        bus = InProcessLiveBus(replay_seconds=settings.live_replay_seconds)
        tickets = InProcessStreamTickets(lifetime_seconds=settings.live_ticket_seconds)

    async def load_projects(user_ids: set[str]) -> dict[str, frozenset[str]]:
        from taskyard.projects.repository import ProjectRepository  # the task service's code

        async with database.session(write=False) as session:
            found = await ProjectRepository(session).projects_of_people(
                {uuid.UUID(user_id) for user_id in user_ids}
            )
        return {str(person): frozenset(map(str, projects)) for person, projects in found.items()}

    # The live bus gets a relay of its own: nothing else waits in front of it.
    onto_the_bus = BusDelivery(bus)
    relay = OutboxRelay(
        database,
        onto_the_bus,
        poll_seconds=settings.outbox_poll_seconds,
        retry_delay=lambda _attempts: timedelta(seconds=settings.outbox_poll_seconds),
        only=ON_THE_LIVE_RELAY,
        deliver_all=onto_the_bus.all,
    )
    return LiveServices(bus=bus, hub=LiveHub(bus, load_projects), tickets=tickets, relay=relay)


def account_feed_for(settings: Settings) -> Callable[[EventPublisher], AccountFeed]:
    """Split, the auth service tells the task service of account changes; the monolith reads
    the one `users` table, so it tells nobody."""
    if settings.service == "auth":
        return EventFeed
    return lambda _events: SilentFeed()


def _account_services(
    settings: Settings, database: Database, redis: TrackedRedis | None
) -> AccountServices | None:
    if settings.service not in ("all", "auth"):
        return None
    from taskyard.auth.challenge import challenge_gate
    from taskyard.auth.keys import KeyRing
    from taskyard.auth.passwords import PasswordService
    from taskyard.auth.tokens import TokenService

    keyring = (
        KeyRing(database, settings.signing_key, reload_seconds=settings.signing_key_reload_seconds)
        if settings.jwt_signing == "ed25519"
        else None
    )
    return AccountServices(
        passwords=PasswordService(settings),
        # Split, a token also carries the name and email the task service files people under.
        tokens=TokenService(settings, signer=keyring, with_profile=settings.service == "auth"),
        challenge_gate=challenge_gate(settings, redis),
        keyring=keyring,
    )


def _verifier(
    settings: Settings, accounts: AccountServices | None, database: Database
) -> TokenVerifier:
    from taskyard.api_tokens.verifier import (
        CopiedTokenLookup,
        PersonalTokenVerifier,
        StoredTokens,
    )

    if settings.service == "tasks":
        assert settings.auth_jwks_url is not None  # required by the settings
        # Personal API tokens from its copy of them, kept from the auth service's events.
        return PersonalTokenVerifier(
            KeySetVerifier(_key_set_over_http(settings.auth_jwks_url)),
            CopiedTokenLookup(database),
        )
    logins: TokenVerifier = (
        KeySetVerifier(accounts.keyring.reloaded_jwks)
        if accounts is not None and accounts.keyring is not None
        else HmacVerifier(settings.signing_key)
    )
    # The monolith and the auth service hold the tokens table.
    return PersonalTokenVerifier(logins, StoredTokens(database))


def _identity_store(
    redis: TrackedRedis | None, keys: KeySpace, guard: BackendGuard
) -> IdentityStore:
    if redis is not None:
        return RedisIdentityStore(redis, keys, guard)
    # Worker processes without Redis share nothing: the database answers every check.
    return NoIdentityStore() if is_multiprocess() else InProcessIdentityStore()


def _account_states(
    settings: Settings, database: Database
) -> Callable[[AsyncSession], AccountStates]:
    """Where accounts are read when the identity store doesn't know them."""
    if settings.service == "tasks":
        from taskyard.tasks.people import ReadModelAccounts

        accounts = ReadModelAccounts(database)
        return lambda _session: accounts
    from taskyard.auth.repository import AuthRepository

    return AuthRepository


def _shared_tasks(settings: Settings) -> Callable[[AsyncSession], SharedTasks]:
    if settings.service in ("all", "tasks"):
        from taskyard.tasks.shared import SharedWork

        return SharedWork
    # Tasks live in the task service, which freshens its views from `user.*` events.
    from taskyard.users.service import NoSharedTasks

    return NoSharedTasks


ON_THE_LIVE_RELAY = frozenset({LIVE_EVENT})  # carried by the live relay (`_live`) alone


def _relay(
    settings: Settings, database: Database, handlers: EventHandlers, broker: Broker | None
) -> OutboxRelay:
    if broker is None:
        # The embedded default: this process carries the events out itself.
        return OutboxRelay(
            database,
            handlers.handle_message,
            poll_seconds=settings.outbox_poll_seconds,
            max_attempts=settings.job_max_attempts,
            on_give_up=handlers.give_up,
            excluding=ON_THE_LIVE_RELAY,
        )
    # An unreachable broker is an outage, not a bad event: retry at the next poll.
    return OutboxRelay(
        database,
        BrokerDelivery(broker),
        poll_seconds=settings.outbox_poll_seconds,
        retry_delay=lambda _attempts: timedelta(seconds=settings.outbox_poll_seconds),
        excluding=ON_THE_LIVE_RELAY,
    )


def routers_for(services: Services) -> list[APIRouter]:
    """The API routers this service answers."""
    from taskyard.ops.router import router as ops_router

    routers: list[APIRouter] = [ops_router]  # every service's panel reads the whole cluster
    if services.accounts is not None:
        from taskyard.api_tokens.router import router as api_tokens_router
        from taskyard.auth.router import router as auth_router
        from taskyard.users.router import router as users_router

        routers += [api_tokens_router, auth_router, users_router]
    if services.serves_tasks:
        from taskyard.activity.router import router as activity_router
        from taskyard.comments.router import router as comments_router
        from taskyard.exports.router import router as exports_router
        from taskyard.labels.router import router as labels_router
        from taskyard.live.router import router as live_router
        from taskyard.projects.router import router as projects_router
        from taskyard.tasks.router import router as tasks_router
        from taskyard.teams.router import router as teams_router
        from taskyard.webhooks.router import router as webhooks_router

        routers += [
            tasks_router,
            comments_router,
            activity_router,
            exports_router,
            projects_router,
            labels_router,
            teams_router,
            live_router,
            webhooks_router,
        ]
    return routers


def webhook_routers_for(services: Services) -> list[APIRouter]:
    """What the OpenAPI document's `webhooks` section describes: what this service sends."""
    if services.serves_tasks:
        from taskyard.webhooks.router import deliveries

        return [deliveries]
    return []


def root_routers_for(services: Services) -> list[APIRouter]:
    """The routers this service answers outside /api/v1."""
    if services.accounts is not None and services.accounts.keyring is not None:
        from taskyard.auth.router import keys_router

        return [keys_router]
    return []
