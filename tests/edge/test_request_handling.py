"""Compression, body size, CORS preflight caching."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

from tests.helpers import bearer, register, running_app
from tests.support import make_settings


async def test_gzip_for_large_bodies_when_accepted(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        auth = await register(client)
        for n in range(10):
            await client.post(
                "/api/v1/tasks",
                json={"title": f"Task {n}", "description": "words " * 50},
                headers=bearer(auth),
            )
        zipped = await client.get(
            "/api/v1/tasks", headers={**bearer(auth), "Accept-Encoding": "gzip"}
        )
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.json()["count"] == 10  # httpx decodes it
        plain = await client.get(
            "/api/v1/tasks", headers={**bearer(auth), "Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert len(plain.content) > 1024
        small = await client.get("/health", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in small.headers
        async with client.stream(
            "GET", "/api/v1/tasks", headers={**bearer(auth), "Accept-Encoding": "gzip"}
        ) as streamed:
            raw = b"".join([chunk async for chunk in streamed.aiter_raw()])
            assert "accept-encoding" in streamed.headers["vary"].lower()
        assert len(raw) < len(plain.content) / 2
        assert gzip.decompress(raw) == plain.content


async def test_declared_large_body_is_413(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url, max_body_bytes=2048)) as (_, client):
        auth = await register(client)
        response = await client.post(
            "/api/v1/tasks",
            content=b'{"title": "' + b"x" * 4096 + b'"}',
            headers={**bearer(auth), "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        body = response.json()
        assert body["success"] is False
        assert body["message"] == "Request body too large"
        assert body["requestId"]


async def test_streamed_large_body_is_413(sqlite_url: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "'
        for _ in range(10):
            yield b"y" * 1024
        yield b'"}'

    async with running_app(make_settings(sqlite_url, max_body_bytes=2048)) as (_, client):
        auth = await register(client)
        response = await client.post(
            "/api/v1/tasks",
            content=chunks(),
            headers={**bearer(auth), "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["message"] == "Request body too large"
        listing = await client.get("/api/v1/tasks", headers=bearer(auth))
        assert listing.json()["total"] == 0


async def test_cors_preflight_is_cached_and_rate_limit_headers_exposed(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, cors_origins=["https://app.example"])
    async with running_app(settings) as (_, client):
        preflight = await client.options(
            "/api/v1/tasks",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-max-age"] == "600"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        simple = await client.get("/", headers={"Origin": "https://app.example"})
        exposed = simple.headers["access-control-expose-headers"].lower()
        assert "retry-after" in exposed
        assert "ratelimit-remaining" in exposed
