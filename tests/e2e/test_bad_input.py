"""Hostile input gets a 4xx in the error envelope: never a 500, never FastAPI's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.serving import Server, bearer

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    10**30,
    -(10**30),
    1.5e308,
    "",
    "x" * 100_000,
    "\u0000",
    "💥" * 300,
    [],
    ["pending"],
    {},
    {"$gt": ""},
]
WRITE_ENDPOINTS = [
    ("POST", "/auth/register", ["name", "email", "password"]),
    ("POST", "/auth/login", ["email", "password"]),
    ("POST", "/auth/refresh", ["refreshToken"]),
    ("POST", "/tasks", ["title", "description", "status", "priority", "dueDate"]),
    ("PATCH", "/tasks/{task}", ["title", "description", "status", "priority", "dueDate"]),
    ("PUT", "/tasks/{task}", ["title", "status", "dueDate"]),
    ("PATCH", "/users/{user}", ["name", "role", "isActive"]),
]
RAW_BODIES = [
    b"{",
    b"null",
    b"[]",
    b'"just a string"',
    b"42",
    b'{"title": "\xff\xfe\xfd"}',
    b"\xff\xfe\x00\x00",
    b'{"title": "abc", "title": ["dup"]}',
    b"{" * 5000 + b"}" * 5000,
]


def assert_client_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["requestId"]
    assert "detail" not in body
    assert "Traceback" not in response.text


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str
    headers: dict[str, str]
    fields: list[str]


@pytest.fixture(params=WRITE_ENDPOINTS, ids=lambda endpoint: f"{endpoint[0]} {endpoint[1]}")
def endpoint(
    request: pytest.FixtureRequest, http: httpx.Client, server: Server, user: dict[str, Any]
) -> Endpoint:
    """A write endpoint, its URL filled in with the caller's own task or a user to manage."""
    method, path, fields = request.param
    task = http.post("/tasks", json={"title": "Target"}, headers=bearer(user)).json()["data"]
    url = path.format(task=task["id"], user=user["user"]["id"])
    headers = bearer(server.admin) if path.startswith("/users") else bearer(user)
    return Endpoint(method, url, headers, fields)


def test_hostile_field_values(http: httpx.Client, endpoint: Endpoint) -> None:
    for field in endpoint.fields:
        for value in HOSTILE_VALUES:
            response = http.request(
                endpoint.method, endpoint.url, json={field: value}, headers=endpoint.headers
            )
            if response.status_code < 400:
                # Some values are legitimate for some fields (a 300-emoji description is fine).
                assert response.json()["success"] is True
                continue
            assert_client_error(response)
            # A refresh with no token at all (null) is unauthenticated, not malformed.
            missing_token = endpoint.url == "/auth/refresh" and value is None
            assert response.status_code == (401 if missing_token else 400), (field, value)


def test_malformed_bodies(http: httpx.Client, endpoint: Endpoint) -> None:
    headers = {**endpoint.headers, "Content-Type": "application/json"}
    for raw in RAW_BODIES:
        assert_client_error(
            http.request(endpoint.method, endpoint.url, content=raw, headers=headers)
        )
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = http.request(
            endpoint.method,
            endpoint.url,
            content=b"title=abc",
            headers={**headers, "Content-Type": content_type},
        )
        assert_client_error(response)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-5"},
        {"page": "99999999999999999999999"},
        {"page": "abc"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "1e3"},
        {"status": "archived"},
        {"priority": "HIGH"},
        {"sort": "createdAt; DROP TABLE tasks"},
        {"search": "x" * 1000},
        {"createdBy": "not-a-uuid"},
    ],
)
def test_hostile_query_strings(
    http: httpx.Client, server: Server, user: dict[str, Any], params: dict[str, str]
) -> None:
    paths = ["/tasks/admin/all"] if "createdBy" in params else ["/tasks", "/tasks/admin/all"]
    for path in paths:
        headers = bearer(server.admin) if path.endswith("/all") else bearer(user)
        response = http.get(path, params=params, headers=headers)
        assert_client_error(response)
        assert response.status_code == 400


def test_non_utf8_query_and_path_bytes(http: httpx.Client, user: dict[str, Any]) -> None:
    for raw_path in ("/tasks/%FF%FE", "/tasks/%00"):
        response = http.get(raw_path, headers=bearer(user))
        assert response.status_code < 500
        if response.status_code >= 400:
            assert_client_error(response)
    # A query string that doesn't decode as UTF-8 is refused, naming the parameter; a lone
    # surrogate escaped as UTF-8 (%ED%A0%80) is no valid UTF-8 either.
    for query, field in (
        ("search=%FF%FE", "search"),
        ("status=%C0%AF", "status"),
        ("search=%ED%A0%80", "search"),
        ("limit=5&sea%FFrch=x", "sea\ufffdrch"),
    ):
        for path in ("/tasks", "/tasks/stats", "/exports/" + "0" * 8):
            response = http.get(f"{path}?{query}", headers=bearer(user))
            assert_client_error(response)
            assert response.status_code == 400
            errors = response.json()["errors"]
            assert errors == [{"field": field, "message": "Must be valid UTF-8 text"}]
    valid = http.get("/tasks?search=caf%C3%A9+%F0%9F%92%A5", headers=bearer(user))
    assert valid.status_code == 200


