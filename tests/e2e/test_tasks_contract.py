"""Task endpoints against the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.serving import Server, bearer, register

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
TASK_FIELDS = {
    "id",
    "_id",
    "title",
    "description",
    "status",
    "priority",
    "dueDate",
    "createdBy",
    "createdAt",
    "updatedAt",
    "assignee",
    "version",  # added for If-Match; the original clients ignore it
    "projectId",  # added with projects, as the next three; the original clients ignore them
    "labels",
    "position",
    "repeat",
}


def create_task(http: httpx.Client, auth: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"title": "A task", **fields}
    response = http.post("/tasks", json=body, headers=bearer(auth))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]
    return task


def list_tasks(http: httpx.Client, auth: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = http.get("/tasks", params=params, headers=bearer(auth))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_returns_201_location_and_full_task(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    response = http.post(
        "/tasks",
        json={
            "title": "  Write report  ",
            "description": "Quarterly",
            "priority": "high",
            "dueDate": "2030-01-02T03:04:05.678Z",
        },
        headers=bearer(user),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"]
    task = body["data"]
    assert set(task) == TASK_FIELDS
    assert task["id"] == task["_id"]
    assert response.headers["location"] == f"/api/v1/tasks/{task['id']}"
    assert task["title"] == "Write report"
    assert task["status"] == "pending"
    assert task["priority"] == "high"
    assert task["dueDate"] == "2030-01-02T03:04:05.678000Z"
    assert ISO_UTC.match(task["createdAt"])
    assert ISO_UTC.match(task["updatedAt"])
    owner = user["user"]
    assert task["createdBy"] == {
        "id": owner["id"],
        "_id": owner["id"],
        "name": owner["name"],
        "email": owner["email"],
    }
    fetched = http.get(response.headers["location"].removeprefix("/api/v1"), headers=bearer(user))
    assert fetched.json() == {"success": True, "data": task}


def test_create_defaults(http: httpx.Client, user: dict[str, Any]) -> None:
    task = create_task(http, user, title="Defaults")
    assert task["description"] == ""
    assert task["status"] == "pending"
    assert task["priority"] == "medium"
    assert task["dueDate"] is None


def test_empty_due_date_from_a_form_means_none(http: httpx.Client, user: dict[str, Any]) -> None:
    assert create_task(http, user, dueDate="")["dueDate"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "ab"}, "title"),
        ({"title": "   ab   "}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "fine", "description": "d" * 501}, "description"),
        ({"title": "fine", "status": "done"}, "status"),
        ({"title": "fine", "priority": "urgent"}, "priority"),
        ({"title": "fine", "dueDate": "next tuesday"}, "dueDate"),
        ({"title": "fine", "createdBy": "someone-else"}, "createdBy"),
        ({"title": "fine", "_id": "abc"}, "_id"),
        ({}, "title"),
    ],
)
def test_create_validation(
    http: httpx.Client, user: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = http.post("/tasks", json=body, headers=bearer(user))
    assert response.status_code == 400
    payload = response.json()
    assert payload["success"] is False
    assert payload["message"] == "Validation failed"
    assert field in {error["field"] for error in payload["errors"]}
    assert payload["requestId"]


def test_list_envelope_and_pagination(http: httpx.Client, server: Server) -> None:
    auth = register(server)
    created = [create_task(http, auth, title=f"Task number {n}") for n in range(5)]
    page_one = list_tasks(http, auth, limit=2)
    assert set(page_one) == {"success", "count", "total", "page", "pages", "data", "nextCursor"}
    assert (page_one["count"], page_one["total"], page_one["page"], page_one["pages"]) == (
        2,
        5,
        1,
        3,
    )
    # Newest first by default.
    assert [task["id"] for task in page_one["data"]] == [created[4]["id"], created[3]["id"]]
    last = list_tasks(http, auth, limit=2, page=3)
    assert last["count"] == 1
    assert last["data"][0]["id"] == created[0]["id"]
    beyond = list_tasks(http, auth, limit=2, page=9)
    assert beyond["count"] == 0
    assert beyond["data"] == []
    assert beyond["total"] == 5


def test_empty_list(http: httpx.Client, user: dict[str, Any]) -> None:
    body = list_tasks(http, user)
    assert body == {
        "success": True,
        "count": 0,
        "total": 0,
        "page": 1,
        "pages": 0,
        "data": [],
        "nextCursor": None,
    }


def test_list_only_shows_own_tasks(http: httpx.Client, server: Server) -> None:
    alice, bob = register(server), register(server)
    create_task(http, alice, title="Alice's task")
    create_task(http, bob, title="Bob's task")
    assert [t["title"] for t in list_tasks(http, alice)["data"]] == ["Alice's task"]
    assert [t["title"] for t in list_tasks(http, bob)["data"]] == ["Bob's task"]


def test_filters_and_search(http: httpx.Client, server: Server) -> None:
    auth = register(server)
    create_task(http, auth, title="Buy milk", status="completed", priority="low")
    create_task(http, auth, title="Fix the bug", description="100% urgent_fix", priority="high")
    create_task(http, auth, title="Call mom", status="in-progress", priority="high")

    def titles(**params: Any) -> list[str]:
        return sorted(task["title"] for task in list_tasks(http, auth, **params)["data"])

    assert titles(status="completed") == ["Buy milk"]
    assert titles(status="in-progress") == ["Call mom"]
    assert titles(priority="high") == ["Call mom", "Fix the bug"]
    assert titles(priority="high", status="pending") == ["Fix the bug"]
    assert titles(search="MILK") == ["Buy milk"]
    assert titles(search="urgent") == ["Fix the bug"]  # description matches too
    assert titles(search="100%") == ["Fix the bug"]  # wildcards are literal
    assert titles(search="_") == ["Fix the bug"]
    assert titles(search="%") == ["Fix the bug"]
    assert titles(search="nothing like this") == []


def test_sorting(http: httpx.Client, server: Server) -> None:
    auth = register(server)
    low = create_task(http, auth, title="Charlie", priority="low", dueDate="2030-03-01")
    high = create_task(http, auth, title="alpha", priority="high")
    medium = create_task(http, auth, title="Bravo", priority="medium", dueDate="2030-01-01")

    def ids(sort: str) -> list[str]:
        return [task["id"] for task in list_tasks(http, auth, sort=sort)["data"]]

    assert ids("createdAt") == [low["id"], high["id"], medium["id"]]
    assert ids("-createdAt") == [medium["id"], high["id"], low["id"]]
    assert ids("priority") == [low["id"], medium["id"], high["id"]]
    assert ids("-priority") == [high["id"], medium["id"], low["id"]]
    assert ids("dueDate") == [medium["id"], low["id"], high["id"]]  # no due date goes last
    assert ids("-dueDate") == [low["id"], medium["id"], high["id"]]
    assert ids("title") in (
        [high["id"], medium["id"], low["id"]],  # case-insensitive collation
        [medium["id"], low["id"], high["id"]],  # byte order
    )
    response = http.get("/tasks", params={"sort": "password"}, headers=bearer(auth))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sort"


def test_stats_count_correctly(http: httpx.Client, server: Server) -> None:
    auth = register(server)
    create_task(http, auth, status="completed", priority="high")
    create_task(http, auth, status="completed", priority="low")
    create_task(http, auth, status="in-progress", priority="high")
    create_task(http, auth)
    create_task(http, register(server))  # someone else's: not counted

    response = http.get("/tasks/stats", headers=bearer(auth))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total"] == 4
    by_status = {group["_id"]: group["count"] for group in data["byStatus"]}
    by_priority = {group["_id"]: group["count"] for group in data["byPriority"]}
    assert by_status == {"pending": 1, "in-progress": 1, "completed": 2}
    assert by_priority == {"low": 1, "medium": 1, "high": 2}


def test_put_and_patch_update_only_editable_fields(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    task = create_task(http, user, title="Original", dueDate="2030-01-01")
    patched = http.patch(f"/tasks/{task['id']}", json={"status": "completed"}, headers=bearer(user))
    assert patched.status_code == 200
    body = patched.json()
    assert body["success"] is True
    assert body["message"]
    assert body["data"]["status"] == "completed"
    assert body["data"]["title"] == "Original"
    assert body["data"]["updatedAt"] >= task["updatedAt"]

    put = http.put(
        f"/tasks/{task['id']}",
        json={"title": "Renamed", "priority": "low", "dueDate": None},
        headers=bearer(user),
    )
    assert put.status_code == 200
    data = put.json()["data"]
    assert (data["title"], data["priority"], data["dueDate"], data["status"]) == (
        "Renamed",
        "low",
        None,
        "completed",
    )
    assert data["createdAt"] == task["createdAt"]


@pytest.mark.parametrize(
    "body",
    [
        {"createdBy": "00000000-0000-0000-0000-000000000000"},
        {"title": "ok title", "owner": "x"},
        {"_id": "x"},
        {"createdAt": "2020-01-01"},
        {"title": None},
        {"status": None},
        {},
    ],
)
def test_update_refuses_other_fields_and_nulls(
    http: httpx.Client, user: dict[str, Any], body: dict[str, Any]
) -> None:
    task = create_task(http, user)
    for method in ("PUT", "PATCH"):
        response = http.request(method, f"/tasks/{task['id']}", json=body, headers=bearer(user))
        assert response.status_code == 400
        assert response.json()["message"] == "Validation failed"
    unchanged = http.get(f"/tasks/{task['id']}", headers=bearer(user)).json()["data"]
    assert unchanged == task


def test_delete(http: httpx.Client, user: dict[str, Any]) -> None:
    task = create_task(http, user)
    response = http.delete(f"/tasks/{task['id']}", headers=bearer(user))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"]
    assert body["data"] == {}
    assert http.get(f"/tasks/{task['id']}", headers=bearer(user)).status_code == 404
    assert http.delete(f"/tasks/{task['id']}", headers=bearer(user)).status_code == 404


def test_other_users_tasks_are_404_not_403(http: httpx.Client, server: Server) -> None:
    owner, stranger = register(server), register(server)
    task = create_task(http, owner)
    url = f"/tasks/{task['id']}"
    for response in (
        http.get(url, headers=bearer(stranger)),
        http.patch(url, json={"title": "hijacked"}, headers=bearer(stranger)),
        http.put(url, json={"title": "hijacked"}, headers=bearer(stranger)),
        http.delete(url, headers=bearer(stranger)),
    ):
        assert response.status_code == 404
        assert response.json()["message"] == "Task not found"
    assert http.get(url, headers=bearer(owner)).json()["data"]["title"] == task["title"]


def test_unknown_task_id_is_404_and_malformed_is_400(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    missing = http.get("/tasks/00000000-0000-4000-8000-000000000000", headers=bearer(user))
    assert missing.status_code == 404
    malformed = http.get("/tasks/12345", headers=bearer(user))
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "id"


def test_admin_can_read_update_and_delete_any_task(
    http: httpx.Client, server: Server, user: dict[str, Any]
) -> None:
    task = create_task(http, user, title="Owned by a user")
    admin = bearer(server.admin)
    assert http.get(f"/tasks/{task['id']}", headers=admin).status_code == 200
    updated = http.patch(f"/tasks/{task['id']}", json={"priority": "high"}, headers=admin)
    assert updated.status_code == 200
    assert updated.json()["data"]["createdBy"]["id"] == user["user"]["id"]
    assert http.delete(f"/tasks/{task['id']}", headers=admin).status_code == 200
    assert http.get(f"/tasks/{task['id']}", headers=bearer(user)).status_code == 404


def test_admin_all_lists_everyone_and_filters_by_owner(http: httpx.Client, server: Server) -> None:
    alice, bob = register(server), register(server)
    create_task(http, alice, title="Alice one")
    create_task(http, alice, title="Alice two", status="completed")
    create_task(http, bob, title="Bob one")
    admin = bearer(server.admin)

    everyone = http.get("/tasks/admin/all", params={"limit": 100}, headers=admin).json()
    titles = {task["title"] for task in everyone["data"]}
    assert {"Alice one", "Alice two", "Bob one"} <= titles
    assert everyone["total"] >= 3

    alices = http.get(
        "/tasks/admin/all", params={"createdBy": alice["user"]["id"]}, headers=admin
    ).json()
    assert sorted(task["title"] for task in alices["data"]) == ["Alice one", "Alice two"]
    assert all(task["createdBy"]["email"] == alice["user"]["email"] for task in alices["data"])

    filtered = http.get(
        "/tasks/admin/all",
        params={"createdBy": alice["user"]["id"], "status": "completed"},
        headers=admin,
    ).json()
    assert [task["title"] for task in filtered["data"]] == ["Alice two"]

    bad = http.get("/tasks/admin/all", params={"createdBy": "nope"}, headers=admin)
    assert bad.status_code == 400


def test_admin_all_is_forbidden_to_users(http: httpx.Client, user: dict[str, Any]) -> None:
    response = http.get("/tasks/admin/all", headers=bearer(user))
    assert response.status_code == 403
    assert response.json()["success"] is False
