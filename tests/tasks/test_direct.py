"""The task list and the create answered without routing: the same answers as the routes',
errors included; anything out of the plain shape goes on to the routes."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from taskyard.identity.dependencies import get_principal
from taskyard.tasks.direct import declares_json_body, plain_create_body, plain_list_query
from tests.helpers import RouteWatch, bearer, register, running_app
from tests.support import make_settings

PLAIN = [
    "",
    "?limit=5",
    "?page=2&limit=3",
    "?status=pending&sort=title",
    "?priority=high&search=Task&scope=all",
    "?sort=-dueDate&limit=100",
]


def uncached(database_url: str, **overrides: Any) -> Any:
    return make_settings(database_url, cache_enabled=False, **overrides)


async def _seed(client: httpx.AsyncClient, auth: dict[str, Any]) -> None:
    for n in range(7):
        body = {"title": f"Task {n}", "priority": ["low", "high"][n % 2]}
        created = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
        assert created.status_code == 201


def _routed(query: str) -> str:
    """The same query with a parameter nobody reads: the route answers it."""
    return f"{query}&unread=1" if query else "?unread=1"


async def test_a_plain_list_skips_the_routes_and_answers_as_they_do(database_url: str) -> None:
    async with running_app(uncached(database_url)) as (app, client):
        auth = await register(client)
        await _seed(client, auth)
        routed = {
            query: await client.get(f"/api/v1/tasks{_routed(query)}", headers=bearer(auth))
            for query in PLAIN
        }
        app.dependency_overrides[get_principal] = routes = RouteWatch()
        for query in PLAIN:
            direct = await client.get(f"/api/v1/tasks{query}", headers=bearer(auth))
            assert direct.status_code == routed[query].status_code == 200, query
            assert direct.content == routed[query].content, query
            for header in ("content-type", "etag", "x-cache", "cache-control"):
                assert direct.headers.get(header) == routed[query].headers.get(header), header
        assert routes.reached == 0
        # Out of the plain shape: the route answers (here, the stand-in refuses).
        for query in ("?limit=5&limit=6", "?status=", "?limit=0", _routed("?limit=5")):
            refused = await client.get(f"/api/v1/tasks{query}", headers=bearer(auth))
            assert refused.status_code == 401, query
        assert routes.reached == 4


async def test_what_the_route_takes_differently_it_still_answers(database_url: str) -> None:
    async with running_app(uncached(database_url)) as (_, client):
        auth = await register(client)
        await _seed(client, auth)
        repeated = await client.get("/api/v1/tasks?limit=5&limit=2", headers=bearer(auth))
        assert repeated.status_code == 200
        assert repeated.json()["count"] == 2  # the last one given, as before
        refused = await client.get("/api/v1/tasks?limit=0", headers=bearer(auth))
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "limit"
        anonymous = await client.get("/api/v1/tasks?limit=5")
        assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?cursor=not-a-cursor", 400),
        ("?projectId=6f1c2a52-1b7e-4c3e-9d0a-1f5e8e2b7c41", 404),
        ("?label=0b6a3c1e-5d2f-4e8a-9c7b-2a4d6e8f0a13", 200),
    ],
)
async def test_a_refusal_on_the_direct_path_is_the_routes_refusal(
    database_url: str, query: str, status: int
) -> None:
    async with running_app(uncached(database_url)) as (_, client):
        auth = await register(client)
        direct = await client.get(f"/api/v1/tasks{query}", headers=bearer(auth))
        routed = await client.get(f"/api/v1/tasks{_routed(query)}", headers=bearer(auth))
    assert direct.status_code == routed.status_code == status
    body, routed_body = direct.json(), routed.json()
    body.pop("requestId", None)
    routed_body.pop("requestId", None)
    assert body == routed_body


async def test_a_direct_answer_is_compressed_revalidated_and_headed_like_any(
    database_url: str,
) -> None:
    settings = uncached(database_url, compression_min_bytes=16)
    async with running_app(settings) as (_, client):
        auth = await register(client)
        await _seed(client, auth)
        asked = {**bearer(auth), "Accept-Encoding": "gzip"}
        answer = await client.get("/api/v1/tasks?limit=5", headers=asked)
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.json()["count"] == 5
        revalidated = await client.get(
            "/api/v1/tasks?limit=5", headers={**asked, "If-None-Match": answer.headers["etag"]}
        )
        assert revalidated.status_code == 304
        head = await client.head("/api/v1/tasks?limit=5", headers=bearer(auth))
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == answer.headers["etag"]


async def test_a_direct_answer_is_logged_and_counted_under_its_route(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_app(uncached(database_url)) as (_, client):
        auth = await register(client)
        logging.getLogger().addHandler(caplog.handler)  # create_app replaced the handlers
        answer = await client.get("/api/v1/tasks?limit=5", headers=bearer(auth))
        metrics = (await client.get("/metrics")).text
    assert answer.status_code == 200
    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    access = [line for line in lines if line.get("path") == "/api/v1/tasks"]
    assert access[-1]["route"] == "/api/v1/tasks"
    assert access[-1]["user_id"] == auth["user"]["id"]
    assert 'route="/api/v1/tasks",status="200"' in metrics


@pytest.mark.parametrize(
    "query_string",
    [b"limit=5&limit=5", b"status=", b"limit=abc", b"nope=1", b"page=0", b"sort=random"],
)
def test_only_a_plain_valid_query_is_taken(query_string: bytes) -> None:
    assert plain_list_query(query_string) is None


def test_a_plain_query_is_read_by_its_api_names() -> None:
    project = uuid.uuid4()
    query = plain_list_query(f"projectId={project}&limit=7&sort=title".encode())
    assert query is not None
    assert (query.project_id, query.limit, query.sort, query.page) == (project, 7, "title", 1)
    assert query.model_fields_set == {"project_id", "limit", "sort"}


# A media type FastAPI reads as JSON but the direct path leaves to the route: the route's answer.
ROUTED_JSON = "application/vnd.taskyard+json"
# What differs between two creates of the same body: the new task's own identity and times.
_OWN = ("id", "_id", "createdAt", "updatedAt", "position")


def _same_but_own(task: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in task.items() if name not in _OWN}


async def _create(
    client: httpx.AsyncClient,
    auth: dict[str, Any],
    body: Any,
    media_type: str = "application/json",
    **headers: str,
) -> httpx.Response:
    sent = {**bearer(auth), "Content-Type": media_type, **headers}
    return await client.post("/api/v1/tasks", content=json.dumps(body), headers=sent)


async def test_a_plain_create_skips_the_routes_and_answers_as_they_do(database_url: str) -> None:
    body = {"title": "Direct", "priority": "high", "description": "d", "dueDate": "2031-01-02"}
    async with running_app(uncached(database_url)) as (app, client):
        auth = await register(client)
        routed = await _create(client, auth, body, ROUTED_JSON)
        app.dependency_overrides[get_principal] = routes = RouteWatch()
        direct = await _create(client, auth, body, "application/json; charset=utf-8")
        assert routes.reached == 0
        app.dependency_overrides.clear()
        listed = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert direct.status_code == routed.status_code == 201
    assert direct.headers["content-type"] == routed.headers["content-type"]
    task, routed_task = direct.json()["data"], routed.json()["data"]
    assert direct.headers["location"] == f"/api/v1/tasks/{task['id']}"
    assert routed.headers["location"] == f"/api/v1/tasks/{routed_task['id']}"
    assert {**direct.json(), "data": None} == {**routed.json(), "data": None}
    assert _same_but_own(task) == _same_but_own(routed_task)
    assert task["id"] != routed_task["id"]
    # Written, and read back as the create answered it.
    assert {row["id"]: row for row in listed.json()["data"]}[task["id"]] == task


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def test_a_create_out_of_the_plain_shape_goes_on_to_the_route(database_url: str) -> None:
    async with running_app(uncached(database_url)) as (app, client):
        auth = await register(client)
        app.dependency_overrides[get_principal] = routes = RouteWatch()
        plain = json.dumps({"title": "Routed"}).encode()
        refused = [
            await _create(client, auth, {"title": "Routed"}, ROUTED_JSON),
            await _create(client, auth, {"description": "no title"}),
            await _create(client, auth, ["a list"]),
            await _create(client, auth, {"title": "Someday", "status": "someday"}),
            await client.post("/api/v1/tasks", content=plain, headers=bearer(auth)),
            await client.post(
                "/api/v1/tasks",
                content=_chunked(plain),
                headers={**bearer(auth), "Content-Type": "application/json"},
            ),
        ]
        assert [response.status_code for response in refused] == [401] * len(refused)
        assert routes.reached == len(refused)
        app.dependency_overrides.clear()
        # The route takes the body the direct path read and handed on.
        for media_type in (ROUTED_JSON, "application/json"):
            created = await _create(client, auth, {"title": f"Via {media_type}"}, media_type)
            assert created.status_code == 201
            assert created.json()["data"]["title"] == f"Via {media_type}"
        missing_title = await _create(client, auth, {"description": "no title"})
        not_json = await client.post(
            "/api/v1/tasks",
            content=b"{not json",
            headers={**bearer(auth), "Content-Type": "application/json"},
        )
        chunked = await client.post(
            "/api/v1/tasks",
            content=_chunked(plain),
            headers={**bearer(auth), "Content-Type": "application/json"},
        )
    assert missing_title.status_code == 400
    assert missing_title.json()["errors"][0]["field"] == "title"
    assert not_json.status_code == 400  # the route's JSON error (it reads the body first)
    assert not_json.json()["success"] is False
    assert chunked.status_code == 201
    assert chunked.json()["data"]["title"] == "Routed"


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"title": "Elsewhere", "projectId": "6f1c2a52-1b7e-4c3e-9d0a-1f5e8e2b7c41"}, {}, 404),
        ({"title": "Keyed"}, {"Idempotency-Key": "has spaces"}, 400),
        ({"title": "Labelled", "labels": ["0b6a3c1e-5d2f-4e8a-9c7b-2a4d6e8f0a13"]}, {}, 400),
    ],
)
async def test_a_refused_create_on_the_direct_path_is_the_routes_refusal(
    database_url: str, body: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    async with running_app(uncached(database_url)) as (_, client):
        auth = await register(client)
        direct = await _create(client, auth, body, **headers)
        routed = await _create(client, auth, body, ROUTED_JSON, **headers)
        listed = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert direct.status_code == routed.status_code == status
    direct_body, routed_body = direct.json(), routed.json()
    direct_body.pop("requestId", None)
    routed_body.pop("requestId", None)
    assert direct_body == routed_body
    assert listed.json()["count"] == 0  # nothing was written by either


async def test_a_direct_create_keeps_its_idempotency_key(database_url: str) -> None:
    async with running_app(uncached(database_url)) as (_, client):
        auth = await register(client)
        first = await _create(client, auth, {"title": "Once"}, **{"Idempotency-Key": "k-1"})
        again = await _create(client, auth, {"title": "Once"}, **{"Idempotency-Key": "k-1"})
        other = await _create(client, auth, {"title": "Twice"}, **{"Idempotency-Key": "k-1"})
        listed = await client.get("/api/v1/tasks", headers=bearer(auth))
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert other.status_code == 422
    assert listed.json()["count"] == 1


@pytest.mark.parametrize(
    ("headers", "declared"),
    [
        ([(b"content-type", b"application/json"), (b"content-length", b"2")], True),
        ([(b"content-type", b"Application/JSON; charset=utf-8"), (b"content-length", b"2")], True),
        ([(b"content-type", b"application/json")], False),
        ([(b"content-length", b"2")], False),
        ([(b"content-type", b"text/plain"), (b"content-length", b"2")], False),
        ([(b"content-type", b"application/merge-patch+json"), (b"content-length", b"2")], False),
        (
            [
                (b"content-type", b"application/json"),
                (b"content-length", b"2"),
                (b"transfer-encoding", b"chunked"),
            ],
            False,
        ),
        (
            [
                (b"content-type", b"application/json"),
                (b"content-type", b"application/json"),
                (b"content-length", b"2"),
            ],
            False,
        ),
    ],
)
def test_only_a_declared_json_body_is_read_directly(
    headers: list[tuple[bytes, bytes]], declared: bool
) -> None:
    assert declares_json_body({"headers": headers}) is declared


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b"null", b'{"title": ""}', b'{"title": "x", "priority": "urgent"}']
)
def test_only_a_body_the_model_takes_is_created_directly(body: bytes) -> None:
    assert plain_create_body(body) is None


def test_a_plain_body_is_read_by_its_api_names() -> None:
    project = uuid.uuid4()
    create = plain_create_body(json.dumps({"title": "Plain", "projectId": str(project)}).encode())
    assert create is not None
    assert (create.title, create.project_id) == ("Plain", project)
