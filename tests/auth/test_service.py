"""Auth rules that need a look inside: rehashing, timing, races and expiry."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from taskyard.auth.models import RefreshToken
from taskyard.auth.passwords import PasswordService
from taskyard.db import Database, utc_now
from taskyard.users.repository import UserRepository
from tests.helpers import PASSWORD, bearer, load_user, register, running_app
from tests.support import TEST_SECRET_KEY, make_settings


async def test_login_rehashes_when_parameters_change(app: Any, client: httpx.AsyncClient) -> None:
    auth = await register(client)
    database: Database = app.state.services.database
    before = (await load_user(database, auth["user"]["id"])).password_hash
    assert before.startswith("$argon2id$v=19$m=19456,t=2,p=1$")

    stronger = make_settings(database.url, argon2_time_cost=3)
    services = app.state.services
    stronger_accounts = replace(services.require_accounts(), passwords=PasswordService(stronger))
    app.state.services = replace(services, accounts=stronger_accounts)
    response = await client.post(
        "/api/v1/auth/login", json={"email": auth["user"]["email"], "password": PASSWORD}
    )
    assert response.status_code == 200
    after = (await load_user(database, auth["user"]["id"])).password_hash
    assert after.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    assert not app.state.services.require_accounts().passwords.needs_rehash(after)


async def test_unknown_email_costs_as_much_as_a_wrong_password(client: httpx.AsyncClient) -> None:
    auth = await register(client)

    async def timed(email: str) -> float:
        # This process's CPU time (the hash runs in its threads): whatever else the machine
        # runs, a hash costs the same.
        started = time.process_time()
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "not-the-password"}
        )
        assert response.status_code == 401
        return time.process_time() - started

    pairs = [
        (await timed(auth["user"]["email"]), await timed("ghost@example.com")) for _ in range(5)
    ]
    known = statistics.median(pair[0] for pair in pairs)
    unknown = statistics.median(pair[1] for pair in pairs)
    # Without the dummy hash an unknown email answers ~100x faster; with it, about the same.
    assert unknown > known * 0.5


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refreshToken": token})


@pytest.mark.parametrize("racers", [2, 10])
async def test_concurrent_refreshes_with_one_token_all_succeed_in_the_grace_window(
    client: httpx.AsyncClient, racers: int
) -> None:
    # The original client's pattern: every request that met an expired token refreshes at once.
    auth = await register(client)
    responses = await asyncio.gather(
        *[refresh(client, auth["refreshToken"]) for _ in range(racers)]
    )
    assert [response.status_code for response in responses] == [200] * racers
    pairs = [response.json()["data"] for response in responses]
    assert len({pair["refreshToken"] for pair in pairs}) == racers
    for pair in pairs:
        assert (await client.get("/api/v1/auth/me", headers=bearer(pair))).status_code == 200
    # Each new refresh token works (once), and the session stays open.
    for pair in pairs:
        assert (await refresh(client, pair["refreshToken"])).status_code == 200


async def _spent_long_ago(database: Database, seconds: float) -> None:
    async with database.session(write=True) as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utc_now() - timedelta(seconds=seconds))
        )
        await session.commit()


async def test_reuse_after_the_grace_window_revokes_the_session(
    app: Any, client: httpx.AsyncClient
) -> None:
    auth = await register(client)
    rotated = (await refresh(client, auth["refreshToken"])).json()["data"]
    await _spent_long_ago(app.state.services.database, seconds=31)

    replay = await refresh(client, auth["refreshToken"])
    assert replay.status_code == 401
    assert "revoked" in replay.json()["message"]
    # The legitimate holder's newer tokens die with the session.
    assert (await refresh(client, rotated["refreshToken"])).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer(rotated))).status_code == 401


async def test_reuse_inside_the_window_keeps_the_session(
    app: Any, client: httpx.AsyncClient
) -> None:
    auth = await register(client)
    first = (await refresh(client, auth["refreshToken"])).json()["data"]
    await _spent_long_ago(app.state.services.database, seconds=29)
    again = await refresh(client, auth["refreshToken"])
    assert again.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(first))).status_code == 200
    assert (await refresh(client, first["refreshToken"])).status_code == 200


async def test_a_grace_of_zero_treats_any_reuse_as_theft(database_url: str) -> None:
    settings = make_settings(database_url, refresh_reuse_grace_seconds=0)
    async with running_app(settings) as (_, client):
        auth = await register(client)
        responses = await asyncio.gather(*[refresh(client, auth["refreshToken"]) for _ in range(2)])
        assert sorted(response.status_code for response in responses) == [200, 401]
        winner = next(response for response in responses if response.status_code == 200)
        assert (await refresh(client, winner.json()["data"]["refreshToken"])).status_code == 401


async def test_a_grace_of_zero_holds_when_another_instance_clock_runs_ahead(
    database_url: str,
) -> None:
    settings = make_settings(database_url, refresh_reuse_grace_seconds=0)
    async with running_app(settings) as (app, client):
        auth = await register(client)
        assert (await refresh(client, auth["refreshToken"])).status_code == 200
        await _spent_long_ago(app.state.services.database, seconds=-2)  # stamped in "the future"
        assert (await refresh(client, auth["refreshToken"])).status_code == 401


async def test_expired_refresh_token_is_refused(app: Any, client: httpx.AsyncClient) -> None:
    auth = await register(client)
    database: Database = app.state.services.database
    async with database.session(write=True) as session:
        await session.execute(
            update(RefreshToken).values(expires_at=utc_now() - timedelta(seconds=1))
        )
        await session.commit()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refreshToken": auth["refreshToken"]}
    )
    assert response.status_code == 401


async def test_expired_access_token_is_refused(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    claims = jwt.decode(auth["token"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 5
    expired = jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS256")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["message"] == "Token expired"


async def test_token_signed_with_another_hmac_algorithm_is_refused(
    client: httpx.AsyncClient,
) -> None:
    auth = await register(client)
    claims = jwt.decode(auth["token"], options={"verify_signature": False})
    other = jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS512")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 401


async def test_logout_denylists_the_access_token(app: Any, client: httpx.AsyncClient) -> None:
    auth = await register(client)
    jti = jwt.decode(auth["token"], options={"verify_signature": False})["jti"]
    assert not await app.state.services.denylist.contains(jti)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(auth))).status_code == 200
    assert await app.state.services.denylist.contains(jti)


async def test_deleted_user_token_is_refused(app: Any, client: httpx.AsyncClient) -> None:
    auth = await register(client)
    database: Database = app.state.services.database
    async with database.session(write=True) as session:
        users = UserRepository(session)
        user = await users.get(uuid.UUID(auth["user"]["id"]))
        assert user is not None
        await users.delete(user)
        await session.commit()
    assert (await client.get("/api/v1/auth/me", headers=bearer(auth))).status_code == 401


async def test_racing_registrations_for_one_email_create_one_account(
    client: httpx.AsyncClient,
) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    responses = await asyncio.gather(
        *[
            client.post(
                "/api/v1/auth/register",
                json={"name": "Racer", "email": email, "password": PASSWORD},
            )
            for _ in range(5)
        ]
    )
    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409, 409]
