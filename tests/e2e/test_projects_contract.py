"""Shared projects end to end, on SQLite, PostgreSQL and the split services: the personal
project, members and their roles, teams, and tasks in projects."""

from __future__ import annotations

from typing import Any

import httpx

from tests.serving import Server, bearer, register


def _data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def _project(http: httpx.Client, owner: dict[str, Any], name: str = "Launch") -> dict[str, Any]:
    created = http.post("/projects", json={"name": name}, headers=bearer(owner))
    assert created.headers["location"].endswith(f"/projects/{created.json()['data']['id']}")
    project: dict[str, Any] = _data(created, 201)
    return project


def _add(
    http: httpx.Client, project: dict[str, Any], by: dict[str, Any], who: dict[str, Any], role: str
) -> httpx.Response:
    body = {"email": who["user"]["email"], "role": role}
    return http.post(f"/projects/{project['id']}/members", json=body, headers=bearer(by))


def test_everyone_has_a_personal_project_their_tasks_go_to(
    http: httpx.Client, server: Server, user: Any
) -> None:
    projects = http.get("/projects", headers=bearer(user)).json()
    assert set(projects) == {"success", "count", "total", "page", "pages", "data"}
    (inbox,) = projects["data"]
    assert inbox["isInbox"] is True
    assert inbox["role"] == "owner"
    task = _data(http.post("/tasks", json={"title": "Loose end"}, headers=bearer(user)), 201)
    assert task["projectId"] == inbox["id"]
    inbox_tasks = http.get("/tasks", params={"projectId": inbox["id"]}, headers=bearer(user))
    assert [t["id"] for t in inbox_tasks.json()["data"]] == [task["id"]]
    # It can be neither shared nor deleted.
    stranger = register(server, "Stranger")
    assert _add(http, inbox, user, stranger, "viewer").status_code == 409
    assert http.delete(f"/projects/{inbox['id']}", headers=bearer(user)).status_code == 409


def test_members_see_the_project_and_act_by_role(http: httpx.Client, server: Server) -> None:
    owner, editor, viewer, outsider = (
        register(server, name) for name in ("Olga", "Ed", "Vi", "Out")
    )
    project = _project(http, owner)
    assert _data(_add(http, project, owner, editor, "editor"), 201)["role"] == "editor"
    assert _data(_add(http, project, owner, viewer, "viewer"), 201)["role"] == "viewer"
    assert _add(http, project, owner, viewer, "editor").status_code == 409
    unknown = {"email": "nobody-here@example.com", "role": "viewer"}
    assert (
        http.post(
            f"/projects/{project['id']}/members", json=unknown, headers=bearer(owner)
        ).status_code
        == 404
    )

    body = {"title": "Ship it", "projectId": project["id"], "assigneeId": viewer["user"]["id"]}
    task = _data(http.post("/tasks", json=body, headers=bearer(editor)), 201)
    assert task["projectId"] == project["id"]
    url = f"/tasks/{task['id']}"

    # Every member reads it and the project's list; the outsider learns nothing of either.
    for member in (owner, editor, viewer):
        assert _data(http.get(url, headers=bearer(member)))["title"] == "Ship it"
        listed = http.get("/tasks", params={"projectId": project["id"]}, headers=bearer(member))
        assert [t["id"] for t in listed.json()["data"]] == [task["id"]]
        mine = _data(http.get(f"/projects/{project['id']}", headers=bearer(member)))
        assert mine["role"] == {owner["token"]: "owner", editor["token"]: "editor"}.get(
            member["token"], "viewer"
        )
    assert http.get(url, headers=bearer(outsider)).status_code == 404
    assert http.get(f"/projects/{project['id']}", headers=bearer(outsider)).status_code == 404
    outside_list = http.get("/tasks", params={"projectId": project["id"]}, headers=bearer(outsider))
    assert outside_list.status_code == 404
    # "Tasks I created" stays what it was: the owner created nothing.
    assert http.get("/tasks", headers=bearer(owner)).json()["total"] == 0

    # A viewer reads but doesn't write (an assignee's status aside); an editor writes.
    assert http.patch(url, json={"title": "Viewer's"}, headers=bearer(viewer)).status_code == 403
    assert _data(http.patch(url, json={"title": "Owner's"}, headers=bearer(owner)))["title"] == (
        "Owner's"
    )
    # The editor's next read shows the owner's write at once.
    assert _data(http.get(url, headers=bearer(editor)))["title"] == "Owner's"
    stats = _data(
        http.get("/tasks/stats", params={"projectId": project["id"]}, headers=bearer(viewer))
    )
    assert stats["total"] == 1

    # Only members can be given its tasks.
    foreign = {"assigneeId": outsider["user"]["id"]}
    assert http.patch(url, json=foreign, headers=bearer(editor)).status_code == 400
    # Moved by the owner to the owner's personal project, the editor's task keeps its assignee:
    # anyone may be given a task there, though nobody else can join it.
    inbox = {"projectId": owner["user"]["id"]}
    moved = _data(http.patch(url, json=inbox, headers=bearer(owner)))
    assert (moved["projectId"], moved["assignee"]["id"]) == (
        inbox["projectId"],
        viewer["user"]["id"],
    )
    back = {"projectId": project["id"]}
    assert _data(http.patch(url, json=back, headers=bearer(owner)))["projectId"] == project["id"]

    # Removing a member bites on their very next request.
    removed = http.delete(
        f"/projects/{project['id']}/members/{editor['user']['id']}", headers=bearer(owner)
    )
    assert removed.status_code == 200
    assert (
        http.get("/tasks", params={"projectId": project["id"]}, headers=bearer(editor)).status_code
        == 404
    )


