"""A database that goes away: every request answers 503 in the envelope, logged once, and the
service recovers by itself when the database returns."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tests.helpers import bearer, register, running_app
from tests.support import database_behind_proxy, make_settings


async def wait_for(condition: object, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_a_database_outage_is_a_503_logged_once_and_recovers(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with database_behind_proxy(postgres_url) as (proxy, url):
        settings = make_settings(url, outbox_poll_seconds=0.02)
        async with running_app(settings) as (app, client):
            logging.getLogger().addHandler(caplog.handler)  # create_app replaced the handlers
            auth = await register(client)
            await proxy.cut()

            responses = [await client.get("/api/v1/tasks", headers=bearer(auth)) for _ in range(5)]
            responses.append(
                await client.post("/api/v1/tasks", json={"title": "Lost?"}, headers=bearer(auth))
            )
            responses.append(
                await client.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "x"})
            )
            for response in responses:
                assert response.status_code == 503, response.text
                body = response.json()
                assert body["success"] is False
                assert body["message"] == "Service temporarily unavailable"
                assert body["requestId"] == response.headers["x-request-id"]
                assert int(response.headers["retry-after"]) > 0

            # The relay polls on through the outage, without a traceback per pass.
            relay = asyncio.create_task(app.state.services.relay.run_forever())
            try:
                await wait_for(lambda: app.state.services.database.outage.failures_since_log >= 20)
            finally:
                relay.cancel()
            outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
            assert len(outage_lines) == 1
            assert not [r for r in caplog.records if r.exc_info]

            await proxy.start()
            recovered = await client.get("/api/v1/tasks", headers=bearer(auth))
            assert recovered.status_code == 200
            assert not app.state.services.database.outage.is_failing
            assert any("recovered" in r.getMessage() for r in caplog.records)
