"""Work in a shared project end to end, on SQLite, PostgreSQL and the split services: labels,
comments, the activity trail, the board and repeating tasks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.serving import Server, bearer, register


def _data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


@pytest.fixture
def team(http: httpx.Client, server: Server) -> dict[str, Any]:
    """A project with its owner, an editor and a viewer."""
    owner, editor, viewer = (register(server, name) for name in ("Owner", "Editor", "Viewer"))
    project = _data(http.post("/projects", json={"name": "Board"}, headers=bearer(owner)), 201)
    for person, role in ((editor, "editor"), (viewer, "viewer")):
        body = {"email": person["user"]["email"], "role": role}
        _data(
            http.post(f"/projects/{project['id']}/members", json=body, headers=bearer(owner)), 201
        )
    return {"project": project, "owner": owner, "editor": editor, "viewer": viewer}


def _task(http: httpx.Client, team: dict[str, Any], title: str, **body: Any) -> dict[str, Any]:
    body = {"title": title, "projectId": team["project"]["id"], **body}
    task: dict[str, Any] = _data(
        http.post("/tasks", json=body, headers=bearer(team["editor"])), 201
    )
    return task


def test_labels_belong_to_a_project_and_filter_its_tasks(
    http: httpx.Client, team: dict[str, Any], server: Server
) -> None:
    labels = f"/projects/{team['project']['id']}/labels"
    owner = bearer(team["owner"])
    urgent = _data(
        http.post(labels, json={"name": "Urgent", "color": "#FF0000"}, headers=owner), 201
    )
    assert urgent["color"] == "#ff0000"
    later = _data(http.post(labels, json={"name": "Later", "color": "#00ff00"}, headers=owner), 201)
    # Editors don't manage labels; colors are #rrggbb.
    editor = bearer(team["editor"])
    assert http.post(labels, json={"name": "X", "color": "#fff"}, headers=owner).status_code == 400
    assert (
        http.post(labels, json={"name": "X", "color": "#ffffff"}, headers=editor).status_code == 403
    )

    first, second = _task(http, team, "First"), _task(http, team, "Second")
    tagged = http.patch(f"/tasks/{first['id']}", json={"labels": [urgent["id"]]}, headers=editor)
    assert _data(tagged)["labels"] == [urgent["id"]]
    # A label of another project is refused, as any field the task doesn't have.
    other = _data(http.post("/projects", json={"name": "Other"}, headers=owner), 201)
    foreign = _data(
        http.post(
            f"/projects/{other['id']}/labels",
            json={"name": "Elsewhere", "color": "#000000"},
            headers=owner,
        ),
        201,
    )
    assert (
        http.patch(
            f"/tasks/{second['id']}", json={"labels": [foreign["id"]]}, headers=editor
        ).status_code
        == 400
    )
    assert (
        http.patch(f"/tasks/{second['id']}", json={"colour": "red"}, headers=editor).status_code
        == 400
    )

    def titles(label: str) -> list[str]:
        params = {"projectId": team["project"]["id"], "label": label}
        return [
            t["title"] for t in http.get("/tasks", params=params, headers=editor).json()["data"]
        ]

    assert titles(urgent["id"]) == ["First"]
    assert titles(later["id"]) == []
    # A deleted label comes off its tasks.
    assert http.delete(f"{labels}/{urgent['id']}", headers=owner).status_code == 200
    assert _data(http.get(f"/tasks/{first['id']}", headers=editor))["labels"] == []


def test_comments_are_read_by_members_and_written_by_contributors(
    http: httpx.Client, team: dict[str, Any], server: Server
) -> None:
    task = _task(http, team, "Discuss")
    comments = f"/tasks/{task['id']}/comments"
    editor, viewer, owner = (bearer(team[role]) for role in ("editor", "viewer", "owner"))
    said = _data(http.post(comments, json={"body": "**Markdown** stays text"}, headers=editor), 201)
    assert said["body"] == "**Markdown** stays text"
    assert http.post(comments, json={"body": "Me too"}, headers=viewer).status_code == 403
    assert http.post(comments, json={"body": ""}, headers=editor).status_code == 400
    assert http.post(comments, json={"body": "x" * 5001}, headers=editor).status_code == 400
    listed = http.get(comments, headers=viewer).json()
    assert [c["body"] for c in listed["data"]] == ["**Markdown** stays text"]
    outsider = register(server, "Nosy")
    assert http.get(comments, headers=bearer(outsider)).status_code == 404
    # Only the author edits; the project's admins (its owner) may delete.
    one = f"{comments}/{said['id']}"
    assert http.patch(one, json={"body": "Owner's words"}, headers=owner).status_code == 403
    assert _data(http.patch(one, json={"body": "Edited"}, headers=editor))["body"] == "Edited"
    assert http.delete(one, headers=viewer).status_code == 403
    assert http.delete(one, headers=owner).status_code == 200
    assert http.get(comments, headers=viewer).json()["total"] == 0


def test_the_activity_trail_says_who_did_what(http: httpx.Client, team: dict[str, Any]) -> None:
    task = _task(http, team, "Tracked")
    editor, owner = bearer(team["editor"]), bearer(team["owner"])
    http.patch(
        f"/tasks/{task['id']}", json={"title": "Tracked well", "priority": "high"}, headers=owner
    )
    http.post(f"/tasks/{task['id']}/comments", json={"body": "Done soon"}, headers=editor)
    trail = http.get(f"/tasks/{task['id']}/activity", headers=bearer(team["viewer"])).json()
    assert set(trail) == {"success", "count", "total", "page", "pages", "data"}
    entries = [
        (e["action"], e["field"], e["oldValue"], e["newValue"], e["actor"]["name"])
        for e in trail["data"]
    ]
    commented, *changes, created = entries
    assert created == ("created", None, None, None, "Editor")
    assert sorted(changes) == [
        ("changed", "priority", "medium", "high", "Owner"),
        ("changed", "title", "Tracked", "Tracked well", "Owner"),
    ]
    assert commented[:2] == ("commented", "comment")


def test_the_board_orders_a_column_with_one_row_per_move(
    http: httpx.Client, team: dict[str, Any]
) -> None:
    editor = bearer(team["editor"])
    a, b, c = (_task(http, team, title) for title in ("Aaa", "Bbb", "Ccc"))

    def column(status: str) -> list[str]:
        params = {"projectId": team["project"]["id"], "status": status, "sort": "position"}
        return [
            t["title"] for t in http.get("/tasks", params=params, headers=editor).json()["data"]
        ]

    assert column("pending") == ["Aaa", "Bbb", "Ccc"]
    # C between A and B; then A to the end; then B to another column, first.
    moved = http.post(
        f"/tasks/{c['id']}/move", json={"status": "pending", "afterId": a["id"]}, headers=editor
    )
    assert _data(moved)["status"] == "pending"
    assert column("pending") == ["Aaa", "Ccc", "Bbb"]
    http.post(f"/tasks/{a['id']}/move", json={"status": "pending"}, headers=editor)
    assert column("pending") == ["Ccc", "Bbb", "Aaa"]
    moved = http.post(f"/tasks/{b['id']}/move", json={"status": "in-progress"}, headers=editor)
    assert _data(moved)["status"] == "in-progress"
    assert column("pending") == ["Ccc", "Aaa"]
    assert column("in-progress") == ["Bbb"]
    # Before C: the column's first.
    http.post(
        f"/tasks/{a['id']}/move", json={"status": "pending", "beforeId": c["id"]}, headers=editor
    )
    assert column("pending") == ["Aaa", "Ccc"]
    # A neighbour from another project, or a viewer's move, is refused.
    elsewhere = _data(http.post("/tasks", json={"title": "Mine"}, headers=editor), 201)
    bad = {"status": "pending", "afterId": elsewhere["id"]}
    assert http.post(f"/tasks/{a['id']}/move", json=bad, headers=editor).status_code == 400
    viewer_move = http.post(
        f"/tasks/{a['id']}/move", json={"status": "completed"}, headers=bearer(team["viewer"])
    )
    assert viewer_move.status_code == 403
    trail = http.get(f"/tasks/{b['id']}/activity", headers=editor).json()["data"]
    assert (trail[0]["action"], trail[0]["oldValue"], trail[0]["newValue"]) == (
        "moved",
        "pending",
        "in-progress",
    )


def test_a_repeating_task_comes_back_when_done(http: httpx.Client, team: dict[str, Any]) -> None:
    editor = bearer(team["editor"])
    task = _task(http, team, "Pay rent", dueDate="2027-01-31", repeat={"every": 1, "unit": "month"})
    assert task["repeat"] == {"every": 1, "unit": "month"}
    done = _data(http.patch(f"/tasks/{task['id']}", json={"status": "completed"}, headers=editor))
    assert done["status"] == "pending"
    assert done["dueDate"].startswith("2027-02-28")  # the end of February, not 3 March
    again = _data(http.put(f"/tasks/{task['id']}", json={"status": "completed"}, headers=editor))
    assert again["dueDate"].startswith("2027-03-28")
    trail = http.get(f"/tasks/{task['id']}/activity", headers=editor).json()["data"]
    assert [e["action"] for e in trail].count("completed") == 2
    # A rule out of range is refused; null stops the repeat.
    for rule in ({"every": 0, "unit": "day"}, {"every": 2, "unit": "year"}):
        assert (
            http.patch(f"/tasks/{task['id']}", json={"repeat": rule}, headers=editor).status_code
            == 400
        )
    stopped = _data(http.patch(f"/tasks/{task['id']}", json={"repeat": None}, headers=editor))
    assert stopped["repeat"] is None
    final = _data(http.patch(f"/tasks/{task['id']}", json={"status": "completed"}, headers=editor))
    assert final["status"] == "completed"
