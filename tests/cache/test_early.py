"""Cache hits answered before routing: the same response, for the same caller only, and only
while the caller is still in good standing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from taskyard.identity.dependencies import get_principal
from tests.helpers import RouteWatch, bearer, register, register_admin, running_app
from tests.support import make_settings, settings_with_shared_state

VIEWS = ["/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/tasks?status=pending&limit=5"]
# Headers every layer outside the cache adds, on a hit as on a miss.
EDGE_HEADERS = [
    "x-request-id",
    "content-security-policy",
    "x-content-type-options",
    "cache-control",
    "etag",
    "ratelimit-remaining",
]


@pytest.fixture(params=["in-process", "redis", "redis, no rate limit"])
def early_settings(request: pytest.FixtureRequest, sqlite_url: str) -> Any:
    shared = "in-process" if request.param == "in-process" else "redis"
    settings = settings_with_shared_state(request, sqlite_url, shared)
    if request.param.endswith("no rate limit"):
        settings = settings.model_copy(update={"rate_limit_enabled": False})
    return settings


async def _warm(client: Any, auth: dict[str, Any]) -> list[str]:
    created = await client.post("/api/v1/tasks", json={"title": "Early"}, headers=bearer(auth))
    views = [*VIEWS, f"/api/v1/tasks/{created.json()['data']['id']}"]
    for view in views:
        assert (await client.get(view, headers=bearer(auth))).headers["x-cache"] == "MISS"
    return views


async def test_a_hit_is_answered_before_the_routes_with_the_same_response(
    early_settings: Any,
) -> None:
    async with running_app(early_settings) as (app, client):
        auth = await register(client)
        views = await _warm(client, auth)
        misses = {view: await client.get(view, headers=bearer(auth)) for view in views}
        app.dependency_overrides[get_principal] = routes = RouteWatch()
        for view in views:
            hit = await client.get(view, headers=bearer(auth))
            assert hit.status_code == 200
            assert hit.headers["x-cache"] == "HIT", view
            assert hit.content == misses[view].content
            assert hit.headers["content-type"] == "application/json"
            expected = EDGE_HEADERS if early_settings.rate_limit_enabled else EDGE_HEADERS[:-1]
            assert all(name in hit.headers for name in expected), hit.headers
            assert hit.headers["etag"] == misses[view].headers["etag"]
            revalidated = await client.get(
                view, headers={**bearer(auth), "If-None-Match": hit.headers["etag"]}
            )
            assert revalidated.status_code == 304
        assert routes.reached == 0


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_a_hit_is_encoded_and_tagged_as_the_routes_would(
    early_settings: Any, encoding: str
) -> None:
    # Small enough that every view is compressed, as a long list would be.
    settings = early_settings.model_copy(update={"compression_min_bytes": 16})
    async with running_app(settings) as (_, client):
        auth = await register(client)
        views = await _warm(client, auth)
        asked = {**bearer(auth), "Accept-Encoding": encoding}
        for view in views:
            miss = await client.get(view, headers={**asked, "Cache-Control": "no-cache"})
            hit = await client.get(view, headers=asked)
            assert hit.headers["x-cache"] == "HIT", view
            for header in ("content-encoding", "vary", "etag"):
                assert hit.headers.get(header) == miss.headers.get(header), (view, header)
            assert "Accept-Encoding" in hit.headers["vary"]
            assert hit.headers.get("content-encoding") == ("gzip" if encoding == "gzip" else None)
            assert hit.json() == miss.json()
            revalidated = await client.get(
                view, headers={**asked, "If-None-Match": hit.headers["etag"]}
            )
            assert revalidated.status_code == 304
            assert "Accept-Encoding" in revalidated.headers["vary"]
            assert "content-encoding" not in revalidated.headers


async def test_a_hit_is_logged_and_counted_under_its_route(
    early_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_app(early_settings) as (_, client):
        auth = await register(client)
        await _warm(client, auth)
        logging.getLogger().addHandler(caplog.handler)  # create_app replaced the handlers
        hit = await client.get("/api/v1/tasks/stats", headers=bearer(auth))
        metrics = (await client.get("/metrics")).text
    assert hit.headers["x-cache"] == "HIT"
    # structlog hands the handlers its event dict.
    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    access = [line for line in lines if line.get("path") == "/api/v1/tasks/stats"]
    assert access[-1]["route"] == "/api/v1/tasks/stats"
    assert access[-1]["user_id"] == auth["user"]["id"]
    assert 'route="/api/v1/tasks/stats",status="200"' in metrics
    assert 'taskyard_cache_lookups_total{result="hit",view="stats"}' in metrics


async def test_someone_else_asking_the_same_url_goes_to_the_routes(early_settings: Any) -> None:
    async with running_app(early_settings) as (_, client):
        alice, bob = await register(client, "Alice"), await register(client, "Bob")
        views = await _warm(client, alice)
        for view in views:
            answer = await client.get(view, headers=bearer(bob))
            assert answer.headers.get("x-cache") != "HIT", view
            assert "Early" not in answer.text


async def test_a_logout_or_a_deactivation_refuses_what_was_cached(early_settings: Any) -> None:
    async with running_app(early_settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        leaving, deactivated = await register(client, "Leaving"), await register(client, "Gone")
        for auth in (leaving, deactivated):
            await _warm(client, auth)
        assert (await client.post("/api/v1/auth/logout", headers=bearer(leaving))).is_success
        changed = await client.patch(
            f"/api/v1/users/{deactivated['user']['id']}",
            json={"isActive": False},
            headers=bearer(admin),
        )
        assert changed.status_code == 200
        for auth in (leaving, deactivated):
            for view in VIEWS:
                refused = await client.get(view, headers=bearer(auth))
                assert refused.status_code == 401, (view, refused.text)
                assert refused.json()["success"] is False


async def test_an_admin_reading_a_task_by_id_goes_to_the_routes(early_settings: Any) -> None:
    async with running_app(early_settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        views = await _warm(client, admin)
        app.dependency_overrides[get_principal] = routes = RouteWatch()
        for view in views[:-1]:  # an admin's own list and stats are their own views
            assert (await client.get(view, headers=bearer(admin))).headers["x-cache"] == "HIT"
        assert routes.reached == 0
        by_id = await client.get(views[-1], headers=bearer(admin))
        assert (by_id.status_code, routes.reached) == (401, 1)


async def test_nothing_is_answered_early_with_the_cache_off(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url, cache_enabled=False)) as (_, client):
        auth = await register(client)
        for view in VIEWS:
            for _ in range(2):
                answer = await client.get(view, headers=bearer(auth))
                assert answer.status_code == 200
                assert answer.headers["x-cache"] == "MISS"
