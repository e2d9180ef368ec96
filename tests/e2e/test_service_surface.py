"""Everything outside /api/v1: health, docs, the root, CORS and request ids."""

from __future__ import annotations

import re
from typing import Any

import httpx

from taskyard.config import DEFAULT_WEB_DIR
from taskyard.web.router import find_client
from tests.serving import Server


def test_health(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"]
    assert re.match(r"^\d{4}-\d{2}-\d{2}T.*Z$", body["timestamp"])


def test_liveness_and_readiness(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/health/live").status_code == 200
    ready = httpx.get(f"{server.base_url}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["components"]["database"]["status"] == "up"


def openapi_paths(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/api-docs.json")
    assert response.status_code == 200
    paths: dict[str, Any] = response.json()["paths"]
    return paths


def test_openapi_document_describes_the_api(server: Server) -> None:
    if server.backend == "split":  # each service documents its own part, behind the gateway
        auth = openapi_paths(f"{server.base_url}/services/auth")
        tasks = openapi_paths(f"{server.base_url}/services/tasks")
        assert "/api/v1/tasks" not in auth
        assert "/api/v1/auth/login" not in tasks
        paths = {**auth, **tasks}
    else:
        paths = openapi_paths(server.base_url)
    for path in ("/api/v1/auth/login", "/api/v1/tasks", "/api/v1/tasks/{id}", "/api/v1/users"):
        assert path in paths
    docs = httpx.get(f"{server.base_url}/api-docs")
    assert docs.status_code == 200
    assert "api-docs.json" in docs.text


def test_root_serves_the_web_client_or_describes_the_api(server: Server) -> None:
    root = httpx.get(f"{server.base_url}/")
    assert root.status_code == 200
    if find_client(DEFAULT_WEB_DIR) is not None:  # built by `make test` whenever npm is present
        assert '<div id="root"></div>' in root.text
        assert root.headers["cache-control"] == "no-cache"
    else:
        assert root.json()["api"] == "/api/v1"
        assert root.json()["docs"] == "/api-docs"


def test_request_id_is_kept_or_minted(server: Server) -> None:
    kept = httpx.get(f"{server.base_url}/health", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    minted = httpx.get(f"{server.base_url}/health", headers={"X-Request-ID": "bad id <script>"})
    assert minted.headers["x-request-id"] not in {"", "bad id <script>"}
    error = httpx.get(f"{server.api}/tasks", headers={"X-Request-ID": "trace-42"})
    assert error.json()["requestId"] == "trace-42"
    assert error.headers["x-request-id"] == "trace-42"


def test_cors_allows_the_development_client(server: Server) -> None:
    preflight = httpx.options(
        f"{server.api}/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    stranger = httpx.options(
        f"{server.api}/tasks",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers
