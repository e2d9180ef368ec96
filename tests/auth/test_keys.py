"""Ed25519 signing keys: tokens name their key, the key set verifies them anywhere, and a
rotation under traffic refuses no valid token."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from taskyard.access_tokens import FetchKeySet, KeySetVerifier
from taskyard.auth.keys import rotate
from taskyard.auth.repository import SigningKeyRepository
from taskyard.db import utc_now
from taskyard.errors import AppError
from tests.helpers import PASSWORD, bearer, register, running_app
from tests.support import TEST_SECRET_KEY, make_settings


def key_settings(database_url: str, **overrides: Any) -> Any:
    return make_settings(database_url, jwt_signing="ed25519", **overrides)


def jwks_of(client: httpx.AsyncClient) -> FetchKeySet:
    async def fetch() -> dict[str, Any]:
        response = await client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    return fetch


def remote_verifier(client: httpx.AsyncClient) -> KeySetVerifier:
    """What another service holds: only the published key set, fetched over HTTP."""
    return KeySetVerifier(jwks_of(client))


async def test_tokens_name_a_published_ed25519_key_and_verify_from_the_set_alone(
    database_url: str,
) -> None:
    async with running_app(key_settings(database_url)) as (_app, client):
        auth = await register(client)
        header = jwt.get_unverified_header(auth["token"])
        assert header["alg"] == "EdDSA"

        published = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in published] == [header["kid"]]
        assert published[0]["kty"] == "OKP"
        assert published[0]["crv"] == "Ed25519"
        assert "d" not in published[0]  # the public half only

        claims = await remote_verifier(client).verify(auth["token"])
        assert str(claims.user_id) == auth["user"]["id"]
        assert (await client.get("/api/v1/auth/me", headers=bearer(auth))).status_code == 200


async def test_forged_tokens_are_refused(database_url: str) -> None:
    async with running_app(key_settings(database_url)) as (_app, client):
        auth = await register(client)
        claims = jwt.decode(auth["token"], options={"verify_signature": False})
        kid = jwt.get_unverified_header(auth["token"])["kid"]
        forged = {
            # The shared secret no longer signs anything here.
            "hs256 with the secret": jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS256"),
            "hs256 naming the real kid": jwt.encode(
                claims, TEST_SECRET_KEY, algorithm="HS256", headers={"kid": kid}
            ),
            "an unknown kid": auth["token"].replace(
                auth["token"].split(".")[0],
                jwt.utils.base64url_encode(
                    b'{"alg":"EdDSA","kid":"not-a-key","typ":"JWT"}'
                ).decode(),
            ),
        }
        for name, token in forged.items():
            response = await client.get(
                "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, name
            assert response.json()["success"] is False


async def test_the_monolith_publishes_no_key_set(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (_app, client):
        auth = await register(client)
        assert jwt.get_unverified_header(auth["token"])["alg"] == "HS256"
        assert (await client.get("/.well-known/jwks.json")).status_code == 404


async def test_rotation_under_traffic_refuses_no_valid_token(database_url: str) -> None:
    settings = key_settings(
        database_url, signing_key_reload_seconds=0.05, signing_key_lead_seconds=0.3
    )
    async with running_app(settings) as (app, client):
        auth = await register(client)
        verifier = remote_verifier(client)
        old_kid = jwt.get_unverified_header(auth["token"])["kid"]
        refused: list[str] = []
        kids_seen: set[str] = set()
        rotated = asyncio.Event()

        async def traffic() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline:
                login = await client.post(
                    "/api/v1/auth/login",
                    json={"email": auth["user"]["email"], "password": PASSWORD},
                )
                token = login.json()["data"]["token"]
                kids_seen.add(jwt.get_unverified_header(token)["kid"])
                try:
                    await verifier.verify(token)
                except AppError as error:
                    refused.append(f"remote verifier: {error.message}")
                me = await client.get(
                    "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
                )
                if me.status_code != 200:
                    refused.append(f"/auth/me: {me.status_code}")
                if rotated.is_set() and len(kids_seen) == 2:
                    return

        running = asyncio.create_task(traffic())
        await asyncio.sleep(0.2)
        rotation = await rotate(
            app.state.services.database,
            TEST_SECRET_KEY,
            lead=timedelta(seconds=0.3),
            token_ttl=timedelta(seconds=60),
        )
        rotated.set()
        await asyncio.wait_for(running, timeout=60)

        assert refused == []
        assert kids_seen == {old_kid, rotation.kid}
        # The old token still verifies after the new key took over, and both are published.
        await verifier.verify(auth["token"])
        published = {
            key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]
        }
        assert published == {old_kid, rotation.kid}
        # Once every token the old key signed has expired, it is published no more.
        async with app.state.services.database.session(write=False) as session:
            later = await SigningKeyRepository(session).published(
                rotation.previous_retire_after + timedelta(seconds=1)
            )
        assert [key.kid for key in later] == [rotation.kid]
        assert rotation.previous_retire_after > utc_now() + timedelta(seconds=60)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskyard.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("signing", ["hs256", "ed25519"])
def test_rotate_keys_command(
    sqlite_url: str, signing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    env = {
        **os.environ,
        "TASKYARD_DATABASE_URL": sqlite_url,
        "TASKYARD_SECRET_KEY": TEST_SECRET_KEY,
        "TASKYARD_JWT_SIGNING": signing,
    }
    result = run_cli("rotate-keys", env=env)
    if signing == "hs256":
        assert result.returncode == 2
        assert "TASKYARD_JWT_SIGNING is not ed25519" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("new signing key ")
        assert "published now, signs from" in result.stdout


async def test_a_warmed_verifier_fetches_nothing_for_the_first_token(database_url: str) -> None:
    async with running_app(key_settings(database_url)) as (_app, client):
        auth = await register(client)
        fetch = jwks_of(client)
        fetches: list[str] = []

        async def counted() -> dict[str, Any]:
            fetches.append("jwks")
            return await fetch()

        verifier = KeySetVerifier(counted)
        await verifier.warm()
        await verifier.warm()  # a readiness probe: the keys are here already
        claims = await verifier.verify(auth["token"])
    assert str(claims.user_id) == auth["user"]["id"]
    assert fetches == ["jwks"]
