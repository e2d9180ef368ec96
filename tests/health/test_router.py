from __future__ import annotations

import httpx

from taskyard.app import create_app
from tests.support import any_free_port, make_settings


async def test_readiness_reports_a_down_database_as_503() -> None:
    # Nothing listens on port 1: the database check must fail fast and say so.
    app = create_app(make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://taskyard.test"
        ) as client:
            ready = await client.get("/health/ready")
            live = await client.get("/health/live")
    finally:
        await app.state.services.database.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["success"] is False
    assert body["components"]["database"]["status"] == "down"
    assert live.status_code == 200


async def test_readiness_never_calls_the_limiter_shared_while_redis_is_away(
    sqlite_url: str,
) -> None:
    """Before any request has met the outage, the limiter's state follows the Redis probe."""
    away = f"redis://127.0.0.1:{any_free_port()}/0"
    app = create_app(make_settings(sqlite_url, redis_url=away))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/health/ready")
    finally:
        await app.state.services.database.dispose()
        await app.state.services.redis.aclose()
    components = ready.json()["components"]
    assert ready.status_code == 200
    assert components["redis"]["status"] == "down"
    assert components["rateLimiter"]["status"] == "degraded"
    assert "failing open" in components["rateLimiter"]["detail"]


async def test_a_task_service_is_not_ready_until_it_has_the_token_keys(
    sqlite_url: str, redis_url: str, broker_url: str
) -> None:
    """Without the auth service's key set no token can be checked: readiness says so (and the
    instance keeps fetching it from the start, so no first request waits for it)."""
    nowhere = f"http://127.0.0.1:{any_free_port()}/.well-known/jwks.json"
    settings = make_settings(
        sqlite_url,
        service="tasks",
        auth_jwks_url=nowhere,
        redis_url=redis_url,
        broker_url=broker_url,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/health/ready")
    finally:
        await app.state.services.aclose()
    assert ready.status_code == 503
    assert ready.json()["components"]["keySet"] == {
        "status": "down",
        "required": True,
        "detail": "ConnectError",
    }
