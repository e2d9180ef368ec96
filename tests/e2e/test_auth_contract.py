"""Auth endpoints against the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import jwt

from tests.serving import PASSWORD, Server, bearer, register

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def assert_user_shape(user: dict[str, Any]) -> None:
    assert set(user) == {
        "id",
        "_id",
        "name",
        "email",
        "role",
        "isActive",
        "createdAt",
        "lastLogin",
        "notifications",
    }
    assert user["id"] == user["_id"]
    uuid.UUID(user["id"])
    assert ISO_UTC.match(user["createdAt"])


def test_register_returns_user_and_both_tokens(http: httpx.Client) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@Example.COM"
    response = http.post(
        "/auth/register", json={"name": "  Grace  ", "email": f"  {email} ", "password": PASSWORD}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"]
    assert set(body["data"]) == {"user", "token", "refreshToken"}
    user = body["data"]["user"]
    assert_user_shape(user)
    assert user["name"] == "Grace"
    assert user["email"] == email.lower()
    assert user["role"] == "user"
    assert user["isActive"] is True
    assert ISO_UTC.match(user["lastLogin"])  # signing up signs in


def test_role_sent_at_registration_is_ignored(http: httpx.Client) -> None:
    response = http.post(
        "/auth/register",
        json={
            "name": "Mallory",
            "email": f"mallory-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
            "role": "admin",
            "isActive": True,
        },
    )
    assert response.status_code == 201
    auth = response.json()["data"]
    assert auth["user"]["role"] == "user"
    assert http.get("/users", headers=bearer(auth)).status_code == 403
    assert http.get("/tasks/admin/all", headers=bearer(auth)).status_code == 403


def test_duplicate_email_is_409_case_insensitively(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    response = http.post(
        "/auth/register",
        json={"name": "Copy", "email": user["user"]["email"].upper(), "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["success"] is False


def test_registration_validation_errors_name_each_field(http: httpx.Client) -> None:
    response = http.post("/auth/register", json={"name": "A", "email": "nope", "password": "short"})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Validation failed"
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert set(messages) == {"name", "email", "password"}
    assert messages["password"] == "Password must be at least 8 characters"
    assert messages["name"] == "Name must be at least 2 characters"
    assert messages["email"].startswith("value is not a valid email address")


def test_password_longer_than_128_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/auth/register",
        json={
            "name": "Long",
            "email": f"l-{uuid.uuid4().hex[:6]}@example.com",
            "password": "x" * 129,
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "password", "message": "Password must be at most 128 characters"}
    ]


def test_login_sets_last_login(http: httpx.Client, user: dict[str, Any]) -> None:
    response = http.post("/auth/login", json={"email": user["user"]["email"], "password": PASSWORD})
    assert response.status_code == 200
    data = response.json()["data"]
    assert_user_shape(data["user"])
    assert ISO_UTC.match(data["user"]["lastLogin"])
    assert data["token"]
    assert data["refreshToken"]


def test_login_failures_are_indistinguishable(http: httpx.Client, user: dict[str, Any]) -> None:
    wrong_password = http.post(
        "/auth/login", json={"email": user["user"]["email"], "password": "wrong-password"}
    )
    unknown_email = http.post(
        "/auth/login", json={"email": "nobody-here@example.com", "password": "wrong-password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert (
        wrong_password.json()["message"] == unknown_email.json()["message"] == "Invalid credentials"
    )


def test_access_token_claims(server: Server, user: dict[str, Any]) -> None:
    header = jwt.get_unverified_header(user["token"])
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    if server.backend == "split":  # the auth service's own keys, verifiable from its JWKS
        assert header["alg"] == "EdDSA"
        assert "kid" in header
        assert (claims["name"], claims["email"]) == (user["user"]["name"], user["user"]["email"])
    else:
        assert header["alg"] == "HS256"
    assert {"sub", "role", "jti", "iat", "exp"} <= set(claims)
    assert claims["sub"] == user["user"]["id"]
    assert claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 900


def test_me_returns_the_caller(http: httpx.Client, user: dict[str, Any]) -> None:
    response = http.get("/auth/me", headers=bearer(user))
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"user": user["user"]}}


def test_me_without_or_with_bad_token_is_401(http: httpx.Client) -> None:
    missing = http.get("/auth/me")
    garbage = http.get("/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    wrong_scheme = http.get("/auth/me", headers={"Authorization": "Basic abc"})
    for response in (missing, garbage, wrong_scheme):
        assert response.status_code == 401
        assert response.json()["success"] is False


def test_token_with_other_algorithm_or_key_is_refused(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    forged_key = jwt.encode(
        claims, "another-secret-that-is-long-enough-xxxxxxxxxx", algorithm="HS256"
    )
    unsigned = jwt.encode(claims, key="", algorithm="none")
    for token in (forged_key, unsigned):
        response = http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_refresh_rotates_and_old_token_is_spent(http: httpx.Client, user: dict[str, Any]) -> None:
    first = http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert first.status_code == 200
    pair = first.json()["data"]
    assert set(pair) == {"token", "refreshToken"}
    assert pair["refreshToken"] != user["refreshToken"]
    assert http.get("/auth/me", headers=bearer(pair)).status_code == 200

    second = http.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert second.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_session(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    rotated = http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]}).json()["data"]

    replay = http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert replay.status_code == 401

    # The legitimate holder's newer token and its access token die with the session.
    assert (
        http.post("/auth/refresh", json={"refreshToken": rotated["refreshToken"]}).status_code
        == 401
    )
    assert http.get("/auth/me", headers=bearer(rotated)).status_code == 401
    assert http.get("/auth/me", headers=bearer(user)).status_code == 401


def test_reuse_only_revokes_that_session(
    server: Server, http: httpx.Client, user: dict[str, Any]
) -> None:
    other_login = http.post(
        "/auth/login", json={"email": user["user"]["email"], "password": PASSWORD}
    ).json()["data"]
    http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]})
    http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert http.get("/auth/me", headers=bearer(other_login)).status_code == 200


def test_unknown_refresh_token_is_401(http: httpx.Client) -> None:
    response = http.post("/auth/refresh", json={"refreshToken": "made-up"})
    assert response.status_code == 401


def test_logout_revokes_access_and_refresh_tokens(http: httpx.Client, user: dict[str, Any]) -> None:
    response = http.post("/auth/logout", headers=bearer(user))
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert "message" in response.json()
    assert http.get("/auth/me", headers=bearer(user)).status_code == 401
    assert (
        http.post("/auth/refresh", json={"refreshToken": user["refreshToken"]}).status_code == 401
    )


def test_logout_leaves_other_sessions_alone(server: Server, http: httpx.Client) -> None:
    auth = register(server)
    second = http.post(
        "/auth/login", json={"email": auth["user"]["email"], "password": PASSWORD}
    ).json()["data"]
    assert http.post("/auth/logout", headers=bearer(auth)).status_code == 200
    assert http.get("/auth/me", headers=bearer(second)).status_code == 200
