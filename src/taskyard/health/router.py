from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from taskyard.db import utc_now
from taskyard.health.service import check_database
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


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    database = await check_database(request.app.state.database)
    components = {"database": {"status": database.status, "detail": database.detail}}
    is_ready = database.is_up
    return JSONResponse(
        {
            "success": is_ready,
            "status": "ready" if is_ready else "not ready",
            "components": components,
        },
        status_code=200 if is_ready else 503,
    )
