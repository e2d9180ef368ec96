"""Helmet-style headers on every kind of response: API, docs, errors, throttled, crashed."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter

from tests.helpers import bearer, register, running_app
from tests.support import SECURITY_HEADERS, make_settings

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def assert_secure(response: httpx.Response, csp: str | None = API_CSP) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)
    if csp is not None:
        assert response.headers["content-security-policy"] == csp
    assert "server" not in response.headers


def _add_crashing_route(app: Any) -> None:
    router = APIRouter()

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret detail that must not leak")

    app.include_router(router)


async def test_headers_on_api_docs_errors_and_crashes(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_login_ip="2/hour")
    async with running_app(settings) as (app, client):
        _add_crashing_route(app)
        auth = await register(client)
        assert_secure(await client.get("/api/v1/tasks", headers=bearer(auth)))
        assert_secure(await client.get("/api-docs.json"))
        assert_secure(await client.get("/nowhere"))  # 404
        assert_secure(await client.get("/api/v1/tasks"))  # 401
        assert_secure(await client.post("/api/v1/tasks", json={}, headers=bearer(auth)))  # 400
        crashed = await client.get("/crash")
        assert crashed.status_code == 500
        assert "secret detail" not in crashed.text
        assert crashed.json()["requestId"] == crashed.headers["x-request-id"]
        assert_secure(crashed)
        for _ in range(3):
            throttled = await client.post(
                "/api/v1/auth/login", json={"email": "a@b.co", "password": "p"}
            )
        assert throttled.status_code == 429
        assert_secure(throttled)

        docs = await client.get("/api-docs")
        assert_secure(docs, csp=None)
        policy = docs.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-eval" not in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


async def test_hsts_only_over_https_or_in_production(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, trusted_proxies=["203.0.113.0/24"])
    async with running_app(settings) as (_, client):
        plain = await client.get("/health")
        assert "strict-transport-security" not in plain.headers
        behind_tls = await client.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert behind_tls.headers["strict-transport-security"].startswith("max-age=31536000")
    production = make_settings(sqlite_url, env="production", secret_key="p" * 40)
    async with running_app(production) as (_, client):
        assert "strict-transport-security" in (await client.get("/health")).headers


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        response = await client.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in response.headers


async def test_swagger_ui_is_served_from_installed_files(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        page = await client.get("/api-docs")
        assert page.status_code == 200
        assert "<script>" not in page.text  # no inline script for the CSP to forbid
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"):
            assert f"/api-docs/{asset}" in page.text
            response = await client.get(f"/api-docs/{asset}")
            assert response.status_code == 200, asset
            assert len(response.content) > 100
        assert "http://" not in page.text.replace("http://taskyard.test", "")
        assert (await client.get("/api-docs/../../etc/passwd")).status_code == 404
        assert (await client.get("/api-docs/unknown.js")).status_code == 404
