"""Keyset paging: walked by cursor, every sort gives the full order; cursors can't be forged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import bearer, register

SORTS = [
    "createdAt",
    "-createdAt",
    "dueDate",
    "-dueDate",
    "priority",
    "-priority",
    "title",
    "-title",
]


async def seed(client: httpx.AsyncClient, auth: dict[str, Any]) -> None:
    priorities = ["low", "medium", "high"]
    for n in range(23):
        body: dict[str, Any] = {
            "title": f"Task {n % 7:02d}",  # repeated titles: ties broken by id
            "priority": priorities[n % 3],
        }
        if n % 4:
            body["dueDate"] = f"2031-0{1 + n % 5}-1{n % 3}T00:00:00Z"  # repeats, and some None
        response = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
        assert response.status_code == 201


async def walk(client: httpx.AsyncClient, auth: dict[str, Any], sort: str) -> list[str]:
    ids: list[str] = []
    params: dict[str, Any] = {"sort": sort, "limit": 5}
    for _ in range(20):
        page = (await client.get("/api/v1/tasks", params=params, headers=bearer(auth))).json()
        ids += [task["id"] for task in page["data"]]
        if page["nextCursor"] is None:
            return ids
        assert page["count"] == 5
        params = {"sort": sort, "limit": 5, "cursor": page["nextCursor"]}
    raise AssertionError("cursor walk did not end")


@pytest.mark.parametrize("sort", SORTS)
async def test_cursor_walk_matches_the_full_order(client: httpx.AsyncClient, sort: str) -> None:
    auth = await register(client)
    await seed(client, auth)
    full = await client.get(
        "/api/v1/tasks", params={"sort": sort, "limit": 100}, headers=bearer(auth)
    )
    expected = [task["id"] for task in full.json()["data"]]
    assert len(expected) == 23
    assert await walk(client, auth, sort) == expected


async def test_offset_pages_also_offer_a_cursor(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    await seed(client, auth)
    first = (await client.get("/api/v1/tasks", params={"limit": 10}, headers=bearer(auth))).json()
    second_by_offset = (
        await client.get("/api/v1/tasks", params={"limit": 10, "page": 2}, headers=bearer(auth))
    ).json()
    second_by_cursor = (
        await client.get(
            "/api/v1/tasks",
            params={"limit": 10, "cursor": first["nextCursor"]},
            headers=bearer(auth),
        )
    ).json()
    assert second_by_cursor["data"] == second_by_offset["data"]
    assert second_by_cursor["page"] is None
    assert second_by_cursor["total"] == 23


async def test_tampered_or_foreign_cursors_are_refused(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    await seed(client, auth)
    page = (await client.get("/api/v1/tasks", params={"limit": 5}, headers=bearer(auth))).json()
    cursor = page["nextCursor"]
    swapped = "B" if cursor[5] == "A" else "A"
    tampered = cursor[:5] + swapped + cursor[6:]  # one character of the position changed
    for bad, params in [
        (tampered, {}),
        ("not-a-cursor", {}),
        ("", {}),
        (cursor, {"sort": "title"}),  # made for -createdAt
    ]:
        response = await client.get(
            "/api/v1/tasks", params={"limit": 5, "cursor": bad, **params}, headers=bearer(auth)
        )
        if bad == "":
            assert response.status_code == 200  # an empty cursor is no cursor
            continue
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == "cursor"
