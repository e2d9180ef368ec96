"""/metrics counts what was just done."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import bearer, register, running_app
from tests.support import database_behind_proxy, make_settings


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, rate_limit_login="2/hour")
    async with running_app(settings) as (_, client):
        auth = await register(client)
        before = await scrape(client)
        labels = {"method": "GET", "route": "/api/v1/tasks/{id}", "status": "404"}
        for _ in range(3):
            missing = "00000000-0000-4000-8000-000000000000"
            await client.get(f"/api/v1/tasks/{missing}", headers=bearer(auth))
        for _ in range(3):
            await client.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "p" * 8})
        after = await scrape(client)

    counted = sample(after, "taskyard_http_requests_total", **labels) - sample(
        before, "taskyard_http_requests_total", **labels
    )
    assert counted == 3
    histogram = sample(after, "taskyard_http_request_duration_seconds_count", **labels)
    assert histogram >= 3
    rejections = sample(after, "taskyard_rate_limit_rejections_total", limit="login") - sample(
        before, "taskyard_rate_limit_rejections_total", limit="login"
    )
    assert rejections == 1
    assert "taskyard_http_requests_in_flight" in after
    assert "taskyard_db_pool_connections_in_use" in after
    assert "taskyard_db_pool_overflow_connections" in after
    assert "taskyard_rate_limit_backend_errors_total" in after
    assert "process_resident_memory_bytes" in after


async def test_each_scrape_samples_whether_the_instance_is_ready(postgres_url: str) -> None:
    """`taskyard_ready` is the availability SLI: what readiness was at this very scrape."""
    async with (
        database_behind_proxy(postgres_url) as (proxy, url),
        running_app(make_settings(url)) as (_, client),
    ):
        assert sample(await scrape(client), "taskyard_ready") == 1
        await proxy.cut()
        assert sample(await scrape(client), "taskyard_ready") == 0
        await proxy.start()
        assert sample(await scrape(client), "taskyard_ready") == 1
