"""A deleted person's projects: shared ones go to their next member, the rest with their tasks."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import bearer, register, register_admin


async def test_a_deleted_owners_project_goes_to_the_next_member(
    app: Any, client: httpx.AsyncClient
) -> None:
    admin = await register_admin(client, app.state.services.database)
    owner, deputy, viewer = [await register(client, name) for name in ("Own", "Dep", "View")]
    shared = (
        await client.post("/api/v1/projects", json={"name": "Kept"}, headers=bearer(owner))
    ).json()["data"]
    alone = (
        await client.post("/api/v1/projects", json={"name": "Gone"}, headers=bearer(owner))
    ).json()["data"]
    for person, role in ((viewer, "viewer"), (deputy, "editor")):
        body = {"email": person["user"]["email"], "role": role}
        await client.post(
            f"/api/v1/projects/{shared['id']}/members", json=body, headers=bearer(owner)
        )
    kept = await client.post(
        "/api/v1/tasks",
        json={"title": "Deputy's", "projectId": shared["id"]},
        headers=bearer(deputy),
    )
    deleted = await client.delete(f"/api/v1/users/{owner['user']['id']}", headers=bearer(admin))
    assert deleted.status_code == 200

    project = await client.get(f"/api/v1/projects/{shared['id']}", headers=bearer(deputy))
    assert project.json()["data"]["role"] == "owner"  # the editor outranks the viewer
    task = await client.get(f"/api/v1/tasks/{kept.json()['data']['id']}", headers=bearer(viewer))
    assert task.status_code == 200
    everyone = await client.get("/api/v1/projects", params={"all": "true"}, headers=bearer(admin))
    names = {p["name"] for p in everyone.json()["data"]}
    assert "Kept" in names
    assert "Gone" not in names
    assert alone["id"] not in {p["id"] for p in everyone.json()["data"]}
