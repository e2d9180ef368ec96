"""Readiness: each component's state. The database is required; Redis is optional (degraded)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from taskyard.db import Database
from taskyard.edge.metrics import INSTANCE_READY
from taskyard.jobs.broker import Broker
from taskyard.redis_client import BackendGuard
from taskyard.services import Services

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ComponentState:
    status: str  # "up", "down" or "degraded"
    required: bool
    detail: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "required": self.required, "detail": self.detail}


async def _probe(check: Callable[[], Awaitable[object]], *, required: bool) -> ComponentState:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return ComponentState("down", required, "timed out")
    except Exception as error:  # any failure means "down"; the kind is reported
        return ComponentState("down", required, type(error).__name__)
    return ComponentState("up", required)


async def check_database(database: Database) -> ComponentState:
    return await _probe(database.ping, required=True)


async def check_redis(redis: Redis) -> ComponentState:
    return await _probe(redis.ping, required=False)


def rate_limiter_state(
    guard: BackendGuard, *, shared: bool, store_down: bool = False
) -> ComponentState:
    """`store_down`: the probe just now found Redis away, whether or not a request has yet."""
    if guard.is_failing or (shared and store_down):
        return ComponentState("degraded", False, "counter store unreachable: failing open")
    return ComponentState("up", False, "shared (Redis)" if shared else "in process")


def overall(components: dict[str, ComponentState]) -> tuple[str, int]:
    if any(c.required and c.status != "up" for c in components.values()):
        return "not ready", 503
    if any(c.status != "up" for c in components.values()):
        return "degraded", 200
    return "ready", 200


async def check_broker(broker: Broker) -> ComponentState:
    """Up when the relay's connection is open, or can be opened now (which also warms it)."""

    async def connect() -> None:
        if not broker.connected:
            await broker.connect()

    return await _probe(connect, required=False)


@dataclass(frozen=True, slots=True)
class Readiness:
    components: dict[str, ComponentState]
    status: str  # "ready", "degraded" or "not ready"
    code: int  # 200 or 503


async def check_readiness(services: Services) -> Readiness:
    """Every component of this instance (its services), and the verdict. Each check also sets
    the readiness gauge, so each scrape of /metrics samples availability."""
    components: dict[str, ComponentState] = {"database": await check_database(services.database)}
    if services.redis is not None:
        components["redis"] = await check_redis(services.redis)
    if services.broker is not None:
        components["broker"] = await check_broker(services.broker)
    if services.verifier.fetches_keys:  # no token can be checked without them
        components["keySet"] = await _probe(services.verifier.warm, required=True)
    if services.settings.rate_limit_enabled:
        components["rateLimiter"] = rate_limiter_state(
            services.redis_guard,
            shared=services.redis is not None,
            store_down=components.get("redis", ComponentState("up", False)).status == "down",
        )
    status, code = overall(components)
    INSTANCE_READY.set(1 if code == 200 else 0)
    return Readiness(components, status, code)
