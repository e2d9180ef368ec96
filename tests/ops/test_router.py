"""The operations panel's cluster figures: admins only, "instance" without Prometheus, and a
clear 502 in the envelope when Prometheus doesn't answer. (With a real Prometheus over a real
stack: tests/deploy/test_compose.py.)"""

from __future__ import annotations

from tests.helpers import bearer, register, register_admin, running_app
from tests.support import any_free_port, make_settings


async def test_without_prometheus_the_panel_reads_the_instance(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        answered = await client.get("/api/v1/ops/cluster", headers=bearer(admin))
        assert answered.status_code == 200, answered.text
        assert answered.json() == {
            "success": True,
            "data": {
                "source": "instance",
                "requestsPerSecond": None,
                "p95Seconds": None,
                "errorRate": None,
                "availability": None,
                "instances": [],
                "alerts": [],
            },
        }


async def test_only_admins_see_the_cluster(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        person = await register(client)
        assert (await client.get("/api/v1/ops/cluster")).status_code == 401
        refused = await client.get("/api/v1/ops/cluster", headers=bearer(person))
        assert refused.status_code == 403
        assert refused.json()["success"] is False


async def test_a_silent_prometheus_is_a_502_in_the_envelope(sqlite_url: str) -> None:
    nobody = f"http://127.0.0.1:{any_free_port()}"
    async with running_app(make_settings(sqlite_url, prometheus_url=nobody)) as (app, client):
        admin = await register_admin(client, app.state.services.database)
        answered = await client.get("/api/v1/ops/cluster", headers=bearer(admin))
        assert answered.status_code == 502
        body = answered.json()
        assert body["success"] is False
        assert body["message"] == "Prometheus did not answer; the figures are unavailable"
        assert body["requestId"] == answered.headers["x-request-id"]