def test_the_owner_stays_until_the_project_is_handed_over(
    http: httpx.Client, server: Server
) -> None:
    owner, admin, member = (register(server, name) for name in ("Owen", "Ada", "Mo"))
    project = _project(http, owner)
    _add(http, project, owner, admin, "admin")
    _add(http, project, owner, member, "viewer")
    members = f"/projects/{project['id']}/members"
    owner_id = owner["user"]["id"]
    assert http.delete(f"{members}/{owner_id}", headers=bearer(admin)).status_code == 409
    assert (
        http.patch(
            f"{members}/{owner_id}", json={"role": "viewer"}, headers=bearer(admin)
        ).status_code
        == 409
    )
    # Ownership is never given through a role change.
    assert (
        http.patch(
            f"{members}/{member['user']['id']}", json={"role": "owner"}, headers=bearer(owner)
        ).status_code
        == 400
    )
    # Only the owner deletes, and hands over.
    assert http.delete(f"/projects/{project['id']}", headers=bearer(admin)).status_code == 403
    transfer = f"/projects/{project['id']}/transfer"
    assert (
        http.post(transfer, json={"userId": admin["user"]["id"]}, headers=bearer(admin)).status_code
        == 403
    )
    handed = http.post(transfer, json={"userId": admin["user"]["id"]}, headers=bearer(owner))
    assert _data(handed)["role"] == "owner"
    roles = {m["id"]: m["role"] for m in _data(http.get(members, headers=bearer(member)))}
    assert roles == {
        owner_id: "admin",
        admin["user"]["id"]: "owner",
        member["user"]["id"]: "viewer",
    }
    # A member may leave.
    assert (
        http.delete(f"{members}/{member['user']['id']}", headers=bearer(member)).status_code == 200
    )
    assert http.get(f"/projects/{project['id']}", headers=bearer(member)).status_code == 404
    # The new owner deletes it, and its tasks go with it.
    task = _data(
        http.post(
            "/tasks", json={"title": "Doomed", "projectId": project["id"]}, headers=bearer(owner)
        ),
        201,
    )
    assert http.delete(f"/projects/{project['id']}", headers=bearer(admin)).status_code == 200
    assert http.get(f"/tasks/{task['id']}", headers=bearer(owner)).status_code == 404


def test_a_team_shares_a_project_with_all_its_members(http: httpx.Client, server: Server) -> None:
    lead, mate, owner = (register(server, name) for name in ("Lead", "Mate", "Pat"))
    team = _data(http.post("/teams", json={"name": "Platform"}, headers=bearer(lead)), 201)
    assert team["isManager"] is True
    team_members = f"/teams/{team['id']}/members"
    added = http.post(team_members, json={"email": mate["user"]["email"]}, headers=bearer(lead))
    assert _data(added, 201)["isManager"] is False
    # Only the manager changes the team; outsiders don't see it.
    assert (
        http.post(
            team_members, json={"email": owner["user"]["email"]}, headers=bearer(mate)
        ).status_code
        == 403
    )
    assert http.get(team_members, headers=bearer(owner)).status_code == 404

    # The project's owner joins the team, then shares the project with it.
    http.post(team_members, json={"email": owner["user"]["email"]}, headers=bearer(lead))
    project = _project(http, owner, "Platform work")
    shares = f"/projects/{project['id']}/teams"
    shared = http.post(shares, json={"teamId": team["id"], "role": "editor"}, headers=bearer(owner))
    assert _data(shared, 201)["role"] == "editor"
    task = _data(
        http.post(
            "/tasks", json={"title": "Team work", "projectId": project["id"]}, headers=bearer(mate)
        ),
        201,
    )
    # The highest of a person's own role and their team's counts.
    _add(http, project, owner, lead, "admin")
    assert _data(http.get(f"/projects/{project['id']}", headers=bearer(lead)))["role"] == "admin"
    assert _data(http.get(f"/projects/{project['id']}", headers=bearer(mate)))["role"] == "editor"

    # Once the team loses the project, its members are refused at once.
    assert http.delete(f"{shares}/{team['id']}", headers=bearer(owner)).status_code == 200
    assert http.get(f"/tasks/{task['id']}", headers=bearer(lead)).status_code == 200  # by name
    assert http.get(f"/tasks/{task['id']}", headers=bearer(mate)).status_code == 200  # creator
    other = _data(
        http.post(
            "/tasks", json={"title": "Not yours", "projectId": project["id"]}, headers=bearer(owner)
        ),
        201,
    )
    assert http.get(f"/tasks/{other['id']}", headers=bearer(mate)).status_code == 404
