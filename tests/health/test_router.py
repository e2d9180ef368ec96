from __future__ import annotations

import httpx

from taskyard.app import create_app
from tests.support import make_settings


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
        await app.state.database.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["success"] is False
    assert body["components"]["database"]["status"] == "down"
    assert live.status_code == 200
