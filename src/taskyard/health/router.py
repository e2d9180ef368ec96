from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from taskyard.db import utc_now
from taskyard.edge.metrics import metrics_response
from taskyard.health.service import check_readiness
from taskyard.schemas import format_timestamp
from taskyard.services import ServicesDep

router = APIRouter(prefix="/health", tags=["health"])
metrics_router = APIRouter()


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
async def ready(services: ServicesDep) -> JSONResponse:
    """200 while every required component is up (status "ready" or "degraded"), else 503."""
    readiness = await check_readiness(services)
    return JSONResponse(
        {
            "success": readiness.code == 200,
            "status": readiness.status,
            "timestamp": format_timestamp(utc_now()),
            "components": {name: c.as_json() for name, c in readiness.components.items()},
        },
        status_code=readiness.code,
    )


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus' view of this instance; readiness is checked first, so `taskyard_ready` says
    what it was at this scrape (the availability SLI of deploy/compose/prometheus)."""
    await check_readiness(services)
    return metrics_response(request)
