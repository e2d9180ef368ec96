"""The caller resolved once, without the database on a warm path; changes bite at once anyway."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch

import httpx
import jwt
import pytest
from redis.asyncio.connection import Connection

from taskyard.identity import InProcessIdentityStore, NoIdentityStore, RedisIdentityStore
from tests.helpers import (
    PASSWORD,
    bearer,
    counted_statements,
    load_user,
    register,
    register_admin,
    running_app,
    until,
)
from tests.support import make_settings, settings_with_shared_state, unique_prefix


def statements(app: Any) -> contextlib.AbstractContextManager[list[str]]:
    """Every SQL statement the app sends while the block runs, asyncpg's own included."""
    return counted_statements(app.state.services.database)


@pytest.fixture(params=["in-process", "redis"])
def store_settings(request: pytest.FixtureRequest, database_url: str) -> Any:
    return settings_with_shared_state(request, database_url, request.param)


async def test_a_cache_hit_touches_no_database(store_settings: Any) -> None:
    async with running_app(store_settings) as (app, client):
        auth = await register(client)
        await client.post("/api/v1/tasks", json={"title": "Cached"}, headers=bearer(auth))
        for view in ("/api/v1/tasks", "/api/v1/tasks/stats"):
            await client.get(view, headers=bearer(auth))
            with statements(app) as sent:
                hit = await client.get(view, headers=bearer(auth))
            assert hit.headers["x-cache"] == "HIT"
            assert sent == [], sent


async def test_a_task_write_never_touches_the_users_row(store_settings: Any) -> None:
    """Nothing that every write of one person must queue on."""
    async with running_app(store_settings) as (app, client):
        auth = await register(client)
        with statements(app) as sent:
            created = await client.post(
                "/api/v1/tasks", json={"title": "Unqueued"}, headers=bearer(auth)
            )
            task_path = f"/api/v1/tasks/{created.json()['data']['id']}"
            await client.patch(task_path, json={"status": "completed"}, headers=bearer(auth))
            await client.delete(task_path, headers=bearer(auth))
        assert not [s for s in sent if s.lstrip().upper().startswith("UPDATE USERS")], sent


async def test_a_create_is_its_insert_and_its_row(store_settings: Any) -> None:
    """No account read and no unit of work: the INSERT, the row read back with its people, its
    activity entry, and its live event (the outbox rows, checking whether any of the project's
    webhooks wants it). On PostgreSQL all of it is one statement (writing CTEs)."""
    async with running_app(store_settings) as (app, client):
        auth = await register(client)
        await warm(client, auth)
        with statements(app) as sent:
            created = await client.post(
                "/api/v1/tasks", json={"title": "One statement"}, headers=bearer(auth)
            )
            # With no COMMIT to wait on, asyncpg's log of the statement may come a turn later.
            await until(lambda: any("INSERT INTO tasks" in statement for statement in sent))
        assert created.status_code == 201
        assert created.json()["data"]["createdBy"]["id"] == auth["user"]["id"]
        assert created.headers["location"] == f"/api/v1/tasks/{created.json()['data']['id']}"
        fragments = ("INSERT INTO tasks", "INSERT INTO task_activity", "INSERT INTO outbox_events")
        for fragment in (*fragments, "FROM webhooks", "FROM tasks"):
            assert sum(fragment in s for s in sent) <= 1, (fragment, sent)
        if app.state.services.database.is_sqlite:  # no writing CTEs: each on its own
            assert len(sent) == 4, sent
        else:
            assert len(sent) == 1, sent
            (statement,) = sent
            assert all(fragment in statement for fragment in (*fragments, "FROM webhooks"))


