"""Conditional GETs: a strong ETag on every successful read, 304 when the client has it."""

from __future__ import annotations

from tests.helpers import bearer, register, running_app
from tests.support import make_settings


async def test_etag_and_not_modified(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        auth = await register(client)
        await client.post("/api/v1/tasks", json={"title": "Tagged"}, headers=bearer(auth))
        first = await client.get("/api/v1/tasks", headers=bearer(auth))
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert not etag.startswith("W/")

        unchanged = await client.get(
            "/api/v1/tasks", headers={**bearer(auth), "If-None-Match": etag}
        )
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert "x-content-type-options" in unchanged.headers
        listed = await client.get(
            "/api/v1/tasks", headers={**bearer(auth), "If-None-Match": f'"other", {etag}'}
        )
        assert listed.status_code == 304

        await client.post("/api/v1/tasks", json={"title": "Another"}, headers=bearer(auth))
        changed = await client.get("/api/v1/tasks", headers={**bearer(auth), "If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert changed.json()["total"] == 2


async def test_each_encoding_has_its_own_tag_and_writes_have_none(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        gzipped = await client.get("/api-docs.json", headers={"Accept-Encoding": "gzip"})
        plain = await client.get("/api-docs.json", headers={"Accept-Encoding": "identity"})
        assert gzipped.headers["content-encoding"] == "gzip"
        assert gzipped.headers["etag"] != plain.headers["etag"]
        created = await client.post(
            "/api/v1/auth/register",
            json={"name": "No Tag", "email": "notag@example.com", "password": "password123"},
        )
        assert created.status_code == 201
        assert "etag" not in created.headers
        error = await client.get("/api/v1/tasks")
        assert error.status_code == 401
        assert "etag" not in error.headers
