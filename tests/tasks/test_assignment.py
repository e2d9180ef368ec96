"""Assignment: by id or email; the assignee reads the task and may change only its status."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import bearer, register, register_admin


async def create(client: httpx.AsyncClient, auth: dict[str, Any], **body: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/tasks", json={"title": "Shared work", **body}, headers=bearer(auth)
    )


async def test_assign_by_email_and_the_assignee_sees_it(
    app: Any, client: httpx.AsyncClient
) -> None:
    owner, helper = await register(client, "Owner"), await register(client, "Helper")
    created = await create(client, owner, assigneeEmail=helper["user"]["email"].upper())
    assert created.status_code == 201
    task = created.json()["data"]
    assert task["assignee"] == {
        "id": helper["user"]["id"],
        "_id": helper["user"]["id"],
        "name": "Helper",
        "email": helper["user"]["email"],
    }
    assert task["createdBy"]["id"] == owner["user"]["id"]

    fetched = await client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(helper))
    assert fetched.status_code == 200

    async def ids(auth: dict[str, Any], scope: str | None) -> list[str]:
        params = {"scope": scope} if scope else {}
        body = (await client.get("/api/v1/tasks", params=params, headers=bearer(auth))).json()
        return [t["id"] for t in body["data"]]

    assert await ids(helper, None) == []  # "own" stays the default, as in the original
    assert await ids(helper, "assigned") == [task["id"]]
    assert await ids(helper, "all") == [task["id"]]
    assert await ids(owner, "own") == [task["id"]]
    assert await ids(owner, "assigned") == []
    stats = (await client.get("/api/v1/tasks/stats", headers=bearer(helper))).json()["data"]
    assert stats["total"] == 0  # stats cover one's own tasks


async def test_the_assignee_may_change_only_the_status(client: httpx.AsyncClient) -> None:
    owner, helper = await register(client), await register(client)
    task = (await create(client, owner, assigneeId=helper["user"]["id"])).json()["data"]
    url = f"/api/v1/tasks/{task['id']}"

    done = await client.patch(url, json={"status": "completed"}, headers=bearer(helper))
    assert done.status_code == 200
    assert done.json()["data"]["status"] == "completed"
    for body in (
        {"title": "Mine now"},
        {"status": "pending", "priority": "high"},
        {"assigneeId": None},
    ):
        refused = await client.patch(url, json=body, headers=bearer(helper))
        assert refused.status_code == 403, body
        assert refused.json()["success"] is False
    assert (await client.delete(url, headers=bearer(helper))).status_code == 403
    after = (await client.get(url, headers=bearer(owner))).json()["data"]
    assert (after["title"], after["status"], after["priority"]) == (
        "Shared work",
        "completed",
        "medium",
    )


async def test_reassigning_and_unassigning_keep_every_view_fresh(
    client: httpx.AsyncClient,
) -> None:
    owner, first, second = await register(client), await register(client), await register(client)
    task = (await create(client, owner, assigneeId=first["user"]["id"])).json()["data"]
    url = f"/api/v1/tasks/{task['id']}"

    async def assigned(auth: dict[str, Any]) -> int:
        body = (
            await client.get("/api/v1/tasks", params={"scope": "assigned"}, headers=bearer(auth))
        ).json()
        return int(body["total"])

    assert (await assigned(first), await assigned(second)) == (1, 0)  # now cached
    moved = await client.patch(
        url, json={"assigneeEmail": second["user"]["email"]}, headers=bearer(owner)
    )
    assert moved.json()["data"]["assignee"]["id"] == second["user"]["id"]
    assert (await assigned(first), await assigned(second)) == (0, 1)
    assert (await client.get(url, headers=bearer(first))).status_code == 404

    cleared = await client.patch(url, json={"assigneeId": None}, headers=bearer(owner))
    assert cleared.json()["data"]["assignee"] is None
    assert await assigned(second) == 0


async def test_assigning_to_nobody_or_an_inactive_user_is_refused(
    app: Any, client: httpx.AsyncClient
) -> None:
    owner, admin, gone = (
        await register(client),
        await register_admin(client, app.state.services.database),
        await register(client),
    )
    await client.patch(
        f"/api/v1/users/{gone['user']['id']}", json={"isActive": False}, headers=bearer(admin)
    )
    for body, field in [
        ({"assigneeEmail": "nobody@example.com"}, "assigneeEmail"),
        ({"assigneeId": "00000000-0000-4000-8000-000000000000"}, "assigneeId"),
        ({"assigneeId": gone["user"]["id"]}, "assigneeId"),
        ({"assigneeId": "not-a-uuid"}, "assigneeId"),
        ({"assigneeId": owner["user"]["id"], "assigneeEmail": "x@example.com"}, ""),
    ]:
        response = await create(client, owner, **body)
        assert response.status_code == 400, body
        fields = {error["field"] for error in response.json()["errors"]}
        assert field in fields or (field == "" and fields), (body, fields)


async def test_deleting_the_assignee_unassigns_the_task(
    app: Any, client: httpx.AsyncClient
) -> None:
    owner, helper = await register(client), await register(client)
    admin = await register_admin(client, app.state.services.database)
    task = (await create(client, owner, assigneeId=helper["user"]["id"])).json()["data"]
    listed = await client.get("/api/v1/tasks", headers=bearer(owner))
    assert listed.json()["data"][0]["assignee"]["id"] == helper["user"]["id"]
    await client.delete(f"/api/v1/users/{helper['user']['id']}", headers=bearer(admin))
    after = await client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(owner))
    assert after.status_code == 200
    assert after.json()["data"]["assignee"] is None
    relisted = await client.get("/api/v1/tasks", headers=bearer(owner))
    assert relisted.headers["x-cache"] == "MISS"  # the cached list showed the deleted user
    assert relisted.json()["data"][0]["assignee"] is None
