"""The response cache: per caller, fresh after every write, on every instance, and fail-open."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from private_servers import PrivateRedis

from tests.helpers import bearer, register, register_admin, running_app
from tests.support import (
    make_settings,
    private,
    redis_space,
    settings_with_shared_state,
    unique_prefix,
)

CACHED_VIEWS = ["/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/tasks?status=pending&limit=5"]


@pytest.fixture(params=["in-process", "redis"])
def cache_settings(request: pytest.FixtureRequest, sqlite_url: str) -> Any:
    return settings_with_shared_state(request, sqlite_url, request.param)


async def create(client: httpx.AsyncClient, auth: dict[str, Any], title: str) -> dict[str, Any]:
    response = await client.post("/api/v1/tasks", json={"title": title}, headers=bearer(auth))
    assert response.status_code == 201
    task: dict[str, Any] = response.json()["data"]
    return task


async def test_second_read_is_a_hit_with_the_same_body(cache_settings: Any) -> None:
    async with running_app(cache_settings) as (_, client):
        auth = await register(client)
        task = await create(client, auth, "Cached one")
        for view in [*CACHED_VIEWS, f"/api/v1/tasks/{task['id']}"]:
            first = await client.get(view, headers=bearer(auth))
            second = await client.get(view, headers=bearer(auth))
            assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT"), view
            assert first.json() == second.json()


async def test_two_users_asking_the_same_url_never_see_each_others_data(
    cache_settings: Any,
) -> None:
    async with running_app(cache_settings) as (_, client):
        alice, bob = await register(client, "Alice"), await register(client, "Bob")
        await create(client, alice, "Alice's secret plan")
        for view in CACHED_VIEWS:
            alice_view = await client.get(view, headers=bearer(alice))
            bob_view = await client.get(view, headers=bearer(bob))
            assert bob_view.headers["x-cache"] == "MISS"
            assert "Alice" not in bob_view.text
            assert alice_view.json() != bob_view.json()
        bob_list = (await client.get("/api/v1/tasks", headers=bearer(bob))).json()
        assert bob_list["total"] == 0


async def test_every_write_makes_the_views_fresh(cache_settings: Any) -> None:
    async with running_app(cache_settings) as (app, client):
        auth = await register(client)
        admin = await register_admin(client, app.state.services.database)
        task = await create(client, auth, "Original title")

        async def titles() -> list[str]:
            body = (await client.get("/api/v1/tasks", headers=bearer(auth))).json()
            return [t["title"] for t in body["data"]]

        async def stats_total() -> int:
            body = (await client.get("/api/v1/tasks/stats", headers=bearer(auth))).json()
            return int(body["data"]["total"])

        assert await titles() == ["Original title"]
        assert await stats_total() == 1
        await create(client, auth, "Second")
        assert await titles() == ["Second", "Original title"]
        assert await stats_total() == 2

        await client.patch(
            f"/api/v1/tasks/{task['id']}", json={"title": "Renamed"}, headers=bearer(auth)
        )
        assert await titles() == ["Second", "Renamed"]
        one = await client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(auth))
        assert one.json()["data"]["title"] == "Renamed"

        # An admin editing someone's task makes that person's views fresh too.
        await client.patch(
            f"/api/v1/tasks/{task['id']}", json={"title": "Admin edit"}, headers=bearer(admin)
        )
        assert await titles() == ["Second", "Admin edit"]

        await client.delete(f"/api/v1/tasks/{task['id']}", headers=bearer(auth))
        assert await titles() == ["Second"]
        assert await stats_total() == 1


async def test_admin_views_are_fresh_after_any_write(cache_settings: Any) -> None:
    async with running_app(cache_settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        auth = await register(client)
        await create(client, auth, "First")
        view = "/api/v1/tasks/admin/all?limit=100"
        before = await client.get(view, headers=bearer(admin))
        again = await client.get(view, headers=bearer(admin))
        expected_second = "HIT" if app.state.services.response_cache.backend.shared else "MISS"
        assert again.headers["x-cache"] == expected_second
        await create(client, auth, "Second")
        after = await client.get(view, headers=bearer(admin))
        assert after.headers["x-cache"] == "MISS"
        assert after.json()["total"] == before.json()["total"] + 1


async def test_a_write_on_one_instance_is_seen_by_another_at_once(
    sqlite_url: str, redis_url: str
) -> None:
    prefix = unique_prefix()
    settings = make_settings(sqlite_url, redis_url=redis_url, redis_key_prefix=prefix)
    async with running_app(settings) as (app, first), running_app(settings) as (_, second):
        auth = await register(first)
        admin = await register_admin(first, app.state.services.database)
        await create(first, auth, "Before")
        for client in (first, second):
            await client.get("/api/v1/tasks", headers=bearer(auth))
            await client.get("/api/v1/tasks/admin/all", headers=bearer(admin))
        assert (await second.get("/api/v1/tasks", headers=bearer(auth))).headers["x-cache"] == "HIT"

        await create(first, auth, "After")  # acknowledged by the first instance
        listing = await second.get("/api/v1/tasks", headers=bearer(auth))
        assert [t["title"] for t in listing.json()["data"]] == ["After", "Before"]
        admin_view = await second.get("/api/v1/tasks/admin/all", headers=bearer(admin))
        assert "After" in admin_view.text


async def test_entries_expire_after_the_ttl(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url, cache_ttl=1)) as (_, client):
        auth = await register(client)
        await client.get("/api/v1/tasks", headers=bearer(auth))
        assert (await client.get("/api/v1/tasks", headers=bearer(auth))).headers["x-cache"] == "HIT"
        deadline = time.monotonic() + 5
        while (await client.get("/api/v1/tasks", headers=bearer(auth))).headers["x-cache"] == "HIT":
            assert time.monotonic() < deadline, "entry outlived its TTL"
            await asyncio.sleep(0.1)


async def test_cache_outage_falls_back_to_the_database(sqlite_url: str, tmp_path: Any) -> None:
    private_server = private(lambda: PrivateRedis(tmp_path))
    private_server.start()
    settings = make_settings(
        sqlite_url, redis_url=private_server.url, redis_key_prefix=unique_prefix()
    )
    try:
        async with running_app(settings) as (app, client):
            auth = await register(client)
            await create(client, auth, "Still here")
            await client.get("/api/v1/tasks", headers=bearer(auth))
            private_server.stop()
            during = await client.get("/api/v1/tasks", headers=bearer(auth))
            assert during.status_code == 200
            assert during.headers["x-cache"] == "MISS"
            assert [t["title"] for t in during.json()["data"]] == ["Still here"]
            # The outage is noticed (and counted); without a version nothing is cached.
            assert app.state.services.redis_guard.is_failing
            metrics = (await client.get("/metrics")).text
            assert "taskyard_rate_limit_backend_errors_total 0.0" not in metrics
            again = await client.get("/api/v1/tasks", headers=bearer(auth))
            assert again.headers["x-cache"] == "MISS"
    finally:
        private_server.stop()


async def test_deleting_a_user_removes_their_tasks_from_admin_views(
    sqlite_url: str, redis_url: str
) -> None:
    settings = make_settings(sqlite_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with running_app(settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        leaving = await register(client)
        await create(client, leaving, "Soon gone")
        view = "/api/v1/tasks/admin/all"
        assert "Soon gone" in (await client.get(view, headers=bearer(admin))).text
        await client.delete(f"/api/v1/users/{leaving['user']['id']}", headers=bearer(admin))
        assert "Soon gone" not in (await client.get(view, headers=bearer(admin))).text


async def test_renaming_a_person_freshens_every_view_that_shows_the_name(
    sqlite_url: str, redis_url: str
) -> None:
    settings = make_settings(sqlite_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with running_app(settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        owner, helper = await register(client, "Olive Owner"), await register(client, "Hal Helper")
        created = await client.post(
            "/api/v1/tasks",
            json={"title": "Shared", "assigneeEmail": helper["user"]["email"]},
            headers=bearer(owner),
        )
        task_id = created.json()["data"]["id"]
        views = [
            (owner, "/api/v1/tasks"),
            (owner, f"/api/v1/tasks/{task_id}"),
            (helper, "/api/v1/tasks?scope=assigned"),
            (helper, f"/api/v1/tasks/{task_id}"),
            (admin, "/api/v1/tasks/admin/all"),
            (admin, f"/api/v1/tasks/{task_id}"),
        ]
        for auth, view in views:
            await client.get(view, headers=bearer(auth))
            assert (await client.get(view, headers=bearer(auth))).headers["x-cache"] == "HIT"

        # One renames themself; an admin renames the other.
        renamed = await client.patch(
            "/api/v1/auth/me", json={"name": "Olive Renamed"}, headers=bearer(owner)
        )
        assert renamed.status_code == 200
        by_admin = await client.patch(
            f"/api/v1/users/{helper['user']['id']}",
            json={"name": "Hal Renamed"},
            headers=bearer(admin),
        )
        assert by_admin.status_code == 200
        for auth, view in views:
            response = await client.get(view, headers=bearer(auth))
            assert "Olive Renamed" in response.text, view
            assert "Hal Renamed" in response.text, view
            assert "Olive Owner" not in response.text
            assert "Hal Helper" not in response.text


async def test_a_deleted_person_s_tasks_vanish_from_their_assignees_views(
    cache_settings: Any,
) -> None:
    async with running_app(cache_settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        leaving, helper = await register(client), await register(client)
        created = await client.post(
            "/api/v1/tasks",
            json={"title": "Orphan soon", "assigneeEmail": helper["user"]["email"]},
            headers=bearer(leaving),
        )
        task_view = f"/api/v1/tasks/{created.json()['data']['id']}"
        for view in (task_view, "/api/v1/tasks?scope=assigned"):
            await client.get(view, headers=bearer(helper))
            assert (await client.get(view, headers=bearer(helper))).headers["x-cache"] == "HIT"
        deleted = await client.delete(
            f"/api/v1/users/{leaving['user']['id']}", headers=bearer(admin)
        )
        assert deleted.status_code == 200
        assert (await client.get(task_view, headers=bearer(helper))).status_code == 404
        assigned = await client.get("/api/v1/tasks?scope=assigned", headers=bearer(helper))
        assert assigned.json()["total"] == 0
        patch = await client.patch(task_view, json={"status": "completed"}, headers=bearer(helper))
        assert patch.status_code == 404


async def test_admin_views_are_fresh_after_a_redis_outage_that_kept_its_data(
    sqlite_url: str, tmp_path: Any
) -> None:
    private_server = private(lambda: PrivateRedis(tmp_path))
    private_server.start()
    settings = make_settings(
        sqlite_url, redis_url=private_server.url, redis_key_prefix=unique_prefix()
    )
    try:
        async with running_app(settings) as (app, client):
            admin = await register_admin(client, app.state.services.database)
            auth = await register(client)
            await create(client, auth, "Before the outage")
            view = "/api/v1/tasks/admin/all"
            await client.get(view, headers=bearer(admin))
            assert (await client.get(view, headers=bearer(admin))).headers["x-cache"] == "HIT"

            private_server.pause()  # Redis hangs, keeping everything it holds
            await create(client, auth, "During the outage")
            private_server.resume()
            guard = app.state.services.redis_guard
            deadline = time.monotonic() + 10
            while guard.should_skip():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)

            after = await client.get(view, headers=bearer(admin))
            assert "During the outage" in after.text
            again = await client.get(view, headers=bearer(admin))
            assert again.headers["x-cache"] == "HIT"
            assert "During the outage" in again.text
    finally:
        private_server.stop()


async def test_everything_written_to_redis_expires_and_versions_outlive_their_bodies(
    sqlite_url: str, redis_url: str
) -> None:
    prefix = unique_prefix()
    settings = make_settings(sqlite_url, redis_url=redis_url, redis_key_prefix=prefix)
    async with running_app(settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        auth = await register(client)
        task = await create(client, auth, "Kept warm")
        for view in [*CACHED_VIEWS, f"/api/v1/tasks/{task['id']}"]:
            for _ in range(2):
                assert (await client.get(view, headers=bearer(auth))).status_code == 200
        for _ in range(2):
            listing = await client.get("/api/v1/tasks/admin/all", headers=bearer(admin))
            assert listing.status_code == 200
        await client.patch(
            f"/api/v1/tasks/{task['id']}", json={"status": "completed"}, headers=bearer(auth)
        )
        await client.post("/api/v1/auth/logout", headers=bearer(auth))
        redis = app.state.services.redis
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        ttls = {key.decode(): await redis.ttl(key) for key in keys}
        space = redis_space(redis_url, prefix)
        version = f"{space}:ver:{auth['user']['id']}"
        cache_ttl = settings.cache_ttl
    assert version in ttls
    assert any(":resp:u:" in key for key in ttls)  # bodies were stored
    assert all(ttl > 0 for ttl in ttls.values()), {k: t for k, t in ttls.items() if t <= 0}
    # Long after every body stored under it: a version never counts up from 0 under a live body.
    assert ttls[version] > 10 * cache_ttl
    assert ttls[f"{space}:resp-gen:admin"] > 10 * cache_ttl
