"""Writers racing on one task: one lock order everywhere, so nobody deadlocks and the losers of
a race with a delete get a 404, never a 500."""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
import pytest

from tests.helpers import bearer, register, register_admin


async def test_updates_racing_deletes_get_404_and_exactly_one_delete_wins(
    app: object, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger().addHandler(caplog.handler)  # create_app replaced the handlers
    owner = await register(client)
    helper = await register(client)
    for _round in range(3):
        created = await client.post(
            "/api/v1/tasks",
            json={"title": "Contended", "assigneeEmail": helper["user"]["email"]},
            headers=bearer(owner),
        )
        path = f"/api/v1/tasks/{created.json()['data']['id']}"
        requests = [
            client.put(path, json={"title": f"Update {n}"}, headers=bearer(owner))
            for n in range(10)
        ]
        requests += [
            client.patch(path, json={"status": "completed"}, headers=bearer(helper))
            for _ in range(10)
        ]
        requests += [client.delete(path, headers=bearer(owner)) for _ in range(20)]
        random.shuffle(requests)
        responses = await asyncio.gather(*requests)

        statuses = [(r.request.method, r.status_code) for r in responses]
        assert all(status in (200, 404) for _, status in statuses), statuses
        assert [s for m, s in statuses if m == "DELETE"].count(200) == 1
        for response in responses:
            assert response.json()["success"] is (response.status_code == 200)
            if response.status_code == 404:
                assert response.json()["message"] == "Task not found"
        assert (await client.get(path, headers=bearer(owner))).status_code == 404
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems, [r.getMessage() for r in problems]
    assert not [r for r in caplog.records if "deadlock" in r.getMessage().lower()]


async def test_deleting_a_person_while_their_tasks_are_written_never_deadlocks(
    app: object, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger().addHandler(caplog.handler)
    database = app.state.services.database  # type: ignore[attr-defined]
    admin = await register_admin(client, database)
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": admin["user"]["email"], "password": "correct-horse-battery"},
    )
    admin_auth = login.json()["data"]
    owner = await register(client)
    paths = []
    for n in range(5):
        created = await client.post(
            "/api/v1/tasks", json={"title": f"Doomed {n}"}, headers=bearer(admin_auth)
        )
        task_id = created.json()["data"]["id"]
        await client.patch(
            f"/api/v1/tasks/{task_id}",
            json={"assigneeEmail": owner["user"]["email"]},
            headers=bearer(admin_auth),
        )
        paths.append(f"/api/v1/tasks/{task_id}")
    owned = await client.post("/api/v1/tasks", json={"title": "Theirs"}, headers=bearer(owner))
    paths.append(f"/api/v1/tasks/{owned.json()['data']['id']}")

    requests = [
        client.patch(path, json={"title": f"Edit {n}"}, headers=bearer(admin_auth))
        for n, path in enumerate(paths * 4)
    ]
    requests.append(
        client.delete(f"/api/v1/users/{owner['user']['id']}", headers=bearer(admin_auth))
    )
    random.shuffle(requests)
    responses = await asyncio.gather(*requests)
    assert all(r.status_code in (200, 404) for r in responses), [r.text for r in responses]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
