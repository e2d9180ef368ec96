"""Serving the built client: caching, client routes, its CSP, and what stays the API's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskyard.app import create_app
from taskyard.edge.security_headers import API_CSP
from taskyard.web.router import CLIENT_CSP, IMMUTABLE, REVALIDATE
from tests.helpers import running_app
from tests.support import make_settings

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root"></div></body></html>'  # noqa: E501
SCRIPT = "console.log('taskyard')"


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1a2b3c.js").write_text(SCRIPT)
    (tmp_path / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


@pytest.fixture
async def web(sqlite_url: str, build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(make_settings(sqlite_url, web_dir=build)) as (_, client):
        yield client


@pytest.mark.parametrize("path", ["/", "/login", "/admin/users", "/assigned?status=completed"])
async def test_client_routes_get_index_html_revalidated_every_time(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == REVALIDATE
    assert response.headers["content-security-policy"] == CLIENT_CSP


async def test_hashed_assets_are_cacheable_for_a_year(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/app-1a2b3c.js")
    assert response.status_code == 200
    assert response.text == SCRIPT
    assert response.headers["cache-control"] == IMMUTABLE
    assert "javascript" in response.headers["content-type"]
    head = await web.head("/assets/app-1a2b3c.js")
    assert head.status_code == 200
    assert head.content == b""


async def test_other_files_in_the_build_are_served_briefly_cached(web: httpx.AsyncClient) -> None:
    response = await web.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"


@pytest.mark.parametrize(
    "path",
    ["/assets/missing.js", "/missing.png", "/assets/%2e%2e/%2e%2e/secret.txt", "/index.html"],
)
async def test_missing_or_outside_files_are_a_404_envelope(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert "not for the web" not in response.text


async def test_the_api_keeps_its_own_answers(web: httpx.AsyncClient) -> None:
    unknown = await web.get("/api/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Route not found"
    assert unknown.headers["content-security-policy"] == API_CSP
    # A write to a path nobody serves is still a 404, not a 405 from the client's GET route.
    assert (await web.post("/somewhere", json={})).status_code == 404
    assert (await web.delete("/api/v1/tasks")).status_code == 405
    assert (await web.get("/health")).json()["success"] is True
    assert (await web.get("/api-docs.json")).json()["info"]["title"] == "Taskyard API"


async def test_assets_are_not_rate_limited(sqlite_url: str, build: Path) -> None:
    settings = make_settings(sqlite_url, web_dir=build, rate_limit="3/minute")
    async with running_app(settings) as (_, client):
        statuses = [(await client.get("/assets/app-1a2b3c.js")).status_code for _ in range(6)]
        assert statuses == [200] * 6
        pages = [(await client.get("/login")).status_code for _ in range(4)]
        assert pages == [200, 200, 200, 429]


async def test_without_a_build_the_root_describes_the_api(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, web_dir=tmp_path / "not-built")
    async with running_app(settings) as (_, client):
        response = await client.get("/")
        assert response.status_code == 200
        assert response.json()["api"] == "/api/v1"
        assert "not built" in response.json()["webClient"]
        assert (await client.get("/login")).status_code == 404


def test_the_openapi_document_the_client_types_come_from_is_current(tmp_path: Path) -> None:
    """frontend/src/api/schema.ts is generated from frontend/openapi.json; both must match."""
    committed = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'openapi.db'}")
    current: dict[str, Any] = create_app(settings).openapi()
    assert json.loads(committed.read_text()) == json.loads(json.dumps(current)), (
        "the API changed: run `make web-api-types` and commit the result"
    )


@pytest.mark.parametrize("path", ["/robots.txt%00", "/assets/%00", "/assets/app%00.js", "/a%00b"])
async def test_a_nul_in_a_client_path_is_a_404(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 404
    assert response.json()["success"] is False
