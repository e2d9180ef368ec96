"""Personal API tokens: issued once, used within their scopes, refused at once when revoked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from taskyard.api_tokens.models import ApiToken
from tests.helpers import bearer, register, register_admin, running_app
from tests.identity.test_store import statements
from tests.support import make_settings, settings_with_shared_state, unique_prefix

TOKENS = "/api/v1/auth/tokens"
ALL_SCOPES = ["tasks:read", "tasks:write", "projects:read", "projects:write"]


@asynccontextmanager
async def two_instances(database_url: str, redis_url: str) -> AsyncIterator[tuple[Any, ...]]:
    """Two instances on one database and one Redis: their apps, then their clients."""
    settings = make_settings(database_url, redis_url=redis_url, redis_key_prefix=unique_prefix())
    async with (
        running_app(settings) as (first_app, first),
        running_app(settings) as (
            second_app,
            second,
        ),
    ):
        yield first_app, second_app, first, second


@pytest.fixture(params=["in-process", "redis"])
def token_settings(request: pytest.FixtureRequest, database_url: str) -> Any:
    return settings_with_shared_state(request, database_url, request.param)


async def issue(
    client: httpx.AsyncClient, auth: dict[str, Any], scopes: list[str], **extra: Any
) -> dict[str, Any]:
    created = await client.post(
        TOKENS, json={"name": "Script", "scopes": scopes, **extra}, headers=bearer(auth)
    )
    assert created.status_code == 201, created.text
    data: dict[str, Any] = created.json()["data"]
    return data


def using(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['token']}"}


async def test_a_token_is_shown_once_and_stored_as_its_hash_only(token_settings: Any) -> None:
    async with running_app(token_settings) as (app, client):
        auth = await register(client)
        token = await issue(client, auth, ["tasks:read"])
        secret = token["token"]
        assert secret.startswith("ty_pat_")
        assert len(secret) >= len("ty_pat_") + 43
        assert set(secret.removeprefix("ty_pat_")) <= set(
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        )
        assert token["prefix"] == secret[:12]
        listed = (await client.get(TOKENS, headers=bearer(auth))).json()["data"]
        assert [(t["id"], t["name"], t["scopes"]) for t in listed] == [
            (token["id"], "Script", ["tasks:read"])
        ]
        assert "token" not in listed[0]
        async with app.state.services.database.session(write=False) as session:
            row = (await session.scalars(select(ApiToken))).one()
        assert secret not in {row.token_hash, row.prefix, row.name, row.scopes}
        assert len(row.token_hash) == 64


async def test_a_token_works_within_its_scopes_only(token_settings: Any) -> None:
    async with running_app(token_settings) as (_, client):
        auth = await register(client)
        reader = await issue(client, auth, ["tasks:read"])
        writer = await issue(client, auth, ["tasks:read", "tasks:write"])

        created = await client.post(
            "/api/v1/tasks", json={"title": "By script"}, headers=using(writer)
        )
        assert created.status_code == 201
        assert created.json()["data"]["createdBy"]["id"] == auth["user"]["id"]
        listed = await client.get("/api/v1/tasks", headers=using(reader))
        assert listed.status_code == 200
        assert listed.json()["total"] == 1
        cached = await client.get("/api/v1/tasks", headers=using(reader))
        assert cached.json()["total"] == 1
        assert cached.headers["x-cache"] == "HIT"

        refused = await client.post("/api/v1/tasks", json={"title": "No"}, headers=using(reader))
        assert refused.status_code == 403
        assert refused.json()["success"] is False
        assert (await client.get("/api/v1/projects", headers=using(writer))).status_code == 403
        # Never the account, its tokens or its sessions.
        for method, path in (
            ("GET", "/api/v1/auth/me"),
            ("GET", TOKENS),
            ("POST", "/api/v1/auth/logout"),
            ("DELETE", f"{TOKENS}/{reader['id']}"),
            ("GET", "/api/v1/users"),
        ):
            answer = await client.request(method, path, headers=using(writer))
            assert answer.status_code == 403, (method, path, answer.text)
        assert (await client.get("/api/v1/tasks", headers=using(reader))).status_code == 200


async def test_admin_rights_never_pass_to_a_token(token_settings: Any) -> None:
    async with running_app(token_settings) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        other = await register(client, "Other")
        task = await client.post("/api/v1/tasks", json={"title": "Theirs"}, headers=bearer(other))
        token = await issue(client, admin, ALL_SCOPES)
        assert (
            await client.get("/api/v1/tasks/admin/all", headers=bearer(admin))
        ).status_code == 200
        assert (
            await client.get("/api/v1/tasks/admin/all", headers=using(token))
        ).status_code == 403
        theirs = f"/api/v1/tasks/{task.json()['data']['id']}"
        assert (await client.get(theirs, headers=bearer(admin))).status_code == 200
        assert (await client.get(theirs, headers=using(token))).status_code == 404


async def test_a_revoked_or_expired_token_is_refused(token_settings: Any) -> None:
    async with running_app(token_settings) as (_, client):
        auth = await register(client)
        token = await issue(client, auth, ["tasks:read"])
        assert (await client.get("/api/v1/tasks", headers=using(token))).status_code == 200
        revoked = await client.delete(f"{TOKENS}/{token['id']}", headers=bearer(auth))
        assert revoked.status_code == 200
        assert (await client.get("/api/v1/tasks", headers=using(token))).status_code == 401
        assert (await client.get(TOKENS, headers=bearer(auth))).json()["data"] == []
        again = await client.delete(f"{TOKENS}/{token['id']}", headers=bearer(auth))
        assert again.status_code == 404

        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        refused = await client.post(
            TOKENS,
            json={"name": "Old", "scopes": ["tasks:read"], "expiresAt": past},
            headers=bearer(auth),
        )
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "expiresAt"
        assert (
            await client.get("/api/v1/tasks", headers={"Authorization": "Bearer ty_pat_nope"})
        ).status_code == 401


async def test_someone_else_cannot_revoke_a_token(token_settings: Any) -> None:
    async with running_app(token_settings) as (_, client):
        owner, other = await register(client, "Owner"), await register(client, "Other")
        token = await issue(client, owner, ["tasks:read"])
        answer = await client.delete(f"{TOKENS}/{token['id']}", headers=bearer(other))
        assert answer.status_code == 404
        assert (await client.get("/api/v1/tasks", headers=using(token))).status_code == 200


async def test_bad_input_is_a_clear_400(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (_, client):
        auth = await register(client)
        for body in (
            {"name": "x", "scopes": []},
            {"name": "x", "scopes": ["tasks:admin"]},
            {"name": "", "scopes": ["tasks:read"]},
            {"name": "x", "scopes": ["tasks:read"], "userId": auth["user"]["id"]},
        ):
            answer = await client.post(TOKENS, json=body, headers=bearer(auth))
            assert answer.status_code == 400, body
            assert answer.json()["success"] is False


async def test_revoking_bites_on_the_next_request_at_another_instance(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (_, second_app, first, second):
        auth = await register(first)
        token = await issue(first, auth, ["tasks:read"])
        for _ in range(2):
            assert (await second.get("/api/v1/tasks", headers=using(token))).status_code == 200
        # Warm: the second instance resolves the token from memory, no database at all.
        with statements(second_app) as sent:
            assert (await second.get("/api/v1/tasks", headers=using(token))).status_code == 200
        assert sent == [], sent
        assert (await first.delete(f"{TOKENS}/{token['id']}", headers=bearer(auth))).is_success
        assert (await second.get("/api/v1/tasks", headers=using(token))).status_code == 401


async def test_deactivating_the_person_refuses_their_tokens(
    database_url: str, redis_url: str
) -> None:
    async with two_instances(database_url, redis_url) as (first_app, _, first, second):
        admin = await register_admin(first, first_app.state.services.database)
        auth = await register(first)
        token = await issue(first, auth, ["tasks:read"])
        assert (await second.get("/api/v1/tasks", headers=using(token))).status_code == 200
        changed = await first.patch(
            f"/api/v1/users/{auth['user']['id']}", json={"isActive": False}, headers=bearer(admin)
        )
        assert changed.status_code == 200
        assert (await second.get("/api/v1/tasks", headers=using(token))).status_code == 401


async def test_each_token_has_its_own_rate_limit(database_url: str) -> None:
    async with running_app(make_settings(database_url, rate_limit="3/hour")) as (_, client):
        auth = await register(client)
        # Issuing tokens counts against the person's own limit: two of its three.
        first = await issue(client, auth, ["tasks:read"])
        second = await issue(client, auth, ["tasks:read"])
        for _ in range(3):
            assert (await client.get("/api/v1/tasks", headers=using(first))).status_code == 200
        limited = await client.get("/api/v1/tasks", headers=using(first))
        assert limited.status_code == 429
        assert "retry-after" in limited.headers
        assert (await client.get("/api/v1/tasks", headers=using(second))).status_code == 200
        assert (await client.get("/api/v1/tasks", headers=bearer(auth))).status_code == 200


async def test_a_token_past_its_expiry_is_refused(token_settings: Any) -> None:
    async with running_app(token_settings) as (app, client):
        auth = await register(client)
        soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        token = await issue(client, auth, ["tasks:read"], expiresAt=soon)
        assert token["expiresAt"] is not None
        assert (await client.get("/api/v1/tasks", headers=using(token))).status_code == 200
        # A day passes: its expiry, as stored, is now behind us.
        async with app.state.services.database.session(write=True) as session:
            row = (await session.scalars(select(ApiToken))).one()
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            await session.commit()
        # An instance that hasn't seen it yet reads it, and its expiry, from the database.
        async with running_app(token_settings) as (_, other):
            answer = await other.get("/api/v1/tasks", headers=using(token))
        assert answer.status_code == 401
        assert answer.json()["message"] == "Token expired"