# JSON may carry an unpaired UTF-16 surrogate as an escape; no encoding can store it.
SURROGATE_TEXTS = ["\ud800", "ab\udfffcd", "Title \ud83d"]


def _raw_json(fields: dict[str, str]) -> bytes:
    """JSON as any client may send it: non-ASCII text as \\u escapes, so an unpaired
    surrogate travels as its escape."""
    return json.dumps(fields, ensure_ascii=True).encode()


@pytest.mark.parametrize("endpoint_name", ["register", "me", "task-create", "task-edit"])
def test_unpaired_surrogates_are_refused_naming_the_field(
    http: httpx.Client, user: dict[str, Any], endpoint_name: str
) -> None:
    task = http.post("/tasks", json={"title": "Target"}, headers=bearer(user)).json()["data"]
    valid = {
        "register": ("POST", "/auth/register", {"name": "Someone", "email": "s@example.test"}),
        "me": ("PATCH", "/auth/me", {}),
        "task-create": ("POST", "/tasks", {"title": "A fine title"}),
        "task-edit": ("PATCH", f"/tasks/{task['id']}", {}),
    }
    method, path, base = valid[endpoint_name]
    fields = {
        "register": ["name", "password"],
        "me": ["name"],
        "task-create": ["title", "description"],
        "task-edit": ["title", "description"],
    }[endpoint_name]
    methods = [method, "PUT"] if endpoint_name == "task-edit" else [method]
    for field in fields:
        for text in SURROGATE_TEXTS:
            password = {"password": "long enough pass"} if endpoint_name == "register" else {}
            body = {**base, **password, field: text}
            for verb in methods:
                response = http.request(
                    verb,
                    path,
                    content=_raw_json(body),
                    headers={**bearer(user), "Content-Type": "application/json"},
                )
                assert_client_error(response)
                assert response.status_code == 400, (verb, path, field, response.text)
                assert [error["field"] for error in response.json()["errors"]] == [field]
    login = http.post(
        "/auth/login",
        content=_raw_json({"email": user["user"]["email"], "password": "x\ud800"}),
        headers={"Content-Type": "application/json"},
    )
    assert login.status_code == 400


def test_a_trailing_slash_names_the_same_resource_and_never_redirects(
    http: httpx.Client, user: dict[str, Any]
) -> None:
    http.post("/tasks", json={"title": "Slashed"}, headers=bearer(user))
    for host in ("evil.example", None):
        headers = {**bearer(user), **({"Host": host} if host else {})}
        response = http.get("/tasks/", headers=headers, follow_redirects=False)
        assert response.status_code == 200, response.text
        assert "location" not in response.headers
        assert [task["title"] for task in response.json()["data"]] == ["Slashed"]
    created = http.post("/tasks/", json={"title": "Via slash"}, headers=bearer(user))
    assert created.status_code == 201
    assert created.headers["location"] == f"/api/v1/tasks/{created.json()['data']['id']}"


def test_a_refresh_with_no_token_at_all_is_a_missing_credential(http: httpx.Client) -> None:
    for content in (None, b"{}", b'{"refreshToken": null}'):
        response = http.post(
            "/auth/refresh", content=content, headers={"Content-Type": "application/json"}
        )
        assert_client_error(response)
        assert response.status_code == 401
        assert "refresh token" in response.json()["message"]
    # A cookie without an Origin is still refused as cross-site (403).
    response = http.post("/auth/refresh", headers={"Cookie": "taskyard_refresh=anything"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/tasks/1", "/tasks/' OR 1=1 --", "/tasks/" + "a" * 5000, "/users/{}", "/tasks/-1"],
)
def test_malformed_ids(http: httpx.Client, server: Server, path: str) -> None:
    response = http.get(path, headers=bearer(server.admin))
    assert_client_error(response)
    assert response.status_code in {400, 404}


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer " + "a" * 10_000,
        "Bearer a.b.c",
        "Bearer \u00ff\u00fe",
        "bearer eyJhbGciOiJub25lIn0.e30.",
        "Token abc",
    ],
)
def test_malformed_authorization_headers(http: httpx.Client, authorization: str) -> None:
    response = http.get("/tasks", headers=[(b"Authorization", authorization.encode("latin-1"))])
    assert_client_error(response)
    assert response.status_code == 401


def test_unknown_routes_and_methods_use_the_envelope(http: httpx.Client, server: Server) -> None:
    not_found = httpx.get(f"{server.base_url}/api/v1/nothing-here")
    assert not_found.status_code == 404
    assert_client_error(not_found)
    wrong_method = httpx.delete(f"{server.api}/tasks")
    assert wrong_method.status_code == 405
    assert_client_error(wrong_method)
