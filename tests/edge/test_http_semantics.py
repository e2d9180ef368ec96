"""What the HTTP layer answers for odd requests: HEAD, 405s, caching of private responses,
oversized error lists, and values that overflow (dates, tokens, cursors)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from taskyard.cursors import CursorCodec
from tests.helpers import bearer, register
from tests.support import TEST_SECRET_KEY


async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    await client.post("/api/v1/tasks", json={"title": "Headed"}, headers=bearer(auth))
    for path in ("/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/auth/me", "/health"):
        get = await client.get(path, headers=bearer(auth))
        head = await client.head(path, headers=bearer(auth))
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.headers["content-type"] == get.headers["content-type"]
    unauthenticated = await client.head("/api/v1/tasks")
    assert unauthenticated.status_code == 401
    assert unauthenticated.content == b""


async def test_allow_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    task = (
        await client.post("/api/v1/tasks", json={"title": "Allowed"}, headers=bearer(auth))
    ).json()["data"]
    cases = {
        f"/api/v1/tasks/{task['id']}": ("POST", "DELETE, GET, HEAD, PATCH, PUT"),
        "/api/v1/tasks": ("DELETE", "GET, HEAD, POST"),
        "/api/v1/auth/me": ("PUT", "GET, HEAD, PATCH"),
    }
    for path, (method, allowed) in cases.items():
        response = await client.request(method, path, headers=bearer(auth))
        assert response.status_code == 405, path
        assert response.headers["allow"] == allowed
        assert response.json()["message"] == "Method not allowed"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
async def test_writes_to_the_stats_are_405_not_a_malformed_id(
    client: httpx.AsyncClient, method: str
) -> None:
    auth = await register(client)
    response = await client.request(
        method, "/api/v1/tasks/stats", json={"title": "x"}, headers=bearer(auth)
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_private_responses_are_never_kept_by_a_shared_cache(
    client: httpx.AsyncClient,
) -> None:
    auth = await register(client)
    listed = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert listed.headers["cache-control"] == "private, no-cache"
    # Revalidation still works: the browser asks again and gets a 304.
    again = await client.get(
        "/api/v1/tasks", headers={**bearer(auth), "If-None-Match": listed.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, no-cache"
    refused = await client.get("/api/v1/tasks", headers={"Authorization": "Bearer nonsense"})
    assert refused.headers["cache-control"] == "private, no-cache"
    # Whatever hands out tokens is stored nowhere.
    login = await client.post(
        "/api/v1/auth/login", json={"email": auth["user"]["email"], "password": "wrong-one"}
    )
    assert login.headers["cache-control"] == "no-store"
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refreshToken": auth["refreshToken"]}
    )
    assert refreshed.headers["cache-control"] == "no-store"
    assert "cache-control" not in (await client.get("/health")).headers


async def test_the_error_list_is_capped_and_cheap(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    body = {"title": "Many keys", **{f"u{n}": 0 for n in range(90_000)}}
    started = time.perf_counter()
    response = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 20
    assert errors[0] == {"field": "u0", "message": "This field is not allowed"}
    assert len(response.content) < 5_000
    assert elapsed < 1.0


@pytest.mark.parametrize("due_date", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
async def test_a_due_date_pushed_out_of_range_by_its_offset_is_a_400(
    client: httpx.AsyncClient, due_date: str
) -> None:
    auth = await register(client)
    created = await client.post(
        "/api/v1/tasks", json={"title": "Far out", "dueDate": due_date}, headers=bearer(auth)
    )
    assert created.status_code == 400
    assert [error["field"] for error in created.json()["errors"]] == ["dueDate"]


async def test_a_well_signed_token_with_an_absurd_expiry_is_a_401(
    client: httpx.AsyncClient,
) -> None:
    auth = await register(client)
    claims = jwt.decode(auth["token"], options={"verify_signature": False})
    for exp in (1e20, 10**30, -(10**20)):
        forged = jwt.encode({**claims, "exp": exp}, TEST_SECRET_KEY, algorithm="HS256")
        response = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401, exp


def _signed_cursor(position: dict[str, Any]) -> str:
    """A cursor signed with the server's real cursor key, holding whatever we like."""
    return CursorCodec(TEST_SECRET_KEY).encode(position)


ABSURD_POSITIONS = [
    {"sort": "title", "key": "nul\x00inside", "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "title", "key": "x" * 5000, "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "priority", "key": 10**30, "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "priority", "key": 7, "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "priority", "key": True, "id": "00000000-0000-0000-0000-000000000001"},
    {
        "sort": "-createdAt",
        "key": "9999-12-31T23:59:59-05:00",
        "id": "00000000-0000-0000-0000-000000000001",
    },
    {
        "sort": "-createdAt",
        "key": "2026-01-01T00:00:00",
        "id": "00000000-0000-0000-0000-000000000001",
    },
    {"sort": "-createdAt", "key": None, "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "dueDate", "key": 12, "id": "00000000-0000-0000-0000-000000000001"},
    {"sort": "-createdAt", "key": "2026-01-01T00:00:00Z", "id": "not-a-uuid"},
]


@pytest.mark.parametrize("position", ABSURD_POSITIONS)
async def test_a_well_signed_cursor_with_absurd_values_is_a_400(
    client: httpx.AsyncClient, position: dict[str, Any]
) -> None:
    auth = await register(client)
    response = await client.get(
        "/api/v1/tasks",
        params={"sort": position["sort"], "cursor": _signed_cursor(position)},
        headers=bearer(auth),
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "cursor"
