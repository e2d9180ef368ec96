"""Split mode's copy of people: the auth service's account changes reach the task service's own
database through the outbox and RabbitMQ, in order, and deletions cascade there as here."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from taskyard.db import Database, utc_now
from taskyard.jobs.models import OutboxEvent
from taskyard.migrations import upgrade
from taskyard.schemas import format_timestamp
from taskyard.tasks.people import UNUSABLE_HASH, purge_expired_revocations, sessions_revoked
from taskyard.tasks.repository import RevokedSessionRepository
from taskyard.users.events import USER_CHANGED
from taskyard.users.repository import UserRepository
from tests.helpers import bearer, make_admin, register, running_app, running_worker
from tests.support import SmtpServer, make_settings, unique_prefix


async def read_model_user(database: Database, user_id: str) -> Any:
    async with database.session(write=False) as session:
        return await UserRepository(session).get(uuid.UUID(user_id))


async def until_seen(database: Database, user_id: str, check: Any, relay: Any) -> float:
    """Seconds until the task service's copy of the person satisfies `check`."""
    started = time.monotonic()
    while not check(await read_model_user(database, user_id)):
        assert time.monotonic() - started < 20, "the read model never caught up"
        await relay.drain_once()
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_account_changes_reach_the_task_service_s_copy(
    database_url: str,
    broker_url: str,
    broker_prefix: str,
    smtp_server: SmtpServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    tasks_url = f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    await asyncio.to_thread(upgrade, tasks_url)
    shared = {
        "broker_url": broker_url,
        "broker_prefix": broker_prefix,
        "smtp_url": smtp_server.url,
        "outbox_poll_seconds": 0.2,
        "redis_url": redis_url,
        "redis_key_prefix": unique_prefix(),
    }
    auth_settings = make_settings(database_url, service="auth", **shared)
    tasks_settings = make_settings(
        tasks_url, service="tasks", auth_jwks_url="http://127.0.0.1:1/unused", **shared
    )
    async with (
        running_app(auth_settings) as (auth_app, auth),
        running_worker(tasks_settings) as tasks_worker,
    ):
        relay, copies = auth_app.state.services.relay, tasks_worker.database
        person = await register(auth, "First Name")
        user_id = person["user"]["id"]
        await until_seen(copies, user_id, lambda u: u is not None, relay)
        copy = await read_model_user(copies, user_id)
        assert (copy.name, copy.email, copy.role.value, copy.is_active) == (
            "First Name",
            person["user"]["email"],
            "user",
            True,
        )
        assert copy.password_hash == UNUSABLE_HASH  # no password ever leaves the auth service

        renamed = await auth.patch(
            "/api/v1/auth/me", json={"name": "Second Name"}, headers=bearer(person)
        )
        assert renamed.status_code == 200
        delay = await until_seen(copies, user_id, lambda u: u.name == "Second Name", relay)
        print(f"rename reached the task service's copy in {delay * 1000:.0f} ms")

        # A redelivered older change never undoes a newer one.
        people_copy = tasks_worker.handlers.registry.work[USER_CHANGED].run
        async with copies.session(write=True) as session:
            await people_copy(
                session,
                {
                    "user_id": user_id,
                    "name": "Stale Name",
                    "email": person["user"]["email"],
                    "role": "user",
                    "active": True,
                    "notifications": True,
                    "updated_at": format_timestamp(utc_now() - timedelta(hours=1)),
                },
            )
            await session.commit()
        assert (await read_model_user(copies, user_id)).name == "Second Name"

        admin = await register(auth, "The Admin")
        await make_admin(auth_app.state.services.database, admin["user"]["id"])
        deactivated = await auth.patch(
            f"/api/v1/users/{user_id}", json={"isActive": False}, headers=bearer(admin)
        )
        assert deactivated.status_code == 200
        await until_seen(copies, user_id, lambda u: not u.is_active, relay)

        deleted = await auth.delete(f"/api/v1/users/{user_id}", headers=bearer(admin))
        assert deleted.status_code == 200
        await until_seen(copies, user_id, lambda u: u is None, relay)


async def test_the_monolith_tells_nobody(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        person = await register(client)
        await client.patch("/api/v1/auth/me", json={"name": "Renamed"}, headers=bearer(person))
        async with app.state.services.database.session(write=False) as session:
            types = (await session.scalars(select(OutboxEvent.type))).all()
        assert types == ["user.registered"]  # the welcome mail only


async def test_revoked_sessions_are_kept_until_their_tokens_expire(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, _client):
        database = app.state.services.database
        kept, expired = uuid.uuid4(), uuid.uuid4()
        now = utc_now()
        for session_id, until in ((kept, now + timedelta(minutes=15)), (expired, now)):
            payload = {"session_ids": [str(session_id)], "until": format_timestamp(until)}
            for _ in range(2):  # a redelivery changes nothing
                async with database.session(write=True) as session:
                    await sessions_revoked(session, payload)
                    await session.commit()
        assert await purge_expired_revocations(database) == 1
        async with database.session(write=False) as session:
            revocations = RevokedSessionRepository(session)
            assert await revocations.is_revoked(kept)
            assert not await revocations.is_revoked(expired)
