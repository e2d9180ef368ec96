"""The application factory: wires settings, storage, security, the edge and routers together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from taskyard import __version__
from taskyard.cache.backend import CacheBackend, InProcessCache, RedisCache
from taskyard.cache.early import CacheReadAhead, EarlyCacheMiddleware
from taskyard.cache.read_your_writes import RecentWriters
from taskyard.cache.service import ResponseCache
from taskyard.config import Settings, get_settings
from taskyard.cursors import CursorCodec
from taskyard.db import Database
from taskyard.docs.router import DOCS_PATH, OPENAPI_PATH, document_real_errors
from taskyard.docs.router import router as docs_router
from taskyard.edge.body_limit import BodySizeLimitMiddleware
from taskyard.edge.etag import ETagMiddleware
from taskyard.edge.front import FrontMiddleware
from taskyard.edge.http_semantics import HeadAsGetMiddleware
from taskyard.edge.metrics import (
    forget_this_process,
    instrument_pool,
    is_multiprocess,
    sample_process_forever,
)
from taskyard.edge.proxy import TrustedProxies
from taskyard.edge.rate_limit import RateLimitMiddleware, RateLimitService
from taskyard.edge.request_id import REQUEST_ID_HEADER
from taskyard.edge.security_headers import DOCS_CSP, SecurityHeaders
from taskyard.edge.sentry import init_sentry
from taskyard.errors import UnhandledErrorMiddleware, documented_errors, install_error_handlers
from taskyard.health.router import metrics_router
from taskyard.health.router import router as health_router
from taskyard.idempotency.service import ResponseSeal
from taskyard.identity import (
    Authenticator,
    IdentityStore,
    InProcessDenylist,
    InProcessIdentityStore,
    NoIdentityStore,
    RedisDenylist,
    RedisIdentityStore,
    TokenDenylist,
    claims_of,
)
from taskyard.jobs.handlers import EventHandlers
from taskyard.jobs.mail import mailer_for
from taskyard.jobs.relay import BrokerDelivery, OutboxRelay
from taskyard.jobs.scheduler import PeriodicJobs
from taskyard.jobs.worker import broker_for
from taskyard.logging import configure_logging
from taskyard.ops.repository import prometheus_client
from taskyard.redis_client import BackendGuard, KeySpace, create_redis, warm_pool
from taskyard.web.router import CLIENT_CSP, client_route, find_client, is_client_path
from taskyard.wiring import event_registry, install_service

API_PREFIX = "/api/v1"
GZIP_LEVEL = 5  # most of the saving at a fraction of level 9's CPU


def include_api(app: FastAPI, routers: list[APIRouter]) -> None:
    """Each domain's routes straight under /api/v1: one level of routers fewer to walk per
    request than an /api/v1 router holding them."""
    for router in routers:
        # Any API call may meet the rate limiter or a database outage.
        app.include_router(router, prefix=API_PREFIX, responses=documented_errors(429, 503))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await app.state.database.warm()
    await warm_pool(app.state.redis)
    sampler = asyncio.create_task(sample_process_forever()) if is_multiprocess() else None
    background = [asyncio.create_task(app.state.relay.run_forever())]
    if app.state.periodic is not None:
        background.append(asyncio.create_task(app.state.periodic.run_forever()))
    try:
        yield
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Runs after uvicorn has drained in-flight requests (bounded by the shutdown timeout).
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        if app.state.broker is not None:
            await app.state.broker.close()
        await app.state.database.dispose()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        if app.state.prometheus is not None:
            await app.state.prometheus.aclose()
        forget_this_process()


def _denylist(settings: Settings, app: FastAPI) -> TokenDenylist:
    if app.state.redis is None:
        return InProcessDenylist()
    return RedisDenylist(app.state.redis, app.state.redis_keys, app.state.redis_guard)


def _identity_store(app: FastAPI) -> IdentityStore:
    if app.state.redis is not None:
        return RedisIdentityStore(app.state.redis, app.state.redis_keys, app.state.redis_guard)
    # Worker processes without Redis share nothing: the database answers every check.
    return NoIdentityStore() if is_multiprocess() else InProcessIdentityStore()


def _install_middleware(app: FastAPI, settings: Settings, serves_client: bool) -> None:
    # Added innermost first: the last one added sees the request first.
    if settings.cache_enabled and settings.service != "auth":  # the early views are task views
        app.add_middleware(
            EarlyCacheMiddleware,
            cache=app.state.response_cache,
            verifier=app.state.verifier,
            authenticator=app.state.authenticator,
        )
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(
        GZipMiddleware, minimum_size=settings.compression_min_bytes, compresslevel=GZIP_LEVEL
    )
    app.add_middleware(ETagMiddleware, taggers=app.state.etag_taggers)
    app.add_middleware(HeadAsGetMiddleware)
    if app.state.rate_limits is not None:
        app.add_middleware(
            RateLimitMiddleware,
            service=app.state.rate_limits,
            claims_of=app.state.claims_of,
            read_ahead=CacheReadAhead(app.state.identity, app.state.response_cache),
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
        expose_headers=[
            REQUEST_ID_HEADER,
            "Location",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
        max_age=600,
    )
    app.add_middleware(
        FrontMiddleware,
        trusted=TrustedProxies(settings.trusted_proxies),
        security=SecurityHeaders(
            always_hsts=settings.env == "production",
            page_policies={DOCS_PATH: DOCS_CSP},
            client_policy=CLIENT_CSP if serves_client else None,
            is_client_path=is_client_path,
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    init_sentry(settings)
    app = FastAPI(
        title="Taskyard API",
        version=__version__,
        description="Task management with JWT auth, user and admin roles. "
        "Wire-compatible with the original Express API.",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        lifespan=_lifespan,
        # The front layer drops a trailing slash instead (edge/request_line.py): a redirect
        # would be built from the Host header the client sent.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    instrument_pool(app.state.database.engine)
    app.state.redis = create_redis(settings)
    # Keys that must not come back from an older copy of Redis live under its current run.
    app.state.redis_keys = KeySpace(
        settings.redis_key_prefix, app.state.redis.lifetime if app.state.redis else None
    )
    app.state.redis_guard = BackendGuard("redis")
    app.state.prometheus = prometheus_client(settings.prometheus_url)
    app.state.response_seal = ResponseSeal(settings.signing_key)
    routers = install_service(app, settings)
    verifier = app.state.verifier
    # The request's verified claims, once per request, for every layer that asks.
    app.state.claims_of = lambda scope: claims_of(scope, verifier)
    app.state.denylist = _denylist(settings, app)
    app.state.cursors = CursorCodec(settings.signing_key)
    app.state.rate_limits = (
        RateLimitService(settings, app.state.redis_guard, app.state.redis)
        if settings.rate_limit_enabled
        else None
    )
    registry = event_registry(settings)
    app.state.event_handlers = EventHandlers(app.state.database, mailer_for(settings), registry)
    app.state.broker = (
        broker_for(settings, registry.event_types) if settings.broker_url is not None else None
    )
    if app.state.broker is None:
        # The embedded default: this process carries the events out itself.
        app.state.relay = OutboxRelay(
            app.state.database,
            app.state.event_handlers.handle_message,
            poll_seconds=settings.outbox_poll_seconds,
            max_attempts=settings.job_max_attempts,
            on_give_up=app.state.event_handlers.give_up,
        )
    else:
        # An unreachable broker is an outage, not a bad event: retry at the next poll.
        app.state.relay = OutboxRelay(
            app.state.database,
            BrokerDelivery(app.state.broker),
            poll_seconds=settings.outbox_poll_seconds,
            retry_delay=lambda _attempts: timedelta(seconds=settings.outbox_poll_seconds),
        )
    app.state.relay_wake = app.state.relay.wake
    # Periodic jobs run in the workers when there is a broker, else in this process.
    app.state.periodic = (
        PeriodicJobs(
            app.state.database,
            registry,
            interval_seconds=settings.due_scan_seconds,
            after_round=app.state.relay_wake,
        )
        if app.state.broker is None
        else None
    )
    cache_backend: CacheBackend = (
        RedisCache(app.state.redis, app.state.redis_guard)
        if app.state.redis is not None
        else InProcessCache()
    )
    app.state.identity = _identity_store(app)
    app.state.authenticator = Authenticator(app.state.identity, app.state.denylist)
    app.state.response_cache = ResponseCache(
        cache_backend,
        app.state.identity,
        ttl=settings.cache_ttl,
        keys=app.state.redis_keys,
        enabled=settings.cache_enabled,
    )
    app.state.recent_writers = RecentWriters(
        cache_backend,
        window_seconds=settings.read_your_writes_seconds,
        prefix=settings.redis_key_prefix,
    )

    client_build = find_client(settings.web_dir)
    install_error_handlers(app)
    _install_middleware(app, settings, serves_client=client_build is not None)

    app.include_router(health_router)
    app.include_router(docs_router)
    document_real_errors(app)
    include_api(app, routers)
    app.include_router(metrics_router)
    if client_build is not None:
        app.router.routes.append(client_route(client_build))  # last: it answers what's left
    else:

        @app.get("/", include_in_schema=False)
        async def api_info() -> dict[str, Any]:
            return {
                "success": True,
                "message": "Taskyard API",
                "version": __version__,
                "docs": DOCS_PATH,
                "openapi": OPENAPI_PATH,
                "api": API_PREFIX,
                "webClient": "not built: run `make run` with npm installed",
            }

    return app