@asynccontextmanager
async def two_instances(database_url: str, redis_url: str) -> AsyncIterator[tuple[Any, ...]]:
    settings = make_settings(database_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with running_app(settings) as (first_app, first), running_app(settings) as (_, second):
        yield first_app, first, second


async def warm(client: httpx.AsyncClient, auth: dict[str, Any]) -> None:
    """Make the instance hold the caller's state, so the next check could skip the database."""
    for _ in range(2):
        assert (await client.get("/api/v1/tasks", headers=bearer(auth))).status_code == 200


async def test_a_logout_on_one_instance_bites_on_the_next_request_at_another(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (_, first, second):
        auth = await register(first)
        await warm(second, auth)
        assert (await first.post("/api/v1/auth/logout", headers=bearer(auth))).status_code == 200
        assert (await second.get("/api/v1/tasks", headers=bearer(auth))).status_code == 401


async def test_deactivation_and_demotion_bite_on_the_next_request_everywhere(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (app, first, second):
        admin = await register_admin(first, app.state.services.database)
        other_admin = await register_admin(first, app.state.services.database)
        person = await register(first)
        await warm(second, person)
        await warm(second, other_admin)
        assert (await second.get("/api/v1/users", headers=bearer(other_admin))).status_code == 200

        deactivated = await first.patch(
            f"/api/v1/users/{person['user']['id']}",
            json={"isActive": False},
            headers=bearer(admin),
        )
        assert deactivated.status_code == 200
        refused = await second.get("/api/v1/tasks", headers=bearer(person))
        assert refused.status_code == 401
        assert refused.json()["message"] == "Account is deactivated"

        demoted = await first.patch(
            f"/api/v1/users/{other_admin['user']['id']}",
            json={"role": "user"},
            headers=bearer(admin),
        )
        assert demoted.status_code == 200
        assert (await second.get("/api/v1/users", headers=bearer(other_admin))).status_code == 403

        # Let back in: their old sessions stay ended, a new login works at once.
        await first.patch(
            f"/api/v1/users/{person['user']['id']}", json={"isActive": True}, headers=bearer(admin)
        )
        assert (await second.get("/api/v1/tasks", headers=bearer(person))).status_code == 401
        login = await second.post(
            "/api/v1/auth/login", json={"email": person["user"]["email"], "password": PASSWORD}
        )
        assert login.status_code == 200
        assert (
            await first.get("/api/v1/tasks", headers=bearer(login.json()["data"]))
        ).status_code == 200


async def test_a_deleted_account_is_refused_everywhere(database_url: str, redis_url: str) -> None:
    async with two_instances(database_url, redis_url) as (app, first, second):
        admin = await register_admin(first, app.state.services.database)
        person = await register(first)
        await warm(second, person)
        deleted = await first.delete(f"/api/v1/users/{person['user']['id']}", headers=bearer(admin))
        assert deleted.status_code == 200
        assert (await second.get("/api/v1/tasks", headers=bearer(person))).status_code == 401


async def test_a_write_is_seen_at_once_by_another_instance_s_cache(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (_, first, second):
        auth = await register(first)
        await warm(second, auth)
        assert (await second.get("/api/v1/tasks", headers=bearer(auth))).headers["x-cache"] == "HIT"
        await first.post("/api/v1/tasks", json={"title": "Fresh"}, headers=bearer(auth))
        listing = await second.get("/api/v1/tasks", headers=bearer(auth))
        assert [task["title"] for task in listing.json()["data"]] == ["Fresh"]


def test_the_store_follows_the_deployment(
    sqlite_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from taskyard.app import create_app

    assert isinstance(
        create_app(make_settings(sqlite_url)).state.services.identity, InProcessIdentityStore
    )
    shared = create_app(make_settings(sqlite_url, redis_url=redis_url))
    assert isinstance(shared.state.services.identity, RedisIdentityStore)
    # Several workers and no Redis share nothing: every check goes to the database.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert isinstance(
        create_app(make_settings(sqlite_url)).state.services.identity, NoIdentityStore
    )


def command_names(sent: bytes) -> list[str]:
    """The names of the commands in what a client wrote (RESP arrays of bulk strings)."""
    names: list[str] = []
    at = 0
    while at < len(sent):
        end = sent.index(b"\r\n", at)
        arguments, at = int(sent[at + 1 : end]), end + 2
        for place in range(arguments):
            end = sent.index(b"\r\n", at)
            length = int(sent[at + 1 : end])
            if place == 0:
                names.append(sent[end + 2 : end + 2 + length].decode().lower())
            at = end + 2 + length + 2
    return names


@contextlib.contextmanager
def redis_traffic() -> Iterator[list[list[str]]]:
    """The commands written to Redis, one list a round trip (a write of commands, then their
    replies), whoever packed them."""
    trips: list[list[str]] = []
    send = Connection.send_packed_command

    async def sent(self: Connection, command: Any, check_health: bool = True) -> None:
        written = command if isinstance(command, bytes) else b"".join(command)
        trips.append(command_names(written))
        await send(self, command, check_health)

    with patch.object(Connection, "send_packed_command", sent):
        yield trips


async def test_a_cache_hit_costs_one_redis_round_trip(database_url: str, redis_url: str) -> None:
    """The caller's identity state, the limiter's count and the cached body: each layer's own
    commands, in one pipeline."""
    settings = make_settings(
        database_url, redis_url=redis_url, redis_key_prefix=unique_prefix(), rate_limit="50/hour"
    )
    async with running_app(settings) as (app, client):
        auth = await register(client)
        await warm(client, auth)
        with redis_traffic() as trips, statements(app) as sql:
            hit = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert hit.headers["x-cache"] == "HIT"
    assert hit.headers["ratelimit-remaining"] == "47"
    assert trips == [["mget", "set", "incr", "get", "get"]], trips
    assert sql == []


async def test_a_miss_reads_the_body_once(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with running_app(settings) as (_, client):
        auth = await register(client)
        await warm(client, auth)
        with redis_traffic() as trips:
            miss = await client.get("/api/v1/tasks?limit=3", headers=bearer(auth))
    assert miss.headers["x-cache"] == "MISS"
    assert trips[0] == ["mget", "set", "incr", "get", "get"], trips
    assert [command for trip in trips[1:] for command in trip].count("get") == 0, trips


async def test_a_reactivated_person_keeps_the_fast_path(database_url: str, redis_url: str) -> None:
    """The state the reactivation wrote serves at once: no database read, no Redis write per
    request, however soon after the deactivation."""
    async with two_instances(database_url, redis_url) as (app, first, second):
        admin = await register_admin(first, app.state.services.database)
        person = await register(first)
        path = f"/api/v1/users/{person['user']['id']}"
        for active in (False, True):
            changed = await first.patch(path, json={"isActive": active}, headers=bearer(admin))
            assert changed.status_code == 200
        login = await second.post(
            "/api/v1/auth/login", json={"email": person["user"]["email"], "password": PASSWORD}
        )
        back = login.json()["data"]
        await warm(second, back)  # the new session's first request reads it from the database
        with redis_traffic() as trips:
            for _ in range(3):
                with statements(app) as sql:
                    hit = await first.get("/api/v1/tasks", headers=bearer(back))
                assert hit.headers["x-cache"] == "HIT"
                assert sql == [], sql
        # One round trip a request, reading (the identity state, the body) and counting only.
        assert trips == [["mget", "set", "incr", "get", "get"]] * 3, trips
        # And the deactivation still bit at once on the other instance before it was undone.
        again = await first.patch(path, json={"isActive": False}, headers=bearer(admin))
        assert again.status_code == 200
        assert (await second.get("/api/v1/tasks", headers=bearer(back))).status_code == 401


async def test_an_older_read_never_overwrites_a_newer_account_state(
    database_url: str, redis_url: str
) -> None:
    """A request that read the account just before a change commits, and remembers it just
    after, doesn't put the old state back."""
    from taskyard.identity import AccountState, stamp_of
    from taskyard.identity.roles import Role

    async with two_instances(database_url, redis_url) as (app, first, _second):
        admin = await register_admin(first, app.state.services.database)
        person = await register(first)
        user_id = uuid.UUID(person["user"]["id"])
        before = await load_user(app.state.services.database, person["user"]["id"])
        stale = AccountState(Role.USER, True, True, stamp_of(before.updated_at))
        deactivated = await first.patch(
            f"/api/v1/users/{user_id}", json={"isActive": False}, headers=bearer(admin)
        )
        assert deactivated.status_code == 200
        claims = jwt.decode(person["token"], options={"verify_signature": False})
        await app.state.services.identity.remember(user_id, stale, uuid.UUID(claims["sid"]))
        refused = await first.get("/api/v1/tasks", headers=bearer(person))
        assert refused.status_code == 401
        known = await app.state.services.identity.lookup(
            await app.state.services.verifier.verify(person["token"])
        )
        assert known is not None
        assert known.active is False


async def test_a_write_retires_its_views_in_one_redis_round_trip(
    database_url: str, redis_url: str
) -> None:
    """The writer's version, the project's views and the admin views' generation, counted up
    together."""
    settings = make_settings(database_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with running_app(settings) as (_, client):
        auth = await register(client)
        await warm(client, auth)
        with redis_traffic() as trips:
            created = await client.post(
                "/api/v1/tasks", json={"title": "Retiring"}, headers=bearer(auth)
            )
        listing = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert created.status_code == 201
    bumps = [trip for trip in trips if "incrby" in trip]
    assert bumps == [["incrby", "expire"] * 3], trips
    assert listing.headers["x-cache"] == "MISS"
    assert [task["title"] for task in listing.json()["data"]] == ["Retiring"]
