"""The board's order: keys between any two, and moves at once into one gap never share a place."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from taskyard.tasks.ordering import is_key, key_between, key_for_now
from tests.helpers import bearer, register


def test_keys_fall_between_their_neighbours() -> None:
    made = [key_for_now() for _ in range(50)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    low, high = made[0], made[1]
    for _ in range(30):  # ever narrower gaps
        middle = key_between(low, high)
        assert low < middle < high
        assert is_key(middle)
        high = middle
    assert key_between(None, low) < low
    assert key_between(made[-1], None) > made[-1]
    assert not any(is_key(bad) for bad in ("a b", "", "a" * 65))


async def test_moves_into_one_gap_at_once_never_share_a_place(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    headers = bearer(owner)
    project = (
        await client.post("/api/v1/projects", json={"name": "Race"}, headers=headers)
    ).json()["data"]

    async def create(title: str) -> dict[str, Any]:
        body = {"title": title, "projectId": project["id"]}
        created = await client.post("/api/v1/tasks", json=body, headers=headers)
        task: dict[str, Any] = created.json()["data"]
        return task

    first, last = await create("First"), await create("Last")
    movers = [await create(f"Mover {n}") for n in range(12)]
    gap = {"status": "pending", "afterId": first["id"], "beforeId": last["id"]}
    moves = await asyncio.gather(
        *(
            client.post(f"/api/v1/tasks/{task['id']}/move", json=gap, headers=headers)
            for task in movers
        )
    )
    assert {move.status_code for move in moves} <= {200, 409}, [m.text for m in moves]
    listed = await client.get(
        "/api/v1/tasks",
        params={"projectId": project["id"], "sort": "position", "limit": 100},
        headers=headers,
    )
    tasks = listed.json()["data"]
    positions = [task["position"] for task in tasks]
    assert len(set(positions)) == len(positions) == 14
    assert positions == sorted(positions)
    moved = [task["title"] for task in tasks[1:-1]]
    assert tasks[0]["title"] == "First"
    # Every move that was answered 200 landed in the gap.
    landed = {m.json()["data"]["title"] for m in moves if m.status_code == 200}
    assert landed <= set(moved)
