"""Rate limits and the token denylist in Redis: shared between instances, and failing open."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import redis
from private_servers import PrivateRedis

from tests.helpers import bearer, register, running_app
from tests.support import make_settings, redis_space, unique_prefix


def shared_settings(sqlite_url: str, redis_url: str, prefix: str, **overrides: Any) -> Any:
    values = {
        "redis_url": redis_url,
        "redis_key_prefix": prefix,
        "rate_limit": "6/hour",
        "rate_limit_auth": "100/hour",
        **overrides,
    }
    return make_settings(sqlite_url, **values)


async def test_two_instances_share_one_users_limit(sqlite_url: str, redis_url: str) -> None:
    prefix = unique_prefix()
    async with (
        running_app(shared_settings(sqlite_url, redis_url, prefix)) as (_, first),
        running_app(shared_settings(sqlite_url, redis_url, prefix)) as (_, second),
    ):
        auth = await register(first)
        statuses = [
            (
                await (first if n % 2 else second).get("/api/v1/auth/me", headers=bearer(auth))
            ).status_code
            for n in range(9)
        ]
    assert statuses == [200] * 6 + [429] * 3


async def test_logout_on_one_instance_is_seen_by_another(sqlite_url: str, redis_url: str) -> None:
    prefix = unique_prefix()
    async with (
        running_app(shared_settings(sqlite_url, redis_url, prefix)) as (_, first),
        running_app(shared_settings(sqlite_url, redis_url, prefix)) as (second_app, second),
    ):
        auth = await register(first)
        jti = jwt.decode(auth["token"], options={"verify_signature": False})["jti"]
        assert (await first.post("/api/v1/auth/logout", headers=bearer(auth))).status_code == 200
        assert await second_app.state.services.denylist.contains(jti)
        assert (await second.get("/api/v1/auth/me", headers=bearer(auth))).status_code == 401
        space = redis_space(redis_url, prefix)
        ttl = redis.Redis.from_url(redis_url).ttl(f"{space}:denylist:{jti}")
        assert 0 < ttl <= 900  # kept only until the token would have expired anyway


async def wait_for(condition: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_redis_outage_degrades_but_serves_then_recovers(
    sqlite_url: str, private_redis: PrivateRedis
) -> None:
    settings = shared_settings(sqlite_url, private_redis.url, unique_prefix(), rate_limit="50/hour")
    async with running_app(settings) as (_, client):
        auth = await register(client)
        healthy = await client.get("/api/v1/tasks", headers=bearer(auth))
        assert healthy.status_code == 200
        assert healthy.headers["ratelimit-limit"] == "50"
        assert (await client.get("/health/ready")).json()["status"] == "ready"

        private_redis.stop()
        during = [await client.get("/api/v1/tasks", headers=bearer(auth)) for _ in range(5)]
        assert [r.status_code for r in during] == [200] * 5
        assert all("ratelimit-limit" not in r.headers for r in during)

        ready = await client.get("/health/ready")
        assert ready.status_code == 200  # still serving, so still in the load balancer
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["components"]["redis"]["status"] == "down"
        assert body["components"]["rateLimiter"]["status"] == "degraded"
        assert body["components"]["database"]["status"] == "up"
        metrics = (await client.get("/metrics")).text
        assert "taskyard_rate_limit_backend_errors_total" in metrics

        # Logout still works and still bites: the database session is revoked.
        assert (await client.post("/api/v1/auth/logout", headers=bearer(auth))).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=bearer(auth))).status_code == 401

        private_redis.start()
        fresh = await register(client)

        async def limiter_is_back() -> bool:
            response = await client.get("/api/v1/tasks", headers=bearer(fresh))
            return response.status_code == 200 and "ratelimit-limit" in response.headers

        await wait_for(limiter_is_back)

        async def ready_again() -> bool:
            ready = await client.get("/health/ready")
            return bool(ready.json()["status"] == "ready")

        await wait_for(ready_again)


def sign_in_budgets(sqlite_url: str, redis_url: str, prefix: str) -> Any:
    return shared_settings(
        sqlite_url,
        redis_url,
        prefix,
        rate_limit_login="3/hour",
        rate_limit_login_ip="5/hour",
        rate_limit_register="2/hour",
        rate_limit_refresh="3/hour",
    )


async def test_two_instances_share_every_sign_in_budget(sqlite_url: str, redis_url: str) -> None:
    prefix = unique_prefix()
    settings = sign_in_budgets(sqlite_url, redis_url, prefix)
    async with (
        running_app(settings, ("198.51.100.20", 1)) as (_, first),
        running_app(settings, ("198.51.100.20", 2)) as (_, second),
        running_app(settings, ("198.51.100.21", 3)) as (_, elsewhere),
    ):
        instances = [first, second]

        # Register: per address.
        registered = []
        for n in range(3):
            response = await instances[n % 2].post(
                "/api/v1/auth/register",
                json={
                    "name": "Office",
                    "email": f"office{n}-{prefix}@example.com",
                    "password": "office-password",
                },
            )
            registered.append(response)
        assert [r.status_code for r in registered] == [201, 201, 429]
        other_office = await elsewhere.post(
            "/api/v1/auth/register",
            json={
                "name": "Remote",
                "email": f"remote-{prefix}@example.com",
                "password": "office-password",
            },
        )
        assert other_office.status_code == 201

        # Refresh: per session, across instances.
        token = registered[0].json()["data"]["refreshToken"]
        refreshes = []
        for n in range(4):
            response = await instances[n % 2].post(
                "/api/v1/auth/refresh", json={"refreshToken": token}
            )
            refreshes.append(response.status_code)
            if response.status_code == 200:
                token = response.json()["data"]["refreshToken"]
        assert refreshes == [200, 200, 200, 429]
        other_session = await second.post(
            "/api/v1/auth/refresh",
            json={"refreshToken": registered[1].json()["data"]["refreshToken"]},
        )
        assert other_session.status_code == 200

        # Login: per address and email, under a per-address ceiling.
        guess = {"email": f"office0-{prefix}@example.com", "password": "wrong-password"}
        logins = [
            (await instances[n % 2].post("/api/v1/auth/login", json=guess)).status_code
            for n in range(4)
        ]
        assert logins == [401, 401, 401, 429]
        right = {"email": f"office1-{prefix}@example.com", "password": "office-password"}
        assert (await first.post("/api/v1/auth/login", json=right)).status_code == 200
        ceiling = await second.post("/api/v1/auth/login", json=right)
        assert ceiling.status_code == 429  # five attempts from this address in all
        assert int(ceiling.headers["retry-after"]) > 0
        assert (await elsewhere.post("/api/v1/auth/login", json=right)).status_code == 200


async def test_a_limited_caller_costs_the_same_small_keys_whatever_the_limit(
    sqlite_url: str, redis_url: str
) -> None:
    """The sliding-window counter keeps a counter per window (this one and the last) per
    caller, not an entry per request: the same few bytes at a limit of 5 as at 100,000,000."""
    inspect = redis.Redis.from_url(redis_url)
    footprints = []
    for limit in ("5/minute", "100000000/minute"):
        prefix = unique_prefix()
        settings = shared_settings(sqlite_url, redis_url, prefix, rate_limit=limit)
        async with running_app(settings) as (_, client):
            auth = await register(client)
            statuses = [
                (await client.get("/api/v1/auth/me", headers=bearer(auth))).status_code
                for _ in range(40)
            ]
        assert statuses.count(200) == (5 if limit.startswith("5/") else 40)
        keys = list(inspect.scan_iter(f"{prefix}:swc:user:*"))  # the person's, not sign-up's
        assert 1 <= len(keys) <= 2, keys  # two when the run crossed a window's end
        # Only what was let through counts: each refusal was counted back out.
        assert sum(int(inspect.get(key) or 0) for key in keys) == statuses.count(200)
        # What each key costs beyond its name (which carries the limit's digits).
        footprints.append(sorted((inspect.memory_usage(key) or 0) - len(key) for key in keys))
    # A counter's few bytes at either limit (Redis may share a small integer's object, so they
    # differ by a word); the moving window kept a list of 40 entries here, over a kilobyte.
    assert all(size <= 64 for sizes in footprints for size in sizes), footprints
