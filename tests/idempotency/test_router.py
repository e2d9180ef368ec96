"""Idempotency-Key on POST /tasks, POST /exports and POST /auth/register, on both databases:
a replay gets the first response and writes nothing; another body with the key is a 422; a
concurrent duplicate waits for the first and gets its answer; keys are the caller's own and
expire."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from taskyard.exports.models import Export
from taskyard.idempotency.models import IdempotencyRecord
from taskyard.idempotency.service import purge_expired
from taskyard.tasks.models import Task
from taskyard.users.models import User
from tests.helpers import bearer, register, running_app
from tests.support import make_settings


def keyed(auth: dict[str, Any] | None, key: str) -> dict[str, str]:
    return {**(bearer(auth) if auth else {}), "Idempotency-Key": key}


async def count(app: Any, model: Any) -> int:
    async with app.state.services.database.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_replayed_create_returns_the_first_response_and_writes_nothing(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        auth = await register(client)
        key = str(uuid.uuid4())
        body = {"title": "Only once", "priority": "high"}
        first = await client.post("/api/v1/tasks", json=body, headers=keyed(auth, key))
        again = await client.post("/api/v1/tasks", json=body, headers=keyed(auth, key))
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert await count(app, Task) == 1

        other = await client.post("/api/v1/tasks", json=body, headers=keyed(auth, "another"))
        assert other.status_code == 201
        assert await count(app, Task) == 2
        unkeyed = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
        assert unkeyed.status_code == 201
        assert await count(app, Task) == 3


async def test_the_key_with_a_different_body_is_a_422(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        auth = await register(client)
        headers = keyed(auth, "form-1")
        created = await client.post("/api/v1/tasks", json={"title": "First"}, headers=headers)
        assert created.status_code == 201
        reused = await client.post("/api/v1/tasks", json={"title": "Second"}, headers=headers)
        assert reused.status_code == 422
        assert reused.json()["success"] is False
        assert reused.json()["message"] == (
            "This Idempotency-Key was already used with a different request"
        )
        assert await count(app, Task) == 1


async def test_keys_belong_to_the_caller(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        alice, bob = await register(client, "Alice"), await register(client, "Bob")
        body = {"title": "Same key, two people"}
        for person in (alice, bob):
            made = await client.post("/api/v1/tasks", json=body, headers=keyed(person, "k-1"))
            assert made.status_code == 201
            assert made.json()["data"]["createdBy"]["name"] == person["user"]["name"]
            assert "idempotent-replayed" not in made.headers
        assert await count(app, Task) == 2


async def test_a_concurrent_duplicate_waits_for_the_first_and_gets_its_answer(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        auth = await register(client)
        headers = keyed(auth, str(uuid.uuid4()))
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/tasks", json={"title": "Raced"}, headers=headers)
                for _ in range(4)
            )
        )
        assert {answer.status_code for answer in answers} == {201}
        assert len({answer.json()["data"]["id"] for answer in answers}) == 1
        assert await count(app, Task) == 1


async def test_a_replayed_registration_signs_in_again_without_a_second_account(
    database_url: str,
) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        body = {"name": "Retry Ray", "email": "ray@example.com", "password": "correct-horse"}
        headers = {"Idempotency-Key": "signup-1"}
        first = await client.post("/api/v1/auth/register", json=body, headers=headers)
        again = await client.post("/api/v1/auth/register", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers.get_list("set-cookie") == first.headers.get_list("set-cookie")
        assert await count(app, User) == 1
        me = await client.get("/api/v1/auth/me", headers=bearer(again.json()["data"]))
        assert me.status_code == 200
        # Without the key, the same request is what it always was: the email is taken.
        plain = await client.post("/api/v1/auth/register", json=body)
        assert plain.status_code == 409


async def test_a_replayed_export_request_queues_one_export(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (app, client):
        auth = await register(client)
        headers = keyed(auth, "export-1")
        first = await client.post("/api/v1/exports", json={"format": "csv"}, headers=headers)
        again = await client.post("/api/v1/exports", json={"format": "csv"}, headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.json()["data"]["id"] == first.json()["data"]["id"]
        assert again.headers["location"] == first.headers["location"]
        assert await count(app, Export) == 1


async def test_a_failed_write_keeps_no_key_so_the_retry_runs(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (app, client):
        auth = await register(client)
        headers = keyed(auth, "assign-1")
        body = {"title": "For nobody", "assigneeEmail": "nobody@example.com"}
        refused = await client.post("/api/v1/tasks", json=body, headers=headers)
        assert refused.status_code == 400
        assert await count(app, IdempotencyRecord) == 0
        retried = await client.post("/api/v1/tasks", json=body, headers=headers)
        assert retried.status_code == 400
        assert "idempotent-replayed" not in retried.headers


async def test_keys_expire_after_a_day(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (app, client):
        auth = await register(client)
        headers = keyed(auth, "old-key")
        first = await client.post("/api/v1/tasks", json={"title": "Day one"}, headers=headers)
        assert first.status_code == 201
        async with app.state.services.database.session(write=True) as session:
            stored = await session.scalar(select(IdempotencyRecord))
            assert stored is not None
            assert stored.expires_at - stored.created_at == timedelta(hours=24)
            await session.execute(
                update(IdempotencyRecord).values(expires_at=stored.created_at - timedelta(1))
            )
            await session.commit()
        # An expired key is a new key: the request runs again.
        fresh = await client.post("/api/v1/tasks", json={"title": "Day two"}, headers=headers)
        assert fresh.status_code == 201
        assert fresh.json()["data"]["id"] != first.json()["data"]["id"]
        async with app.state.services.database.session(write=True) as session:
            await session.execute(
                update(IdempotencyRecord).values(expires_at=stored.created_at - timedelta(1))
            )
            await session.commit()
        assert await purge_expired(app.state.services.database) == 1
        assert await count(app, IdempotencyRecord) == 0


async def test_a_malformed_key_is_a_400(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (app, client):
        auth = await register(client)
        for bad in ("has space", "x" * 256, ""):
            answered = await client.post(
                "/api/v1/tasks", json={"title": "Nope"}, headers=keyed(auth, bad)
            )
            assert answered.status_code == 400, (bad, answered.text)
            assert answered.json()["errors"][0]["field"] == "Idempotency-Key"
        assert await count(app, Task) == 0


async def test_an_anonymous_callers_keys_are_their_addresss(sqlite_url: str) -> None:
    """Two people behind different addresses can't collide on, or read, each other's key."""
    async with running_app(make_settings(sqlite_url)) as (app, client):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://taskyard.test") as far:
            headers = {"Idempotency-Key": "shared"}
            mine = {"name": "Near", "email": "near@example.com", "password": "correct-horse"}
            theirs = {"name": "Far", "email": "far@example.com", "password": "correct-horse"}
            assert (
                await client.post("/api/v1/auth/register", json=mine, headers=headers)
            ).status_code == 201
            answered = await far.post("/api/v1/auth/register", json=theirs, headers=headers)
            assert answered.status_code == 201
            assert answered.json()["data"]["user"]["email"] == "far@example.com"
        assert await count(app, User) == 2
