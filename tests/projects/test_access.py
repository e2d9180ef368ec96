"""Every project route, and every task route on a project's task, for everyone who might call
it: someone outside the project, each project role, and an account admin (who reads every
project but is in none). Outsiders get 404, never 403; members without the role get 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import bearer, register, register_admin

ACTORS = ("outsider", "viewer", "editor", "admin", "owner", "account_admin")


@dataclass
class World:
    """A fresh project: its owner, an admin, an editor, a viewer and a spare viewer (whom the
    member routes act on), a team of the actor's, and a task the editor made."""

    client: httpx.AsyncClient
    people: dict[str, dict[str, Any]]
    project: dict[str, Any]
    task: dict[str, Any]
    team: dict[str, Any]

    async def call(self, actor: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(
            method, f"/api/v1{path}", headers=bearer(self.people[actor]), **kwargs
        )


Request = Callable[[World, str], Awaitable[httpx.Response]]


def _p(world: World) -> str:
    return f"/projects/{world.project['id']}"


def _spare(world: World) -> str:
    return str(world.people["spare"]["user"]["id"])


# (route, what it does, expected status for each actor in ACTORS order)
CASES: list[tuple[str, Request, tuple[int, ...]]] = [
    ("GET project", lambda w, a: w.call(a, "GET", _p(w)), (404, 200, 200, 200, 200, 200)),
    (
        "PATCH project",
        lambda w, a: w.call(a, "PATCH", _p(w), json={"name": "Renamed"}),
        (404, 403, 403, 200, 200, 403),
    ),
    ("DELETE project", lambda w, a: w.call(a, "DELETE", _p(w)), (404, 403, 403, 403, 200, 403)),
    (
        "GET members",
        lambda w, a: w.call(a, "GET", f"{_p(w)}/members"),
        (404, 200, 200, 200, 200, 200),
    ),
    (
        "POST member",
        lambda w, a: w.call(
            a,
            "POST",
            f"{_p(w)}/members",
            json={"email": w.people["newcomer"]["user"]["email"], "role": "viewer"},
        ),
        (404, 403, 403, 201, 201, 403),
    ),
    (
        "PATCH member",
        lambda w, a: w.call(a, "PATCH", f"{_p(w)}/members/{_spare(w)}", json={"role": "editor"}),
        (404, 403, 403, 200, 200, 403),
    ),
    (
        "DELETE member",
        lambda w, a: w.call(a, "DELETE", f"{_p(w)}/members/{_spare(w)}"),
        (404, 403, 403, 200, 200, 403),
    ),
    (
        "POST transfer",
        lambda w, a: w.call(a, "POST", f"{_p(w)}/transfer", json={"userId": _spare(w)}),
        (404, 403, 403, 403, 200, 403),
    ),
    ("GET teams", lambda w, a: w.call(a, "GET", f"{_p(w)}/teams"), (404, 200, 200, 200, 200, 200)),
    (
        "POST team",
        lambda w, a: w.call(a, "POST", f"{_p(w)}/teams", json={"teamId": w.team["id"]}),
        (404, 403, 403, 201, 201, 403),
    ),
    (
        "GET project tasks",
        lambda w, a: w.call(a, "GET", "/tasks", params={"projectId": w.project["id"]}),
        (404, 200, 200, 200, 200, 200),
    ),
    (
        "GET project stats",
        lambda w, a: w.call(a, "GET", "/tasks/stats", params={"projectId": w.project["id"]}),
        (404, 200, 200, 200, 200, 200),
    ),
    (
        "POST task in project",
        lambda w, a: w.call(
            a, "POST", "/tasks", json={"title": "New one", "projectId": w.project["id"]}
        ),
        (404, 403, 201, 201, 201, 403),
    ),
    (
        "GET task",
        lambda w, a: w.call(a, "GET", f"/tasks/{w.task['id']}"),
        (404, 200, 200, 200, 200, 200),
    ),
    (
        "PATCH task",
        lambda w, a: w.call(a, "PATCH", f"/tasks/{w.task['id']}", json={"priority": "high"}),
        (404, 403, 200, 200, 200, 200),
    ),
    (
        "PUT task",
        lambda w, a: w.call(a, "PUT", f"/tasks/{w.task['id']}", json={"status": "completed"}),
        (404, 403, 200, 200, 200, 200),
    ),
    (
        "DELETE task",
        lambda w, a: w.call(a, "DELETE", f"/tasks/{w.task['id']}"),
        (404, 403, 200, 200, 200, 200),
    ),
]


async def _people(client: httpx.AsyncClient, app: Any) -> dict[str, dict[str, Any]]:
    people = {
        name: await register(client, name.title())
        for name in ("outsider", "viewer", "editor", "admin", "owner", "spare", "newcomer")
    }
    people["account_admin"] = await register_admin(client, app.state.services.database)
    return people


async def _world(client: httpx.AsyncClient, people: dict[str, dict[str, Any]], actor: str) -> World:
    owner = bearer(people["owner"])
    created = await client.post("/api/v1/projects", json={"name": "Guarded"}, headers=owner)
    project = created.json()["data"]
    for name, role in (("admin", "admin"), ("editor", "editor"), ("viewer", "viewer")):
        body = {"email": people[name]["user"]["email"], "role": role}
        added = await client.post(
            f"/api/v1/projects/{project['id']}/members", json=body, headers=owner
        )
        assert added.status_code == 201, added.text
    body = {"email": people["spare"]["user"]["email"], "role": "viewer"}
    await client.post(f"/api/v1/projects/{project['id']}/members", json=body, headers=owner)
    task_body = {"title": "Guarded task", "projectId": project["id"]}
    task = await client.post("/api/v1/tasks", json=task_body, headers=bearer(people["editor"]))
    team = await client.post(
        "/api/v1/teams", json={"name": "Actor's team"}, headers=bearer(people[actor])
    )
    return World(client, people, project, task.json()["data"], team.json()["data"])


@pytest.mark.parametrize(("route", "request_of", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_route_answers_each_role_as_documented(
    app: Any,
    client: httpx.AsyncClient,
    route: str,
    request_of: Request,
    expected: tuple[int, ...],
) -> None:
    people = await _people(client, app)
    answers = {}
    for actor in ACTORS:
        world = await _world(client, people, actor)  # a fresh project: writes don't carry over
        response = await request_of(world, actor)
        answers[actor] = response.status_code
        if response.status_code >= 400:
            assert response.json()["success"] is False  # the envelope, never a bare error
    assert answers == dict(zip(ACTORS, expected, strict=True)), route


async def test_mass_assignment_is_refused(app: Any, client: httpx.AsyncClient) -> None:
    people = await _people(client, app)
    world = await _world(client, people, "editor")
    elsewhere = await client.post(
        "/api/v1/projects", json={"name": "Not mine"}, headers=bearer(people["outsider"])
    )
    foreign = elsewhere.json()["data"]["id"]
    # A task put in, or moved to, a project the caller can't write.
    created = await world.call(
        "editor", "POST", "/tasks", json={"title": "Sneaky", "projectId": foreign}
    )
    assert created.status_code == 404
    moved = await world.call(
        "editor", "PATCH", f"/tasks/{world.task['id']}", json={"projectId": foreign}
    )
    assert moved.status_code == 404
    # Ownership through a role change, and fields a member or project doesn't have.
    owner_role = await world.call(
        "admin", "PATCH", f"{_p(world)}/members/{_spare(world)}", json={"role": "owner"}
    )
    assert owner_role.status_code == 400
    for body in ({"isInbox": True}, {"name": "ok", "role": "owner"}):
        assert (await world.call("owner", "PATCH", _p(world), json=body)).status_code == 400
    project = await world.call("owner", "GET", _p(world))
    assert project.json()["data"]["isInbox"] is False
