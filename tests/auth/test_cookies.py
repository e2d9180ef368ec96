"""The refresh token as an HttpOnly cookie for the web client, and its CSRF guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from taskyard.auth.cookies import REFRESH_COOKIE
from tests.helpers import PASSWORD, bearer, register

LOCAL_ORIGIN = "http://localhost:8000"


@pytest.fixture
async def local(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on plain-http localhost, where the cookie may go without Secure."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_ORIGIN) as http:
        yield http


def refresh_cookie_header(response: httpx.Response) -> str:
    [header] = [
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith(f"{REFRESH_COOKIE}=")
    ]
    return header


def attributes(header: str) -> dict[str, str]:
    _, *parts = (part.strip() for part in header.split(";"))
    pairs = (part.partition("=") for part in parts)
    return {name.lower(): value for name, _, value in pairs}


async def test_login_and_register_set_an_httponly_strict_cookie_scoped_to_auth(
    client: httpx.AsyncClient,
) -> None:
    auth = await register(client)
    login = await client.post(
        "/api/v1/auth/login", json={"email": auth["user"]["email"], "password": PASSWORD}
    )
    header = refresh_cookie_header(login)
    assert header.startswith(f"{REFRESH_COOKIE}={login.json()['data']['refreshToken']};")
    found = attributes(header)
    assert "httponly" in found
    assert found["samesite"].lower() == "strict"
    assert found["path"] == "/api/v1/auth"
    assert found["max-age"] == "604800"
    assert "secure" in found  # not a loopback host, so Secure


async def test_the_cookie_carries_the_same_token_as_the_body(local: httpx.AsyncClient) -> None:
    response = await local.post(
        "/api/v1/auth/register",
        json={"name": "Cookie Person", "email": "cookie@example.com", "password": PASSWORD},
    )
    header = refresh_cookie_header(response)
    assert header.startswith(f"{REFRESH_COOKIE}={response.json()['data']['refreshToken']};")
    assert "secure" not in attributes(header)  # plain-http localhost


async def test_refresh_by_cookie_from_our_own_origin_rotates_it(local: httpx.AsyncClient) -> None:
    await register(local)
    first = local.cookies[REFRESH_COOKIE]
    response = await local.post("/api/v1/auth/refresh", headers={"Origin": LOCAL_ORIGIN})
    assert response.status_code == 200, response.text
    second = local.cookies[REFRESH_COOKIE]
    assert second != first
    assert response.json()["data"]["refreshToken"] == second
    assert (await local.get("/api/v1/auth/me", headers=bearer(response.json()["data"]))).is_success


async def test_refresh_by_cookie_from_an_allowed_cors_origin(local: httpx.AsyncClient) -> None:
    await register(local)
    response = await local.post("/api/v1/auth/refresh", headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Origin": "https://evil.example"}, "Origin not allowed"),
        ({"Origin": "null"}, "Origin required for cookie authentication"),
        ({}, "Origin required for cookie authentication"),
    ],
)
async def test_refresh_by_cookie_from_elsewhere_is_refused_and_spends_nothing(
    local: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    await register(local)
    refused = await local.post("/api/v1/auth/refresh", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["message"] == message
    assert refused.json()["success"] is False
    # The cookie still works from the right origin: the forged request spent nothing.
    allowed = await local.post("/api/v1/auth/refresh", headers={"Origin": LOCAL_ORIGIN})
    assert allowed.status_code == 200


async def test_a_token_in_the_body_needs_no_origin(client: httpx.AsyncClient) -> None:
    auth = await register(client)
    client.cookies.clear()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refreshToken": auth["refreshToken"]}
    )
    assert response.status_code == 200
    assert response.json()["data"]["refreshToken"] != auth["refreshToken"]


@pytest.mark.parametrize("body", [None, {}])
async def test_refresh_with_neither_cookie_nor_body_is_unauthorized(
    client: httpx.AsyncClient, body: dict[str, str] | None
) -> None:
    response = await client.post("/api/v1/auth/refresh", json=body)
    assert response.status_code == 401
    assert response.json()["message"] == "Not authorized, no refresh token"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_logout_clears_the_cookie_and_ends_the_session(local: httpx.AsyncClient) -> None:
    auth = await register(local)
    spent = local.cookies[REFRESH_COOKIE]
    response = await local.post("/api/v1/auth/logout", headers=bearer(auth))
    assert response.status_code == 200
    cleared = attributes(refresh_cookie_header(response))
    assert cleared["max-age"] == "0"
    assert cleared["path"] == "/api/v1/auth"
    assert REFRESH_COOKIE not in local.cookies
    local.cookies.set(REFRESH_COOKIE, spent)
    again = await local.post("/api/v1/auth/refresh", headers={"Origin": LOCAL_ORIGIN})
    assert again.status_code == 401
