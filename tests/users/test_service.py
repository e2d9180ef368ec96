"""Admin rules: the last active admin is protected, even against concurrent demotions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from taskyard.db import Database
from taskyard.users.repository import UserRepository
from tests.helpers import bearer, register, register_admin


async def test_last_admin_cannot_be_demoted_deactivated_or_deleted(
    app: Any, client: httpx.AsyncClient
) -> None:
    admin = await register_admin(client, app.state.services.database)
    url = f"/api/v1/users/{admin['user']['id']}"
    for response in (
        await client.patch(url, json={"role": "user"}, headers=bearer(admin)),
        await client.patch(url, json={"isActive": False}, headers=bearer(admin)),
        await client.delete(url, headers=bearer(admin)),
    ):
        assert response.status_code == 409
        assert response.json()["success"] is False
    # Renaming is harmless.
    renamed = await client.patch(url, json={"name": "Still Admin"}, headers=bearer(admin))
    assert renamed.status_code == 200


async def test_an_admin_can_step_down_when_another_remains(
    app: Any, client: httpx.AsyncClient
) -> None:
    database: Database = app.state.services.database
    first, second = await register_admin(client, database), await register_admin(client, database)
    response = await client.patch(
        f"/api/v1/users/{first['user']['id']}", json={"role": "user"}, headers=bearer(first)
    )
    assert response.status_code == 200
    last = await client.delete(f"/api/v1/users/{second['user']['id']}", headers=bearer(second))
    assert last.status_code == 409


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: Any, client: httpx.AsyncClient
) -> None:
    database: Database = app.state.services.database
    first, second = await register_admin(client, database), await register_admin(client, database)
    responses = await asyncio.gather(
        client.patch(
            f"/api/v1/users/{second['user']['id']}", json={"role": "user"}, headers=bearer(first)
        ),
        client.patch(
            f"/api/v1/users/{first['user']['id']}", json={"role": "user"}, headers=bearer(second)
        ),
    )
    statuses = sorted(response.status_code for response in responses)
    # One wins; the other is refused as the last admin, or is no longer an admin at all.
    assert statuses[0] == 200
    assert statuses[1] in {403, 409}
    async with database.session(write=False) as session:
        assert len(await UserRepository(session).lock_active_admin_ids()) == 1


async def test_deactivating_revokes_every_session(app: Any, client: httpx.AsyncClient) -> None:
    admin = await register_admin(client, app.state.services.database)
    person = await register(client)
    other_login = await client.post(
        "/api/v1/auth/login",
        json={"email": person["user"]["email"], "password": "correct-horse-battery"},
    )
    assert other_login.status_code == 200
    await client.patch(
        f"/api/v1/users/{person['user']['id']}", json={"isActive": False}, headers=bearer(admin)
    )
    await client.patch(
        f"/api/v1/users/{person['user']['id']}", json={"isActive": True}, headers=bearer(admin)
    )
    for auth in (person, other_login.json()["data"]):
        assert (await client.get("/api/v1/auth/me", headers=bearer(auth))).status_code == 401
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refreshToken": auth["refreshToken"]}
        )
        assert refresh.status_code == 401
