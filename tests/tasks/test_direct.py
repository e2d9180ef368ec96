"""The task list answered without routing: the same answers as the route's, errors included;
anything out of the plain shape goes on to the route."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from taskyard.identity.dependencies import get_principal
from taskyard.tasks.direct import plain_list_query
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
