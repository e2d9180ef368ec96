"""The per-request unit of work: commit on success, roll back on failure, keep what must stick."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import DBAPIError

from taskyard.db import Database, DbSession, is_outage
from taskyard.errors import BadRequest
from taskyard.users.models import User
from tests.helpers import bearer, register
from tests.support import any_free_port, database_behind_proxy, make_settings


class _KeepAndFail(BadRequest):
    persist_changes = True


def _add_probe_routes(app: Any) -> None:
    router = APIRouter()

    @router.post("/probe/{outcome}")
    async def probe(outcome: str, session: DbSession) -> dict[str, str]:
        session.add(User(name="Probe", email=f"{outcome}@probe.test", password_hash="x"))
        await session.flush()
        if outcome == "fails":
            raise BadRequest("refused")
        if outcome == "crashes":
            raise RuntimeError("boom")
        if outcome == "keeps":
            raise _KeepAndFail("refused, but the change stays")
        return {"status": "ok"}

    app.include_router(router)


async def _probe_users(database: Database) -> set[str]:
    async with database.session(write=False) as session:
        rows = await session.scalars(select(User.email).where(User.email.like("%@probe.test")))
        return set(rows.all())


async def test_commit_on_success_rollback_on_error(app: Any) -> None:
    _add_probe_routes(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://taskyard.test") as client:
        assert (await client.post("/probe/succeeds")).status_code == 200
        assert (await client.post("/probe/fails")).status_code == 400
        crashed = await client.post("/probe/crashes")
        assert crashed.status_code == 500
        assert crashed.json()["message"] == "Internal server error"
        assert "boom" not in crashed.text
        assert (await client.post("/probe/keeps")).status_code == 400
    assert await _probe_users(app.state.services.database) == {
        "succeeds@probe.test",
        "keeps@probe.test",
    }


async def test_concurrent_writes_all_land(app: Any, client: httpx.AsyncClient) -> None:
    auth = await register(client)
    responses = await asyncio.gather(
        *[
            client.post("/api/v1/tasks", json={"title": f"Parallel {n}"}, headers=bearer(auth))
            for n in range(25)
        ]
    )
    assert [response.status_code for response in responses] == [201] * 25
    listing = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert listing.json()["total"] == 25


async def test_pool_is_sized_from_settings(database_url: str) -> None:
    database = Database(
        make_settings(database_url, db_pool_size=7, db_max_overflow=13, db_pool_timeout=5)
    )
    try:
        pool: Any = database.engine.pool
        assert pool.size() == 7
        assert pool._max_overflow == 13
        assert pool._timeout == 5
        async with database.engine.connect() as connection:
            assert (await connection.scalar(select(func.count()).select_from(User))) is not None
        assert database.pool_status()["size"] == 7
    finally:
        await database.dispose()


async def test_warming_opens_the_pools_resting_connections(postgres_url: str) -> None:
    database = Database(make_settings(postgres_url, db_pool_size=4))
    try:
        await database.warm()
        pool: Any = database.engine.pool
        assert pool.checkedin() == 4
        async with database.engine.connect() as connection:  # one of the four, not a fifth
            server_side = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = 'taskyard'"
                )
            )
        assert server_side == 4
    finally:
        await database.dispose()


async def test_a_database_out_of_reach_does_not_stop_warming_from_returning(
    postgres_url: str,
) -> None:
    unreachable = make_url(postgres_url).set(port=any_free_port())
    database = Database(
        make_settings(
            postgres_url,
            database_replica_urls=[unreachable.render_as_string(hide_password=False)],
            db_pool_size=3,
        )
    )
    try:
        await database.warm()  # the replica refuses; the primary is warmed all the same
        primary_pool: Any = database.engine.pool
        replica_pool: Any = database.replicas[0].pool
        assert (primary_pool.checkedin(), replica_pool.checkedin()) == (3, 0)
    finally:
        await database.dispose()


async def _select_one(database: Database) -> object:
    async with database.session(write=False) as session:
        return await session.scalar(text("SELECT 1"))


async def test_a_rested_connection_is_checked_and_replaced_before_use(postgres_url: str) -> None:
    """Connections killed under the pool (a database restart): the checkout finds out."""
    async with database_behind_proxy(postgres_url) as (proxy, url):
        database = Database(make_settings(url, db_pool_ping_after_seconds=0))
        try:
            assert await _select_one(database) == 1
            await proxy.cut()
            await proxy.start()
            assert await _select_one(database) == 1  # not an error: the dead one was replaced
        finally:
            await database.dispose()


async def test_a_connection_used_a_moment_ago_goes_unchecked(postgres_url: str) -> None:
    """The price of skipping the round trip: a connection that died within the rest period is
    found by the query, which fails; the pool then starts afresh and the next one works."""
    async with database_behind_proxy(postgres_url) as (proxy, url):
        database = Database(make_settings(url, db_pool_ping_after_seconds=3600))
        try:
            assert await _select_one(database) == 1
            await proxy.cut()
            await proxy.start()
            with pytest.raises(DBAPIError) as failure:
                await _select_one(database)
            assert is_outage(failure.value)
            assert await _select_one(database) == 1
        finally:
            await database.dispose()


async def test_a_database_with_no_connection_to_spare_is_an_outage(postgres_url: str) -> None:
    """PostgreSQL refusing a connection (too many clients) is an outage to wait out, a 503,
    not a 500: under a slow link, pools hold connections longer and can fill the server."""
    role = f"taskyard_full_{uuid.uuid4().hex[:8]}"
    admin = Database(make_settings(postgres_url))
    async with admin.engine.connect() as connection:
        await connection.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    try:
        full = Database(make_settings(str(make_url(postgres_url).set(username=role))))
        try:
            with pytest.raises(DBAPIError) as failure:
                await _select_one(full)
            assert "too many connections" in str(failure.value)
            assert is_outage(failure.value)
        finally:
            await full.dispose()
    finally:
        async with admin.engine.connect() as connection:
            await connection.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()
