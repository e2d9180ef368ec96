from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from taskyard.db import utc_now
from taskyard.health.service import (
    ComponentState,
    check_broker,
    check_database,
    check_redis,
    overall,
    rate_limiter_state,
)
from taskyard.schemas import format_timestamp

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def health() -> dict[str, Any]:
    return {
        "success": True,
        "message": "Taskyard API is running",
        "timestamp": format_timestamp(utc_now()),
    }


@router.get("/live")
async def live() -> dict[str, Any]:
    return {"success": True, "status": "live"}


@router.get(
    "/ready", responses={503: {"description": "A required component is down (see components)"}}
)
async def ready(request: Request) -> JSONResponse:
    """200 while every required component is up (status "ready" or "degraded"), else 503."""
    state = request.app.state
    components: dict[str, ComponentState] = {"database": await check_database(state.database)}
    if state.redis is not None:
        components["redis"] = await check_redis(state.redis)
    if state.broker is not None:
        components["broker"] = await check_broker(state.broker)
    if state.settings.rate_limit_enabled:
        components["rateLimiter"] = rate_limiter_state(
            state.redis_guard,
            shared=state.redis is not None,
            store_down=components.get("redis", ComponentState("up", False)).status == "down",
        )
    status, code = overall(components)
    return JSONResponse(
        {
            "success": code == 200,
            "status": status,
            "timestamp": format_timestamp(utc_now()),
            "components": {name: c.as_json() for name, c in components.items()},
        },
        status_code=code,
    )
