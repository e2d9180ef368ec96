"""A Redis that comes back from an older snapshot (or a lagging replica that takes over) brings
back version counters and bodies from before the last writes. Nothing from before is served:
every key that could name a stale body lives under the server's run, which a restart changes."""

from __future__ import annotations

from typing import Any

import httpx
from private_servers import PrivateRedis

from tests.helpers import bearer, register, register_admin, running_app, until
from tests.support import make_settings, unique_prefix


async def titles(client: httpx.AsyncClient, auth: dict[str, Any], path: str) -> list[str]:
    response = await client.get(path, headers=bearer(auth))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return [task["title"] for task in data] if isinstance(data, list) else [data["title"]]


async def test_nothing_older_than_the_last_write_is_served_after_a_restart_from_a_snapshot(
    database_url: str, private_redis: PrivateRedis
) -> None:
    settings = make_settings(
        database_url, redis_url=private_redis.url, redis_key_prefix=unique_prefix()
    )
    async with running_app(settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        owner = await register(client, "Owner")
        leaving = await register(client, "Leaving")
        created = await client.post(
            "/api/v1/tasks", json={"title": "Before"}, headers=bearer(owner)
        )
        task = f"/api/v1/tasks/{created.json()['data']['id']}"
        views = [(owner, task), (owner, "/api/v1/tasks"), (admin, task)]
        views.append((admin, "/api/v1/tasks/admin/all"))
        for auth, path in [*views, *views]:  # the second round is served from the cache
            assert await titles(client, auth, path) == ["Before"]
        cached = await client.get("/api/v1/tasks", headers=bearer(owner))
        assert cached.headers["x-cache"] == "HIT"
        assert (await client.get("/api/v1/auth/me", headers=bearer(leaving))).status_code == 200
        private_redis.snapshot()

        changed = await client.patch(task, json={"title": "After"}, headers=bearer(owner))
        assert changed.status_code == 200
        assert (
            await client.post("/api/v1/auth/logout", headers=bearer(leaving))
        ).status_code == 200
        private_redis.kill()
        private_redis.start()  # from the snapshot: counters and bodies of "Before"

        # The first request meets the dead connections and Redis is skipped for a second; from
        # then on the restored keys would be read.
        assert await titles(client, owner, "/api/v1/tasks") == ["After"]
        await until(lambda: not app.state.services.redis_guard.should_skip())
        for _round in range(2):
            for auth, path in views:
                assert await titles(client, auth, path) == ["After"], (auth["user"]["name"], path)
        # What was just read is current: a write on its ETag goes through.
        read = await client.get(task, headers=bearer(owner))
        written = await client.patch(
            task,
            json={"status": "completed"},
            headers={**bearer(owner), "If-Match": read.headers["etag"]},
        )
        assert written.status_code == 200, written.text
        # The token logged out after the snapshot stays refused.
        refused = await client.get("/api/v1/auth/me", headers=bearer(leaving))
        assert refused.status_code == 401
        # And the cache works again in the new run.
        for _ in range(2):
            again = await client.get("/api/v1/tasks", headers=bearer(owner))
            assert [row["status"] for row in again.json()["data"]] == ["completed"]
        assert again.headers["x-cache"] == "HIT"
