"""The application factory: wires settings, storage, security, the edge and routers together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from tenacity import AsyncRetrying, wait_exponential

from taskyard import __version__
from taskyard.access_tokens import TokenVerifier
from taskyard.cache.early import CacheRoundTrip, EarlyCacheMiddleware
from taskyard.config import Settings, get_settings
from taskyard.docs.router import DOCS_PATH, OPENAPI_PATH, document_real_errors
from taskyard.docs.router import router as docs_router
from taskyard.edge.body_limit import BodySizeLimitMiddleware
from taskyard.edge.compression import Compression, GZip
from taskyard.edge.etag import ETagMiddleware
from taskyard.edge.front import FrontMiddleware
from taskyard.edge.http_semantics import HeadAsGetMiddleware
from taskyard.edge.metrics import (
    forget_this_process,
    is_multiprocess,
    sample_process_forever,
)
from taskyard.edge.proxy import TrustedProxies
from taskyard.edge.rate_limit import RateLimitMiddleware, RateLimitRoundTrip
from taskyard.edge.request_id import REQUEST_ID_HEADER
from taskyard.edge.security_headers import DOCS_CSP, SecurityHeaders
from taskyard.edge.sentry import init_sentry
from taskyard.errors import UnhandledErrorMiddleware, documented_errors, install_error_handlers
from taskyard.health.router import metrics_router
from taskyard.health.router import router as health_router
from taskyard.identity import CallerMiddleware, RoundTrip
from taskyard.logging import configure_logging, get_logger
from taskyard.redis_client import RoundTripPart, warm_pool
from taskyard.services import Services
from taskyard.tasks.direct import DirectTasksMiddleware
from taskyard.web.router import CLIENT_CSP, client_route, find_client, is_client_path
from taskyard.wiring import build_services, root_routers_for, routers_for, webhook_routers_for

API_PREFIX = "/api/v1"
GZIP_LEVEL = 5  # most of the saving at a fraction of level 9's CPU
KEY_SET_RETRY_MAX_SECONDS = 5.0
logger = get_logger("taskyard.app")


def include_api(app: FastAPI, routers: list[APIRouter]) -> None:
    """Each domain's routes straight under /api/v1: one level of routers fewer to walk per
    request than an /api/v1 router holding them."""
    for router in routers:
        # Any API call may meet the rate limiter or a database outage.
        app.include_router(router, prefix=API_PREFIX, responses=documented_errors(429, 503))


async def _warm_verifier(verifier: TokenVerifier) -> None:
    """Fetch the key set from the start, until it comes: a first request then never waits for
    it (while readiness reports it missing, and a request fetches it as before)."""
    retrying = AsyncRetrying(
        wait=wait_exponential(multiplier=0.2, max=KEY_SET_RETRY_MAX_SECONDS),
        before_sleep=lambda state: logger.warning(
            "token key set not fetched yet", attempt=state.attempt_number
        ),
    )
    await retrying(verifier.warm)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    await services.database.warm()
    await warm_pool(services.redis)
    sampler = asyncio.create_task(sample_process_forever()) if is_multiprocess() else None
    background = [asyncio.create_task(services.relay.run_forever())]
    if services.verifier.fetches_keys:
        background.append(asyncio.create_task(_warm_verifier(services.verifier)))
    if services.periodic is not None:
        background.append(asyncio.create_task(services.periodic.run_forever()))
    if services.serves_tasks:
        background.append(asyncio.create_task(services.live.relay.run_forever()))
        background.append(asyncio.create_task(services.live.hub.run_forever()))
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
        await services.aclose()
        forget_this_process()


def _round_trip(services: Services) -> RoundTrip | None:
    """With Redis, the caller's identity state, the limiter's count and a cached body in one
    round trip: each layer adds its own commands."""
    if services.redis is None:
        return None
    parts: list[RoundTripPart] = []
    if services.rate_limits is not None and services.rate_limits.window is not None:
        parts.append(RateLimitRoundTrip(services.rate_limits))
    if services.answers_early:
        parts.append(CacheRoundTrip(services.response_cache))
    return RoundTrip(services.redis, services.redis_keys, services.redis_guard, parts)


def _install_middleware(app: FastAPI, services: Services, serves_client: bool) -> None:
    settings = services.settings
    # Added innermost first: the last one added sees the request first.
    if services.serves_tasks:
        app.add_middleware(DirectTasksMiddleware)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(GZip, minimum_size=settings.compression_min_bytes, compresslevel=GZIP_LEVEL)
    app.add_middleware(ETagMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    if services.answers_early:
        # Outside conditional requests, compression and errors: a hit answers those itself.
        app.add_middleware(
            EarlyCacheMiddleware,
            cache=services.response_cache,
            compression=Compression(settings.compression_min_bytes, GZIP_LEVEL),
        )
    if services.rate_limits is not None:
        app.add_middleware(RateLimitMiddleware, service=services.rate_limits)
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
        CallerMiddleware,
        verifier=services.verifier,
        identity=services.identity,
        authenticator=services.authenticator,
        round_trip=_round_trip(services),
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
    services = build_services(settings)
    app.state.services = services
    for router in root_routers_for(services):
        app.include_router(router)

    client_build = find_client(settings.web_dir)
    install_error_handlers(app)
    _install_middleware(app, services, serves_client=client_build is not None)

    app.include_router(health_router)
    app.include_router(docs_router)
    document_real_errors(app)
    include_api(app, routers_for(services))
    for router in webhook_routers_for(services):
        app.webhooks.include_router(router)
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
