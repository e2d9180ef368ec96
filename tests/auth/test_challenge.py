"""The proof-of-work challenge for suspicious sign-ins (ALTCHA): a burst of failed logins for one
email or from one address makes login and register ask for one; a solved challenge passes,
once; an expired or made-up one is refused; everyone else signs in as before. Failures are
counted in process and, shared by every instance, in Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
import httpx
import pytest

from tests.helpers import running_app
from tests.support import settings_with_shared_state

PASSWORD = "correct-horse"
CHALLENGE_FIELD = [{"field": "altcha", "message": "Solve the challenge to continue"}]


@pytest.fixture(params=["in-process", "redis"])
def settings(request: pytest.FixtureRequest, sqlite_url: str) -> Any:
    base = settings_with_shared_state(request, sqlite_url, request.param)
    return base.model_copy(
        update={"challenge_after_failures": 3, "challenge_cost": 20, "challenge_ttl_seconds": 60}
    )


async def sign_up(client: httpx.AsyncClient, email: str) -> None:
    body = {"name": "Careful Person", "email": email, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201


async def log_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, solution: str | None = None
) -> httpx.Response:
    headers = {"X-Altcha": solution} if solution is not None else {}
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def solved(client: httpx.AsyncClient) -> str:
    """What the widget does: fetch a challenge, find the counter, send the payload."""
    answered = await client.get("/api/v1/auth/challenge")
    assert answered.status_code == 200
    assert answered.headers["cache-control"] == "no-store"
    challenge = altcha.Challenge.from_dict(answered.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


async def test_a_burst_of_failures_asks_for_a_challenge_that_passes_once(settings: Any) -> None:
    async with running_app(settings) as (_, client):
        await sign_up(client, "target@example.com")
        for _ in range(3):
            assert (await log_in(client, "target@example.com", "wrong-guess")).status_code == 401
        asked = await log_in(client, "target@example.com")
        assert asked.status_code == 429
        assert asked.json()["errors"] == CHALLENGE_FIELD
        assert "GET /api/v1/auth/challenge" in asked.json()["message"]

        solution = await solved(client)
        passed = await log_in(client, "target@example.com", solution=solution)
        assert passed.status_code == 200, passed.text

        replayed = await log_in(client, "target@example.com", solution=solution)
        assert replayed.status_code == 400
        assert replayed.json()["errors"] == [
            {"field": "altcha", "message": "This solution was used already"}
        ]


async def test_a_forged_or_expired_solution_is_refused(settings: Any) -> None:
    async with running_app(settings) as (app, client):
        for _ in range(3):
            await log_in(client, "nobody@example.com", "guess")
        garbage = await log_in(client, "nobody@example.com", solution="not-a-solution")
        assert garbage.status_code == 400
        assert garbage.json()["errors"][0]["message"] == "The solution could not be read"

        gate = app.state.services.require_accounts().challenge_gate
        stale = altcha.create_challenge(
            "PBKDF2/SHA-256",
            20,
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
            hmac_secret=gate.secret,
        )
        stale_solution = altcha.solve_challenge(stale)
        assert stale_solution is not None
        expired = await log_in(
            client, "nobody@example.com", solution=altcha.Payload(stale, stale_solution).to_base64()
        )
        assert expired.status_code == 400
        assert expired.json()["errors"][0]["message"] == "The challenge expired"

        foreign = altcha.create_challenge("PBKDF2/SHA-256", 20, hmac_secret="someone else's")
        foreign_solution = altcha.solve_challenge(foreign)
        assert foreign_solution is not None
        forged = await log_in(
            client,
            "nobody@example.com",
            solution=altcha.Payload(foreign, foreign_solution).to_base64(),
        )
        assert forged.status_code == 400
        assert forged.json()["errors"][0]["message"] == "The solution does not solve the challenge"


async def test_an_address_under_suspicion_needs_one_to_register_too(settings: Any) -> None:
    async with running_app(settings) as (_, client):
        for number in range(3):
            await log_in(client, f"spray-{number}@example.com", "guess")
        body = {"name": "New Person", "email": "new@example.com", "password": PASSWORD}
        asked = await client.post("/api/v1/auth/register", json=body)
        assert asked.status_code == 429
        assert asked.json()["errors"] == CHALLENGE_FIELD
        registered = await client.post(
            "/api/v1/auth/register", json=body, headers={"X-Altcha": await solved(client)}
        )
        assert registered.status_code == 201


async def test_everyone_else_signs_in_as_before(settings: Any) -> None:
    async with running_app(settings) as (app, client):
        await sign_up(client, "calm@example.com")
        for _ in range(3):
            await log_in(client, "target@example.com", "guess")
        transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://taskyard.test") as other:
            assert (await log_in(other, "calm@example.com")).status_code == 200
            # The email under attack is suspicious from anywhere.
            assert (await log_in(other, "target@example.com")).status_code == 429
        # Two failures are not a burst.
        await log_in(client, "calm@example.com", "typo")
        await log_in(client, "calm@example.com", "typo")


async def test_the_window_ends_and_no_challenge_is_needed_again(settings: Any) -> None:
    async with running_app(settings.model_copy(update={"challenge_window_seconds": 1})) as (
        _,
        client,
    ):
        for _ in range(3):
            await log_in(client, "brief@example.com", "guess")
        assert (await log_in(client, "brief@example.com", "guess")).status_code == 429

        async def calm() -> bool:
            return (await log_in(client, "brief@example.com", "guess")).status_code == 401

        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not await calm():
            assert datetime.now(UTC) < deadline, "the window never ended"
