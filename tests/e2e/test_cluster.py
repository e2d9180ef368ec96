"""The scaled-out topology for real: nginx (least_conn) in front of three `taskyard serve`
instances sharing PostgreSQL and Redis, started by `deploy/local-cluster`.

Each test speaks from its own loopback address (127.0.0.x), so per-IP limits don't collide.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import redis

from taskyard.config import DEFAULT_WEB_DIR
from taskyard.web.router import CLIENT_CSP, IMMUTABLE, find_client
from tests.live.streams import open_stream
from tests.serving import PASSWORD, REPO
from tests.support import (
    SECURITY_HEADERS,
    SMALL_POOL,
    PostgresDatabases,
    redis_space,
    service_unavailable,
    unique_prefix,
)

# The slow tier (whole processes, as deployed): `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


LOCAL_CLUSTER = REPO / "deploy" / "local-cluster"
USER_LIMIT, ADMIN_LIMIT, AUTH_LIMIT = 15, 25, 4


@dataclass
class Cluster:
    url: str
    instances: list[str]
    env: dict[str, str]
    redis_url: str
    redis_prefix: str

    def client(self, source: str, base_url: str | None = None) -> httpx.Client:
        """A client whose connections come from `source`, one of 127.0.0.0/8."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=base_url or self.url, transport=transport, timeout=10)


@pytest.fixture(scope="module")
def cluster(
    postgres: PostgresDatabases, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        service_unavailable("nginx is not installed")
    database_url = postgres.create()
    state_dir = tmp_path_factory.mktemp("cluster")
    prefix = unique_prefix()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKYARD_")}
    env.update(
        {
            "TASKYARD_BIN": str(Path(sys.executable).with_name("taskyard")),
            "TASKYARD_DATABASE_URL": database_url,
            "TASKYARD_REDIS_URL": redis_url,
            "TASKYARD_REDIS_KEY_PREFIX": prefix,
            "TASKYARD_RATE_LIMIT": f"{USER_LIMIT}/hour",
            "TASKYARD_RATE_LIMIT_ADMIN": f"{ADMIN_LIMIT}/hour",
            "TASKYARD_RATE_LIMIT_LOGIN": f"{AUTH_LIMIT}/hour",
            "TASKYARD_LOG_LEVEL": "warning",
            **SMALL_POOL,
        }
    )
    command = [sys.executable, str(LOCAL_CLUSTER), "--state-dir", str(state_dir)]
    started = subprocess.run(
        [*command, "up", "--instances", "3", "--port", "0", "--first-instance-port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        state = json.loads(started.stdout)
        yield Cluster(state["url"], state["instances"], env, redis_url, prefix)
    finally:
        subprocess.run([*command, "down"], env=env, capture_output=True, timeout=60, check=False)
        postgres.drop(database_url)


def register(cluster: Cluster, source: str) -> dict[str, Any]:
    with cluster.client(source) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={
                "name": "Cluster User",
                "email": f"c-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
            },
        )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def bearer(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['token']}"}


def test_three_instances_share_one_users_limit(cluster: Cluster) -> None:
    auth = register(cluster, "127.0.0.11")
    entry_points = [cluster.url, *cluster.instances]
    statuses = []
    for n in range(USER_LIMIT + 6):
        with httpx.Client(base_url=entry_points[n % len(entry_points)]) as client:
            statuses.append(client.get("/api/v1/auth/me", headers=bearer(auth)).status_code)
    assert statuses == [200] * USER_LIMIT + [429] * 6


def test_an_admin_gets_the_admin_limit(cluster: Cluster) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    created = subprocess.run(
        [
            cluster.env["TASKYARD_BIN"],
            "create-admin",
            "--email",
            email,
            "--name",
            "Cluster Admin",
            "--password",
            PASSWORD,
        ],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    with cluster.client("127.0.0.12") as client:
        login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200
        headers = bearer(login.json()["data"])
        statuses = [
            client.get("/api/v1/users", headers=headers).status_code for _ in range(ADMIN_LIMIT + 2)
        ]
    assert statuses == [200] * ADMIN_LIMIT + [429] * 2


def test_login_is_throttled_per_address_and_email(cluster: Cluster) -> None:
    attempt = {"email": "someone@example.com", "password": "wrong-password"}
    with cluster.client("127.0.0.13") as attacker:
        statuses = [
            attacker.post("/api/v1/auth/login", json=attempt).status_code
            for _ in range(AUTH_LIMIT + 2)
        ]
        throttled = attacker.post("/api/v1/auth/login", json=attempt)
    assert statuses == [401] * AUTH_LIMIT + [429] * 2
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["success"] is False
    with cluster.client("127.0.0.14") as bystander:
        assert bystander.post("/api/v1/auth/login", json=attempt).status_code == 401
    with cluster.client("127.0.0.13") as colleague:  # same address, another account
        other = {**attempt, "email": "someone-else@example.com"}
        assert colleague.post("/api/v1/auth/login", json=other).status_code == 401


def test_forged_forwarded_for_does_not_reset_the_limit(cluster: Cluster) -> None:
    with cluster.client("127.0.0.15") as through_nginx:
        statuses = [
            through_nginx.get("/", headers={"X-Forwarded-For": f"10.1.2.{n}"}).status_code
            for n in range(USER_LIMIT + 3)
        ]
    assert statuses == [200] * USER_LIMIT + [429] * 3
    # Straight at an instance from an address it doesn't trust: the header is ignored entirely.
    with cluster.client("127.0.0.16", base_url=cluster.instances[0]) as direct:
        statuses = [
            direct.get("/", headers={"X-Forwarded-For": f"10.9.9.{n}"}).status_code
            for n in range(USER_LIMIT + 3)
        ]
    assert statuses == [200] * USER_LIMIT + [429] * 3


def test_logout_through_one_instance_rejects_the_token_at_another(cluster: Cluster) -> None:
    auth = register(cluster, "127.0.0.17")
    first, second = cluster.instances[0], cluster.instances[1]
    assert httpx.get(f"{second}/api/v1/auth/me", headers=bearer(auth)).status_code == 200
    assert httpx.post(f"{first}/api/v1/auth/logout", headers=bearer(auth)).status_code == 200
    assert httpx.get(f"{second}/api/v1/auth/me", headers=bearer(auth)).status_code == 401
    jti = jwt.decode(auth["token"], options={"verify_signature": False})["jti"]
    space = redis_space(cluster.redis_url, cluster.redis_prefix)
    assert redis.Redis.from_url(cluster.redis_url).exists(f"{space}:denylist:{jti}")


def assert_secure(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert "content-security-policy" in response.headers
    server = response.headers.get("server", "")
    assert not any(character.isdigit() for character in server), server  # no version banner


def test_security_headers_everywhere_through_nginx(cluster: Cluster) -> None:
    auth = register(cluster, "127.0.0.18")
    with cluster.client("127.0.0.18") as client:
        responses = [
            client.get("/api/v1/tasks", headers=bearer(auth)),
            client.get("/api-docs"),
            client.get("/api-docs.json"),
            client.get("/api/v1/no/such/route"),
            client.get("/api/v1/tasks"),
            client.post(
                "/api/v1/tasks",
                content=b"x" * (2 * 1024 * 1024),
                headers={**bearer(auth), "Content-Type": "application/json"},
            ),
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 401, 413]
    for response in responses:
        assert_secure(response)
        assert response.headers["x-request-id"]
    for error in responses[3:]:
        assert error.json()["success"] is False


def test_the_web_client_through_nginx(cluster: Cluster) -> None:
    build = find_client(DEFAULT_WEB_DIR)
    if build is None:
        service_unavailable("the web client is not built; `make test` builds it (needs npm)")
    assert build is not None
    asset = next((build / "assets").glob("index-*.js")).name  # the entry; others load lazily
    with cluster.client("127.0.0.23") as client:
        page = client.get("/admin/users")  # a client-side route, straight from the address bar
        script = client.get(f"/assets/{asset}", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert f"/assets/{asset}" in page.text
    assert page.headers["content-security-policy"] == CLIENT_CSP
    assert page.headers["cache-control"] == "no-cache"
    assert script.status_code == 200
    assert script.headers["cache-control"] == IMMUTABLE
    assert script.headers["content-encoding"] == "gzip"
    assert_secure(page)


def test_gzip_through_nginx_when_accepted(cluster: Cluster) -> None:
    with (
        cluster.client("127.0.0.19") as client,
        client.stream("GET", "/api-docs.json", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    with cluster.client("127.0.0.19") as client:
        plain = client.get("/api-docs.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(raw) < len(plain.content) / 2


def test_large_body_is_413_in_the_envelope(cluster: Cluster) -> None:
    auth = register(cluster, "127.0.0.20")
    with cluster.client("127.0.0.20") as client:
        response = client.post(
            "/api/v1/tasks",
            content=b'{"title": "' + b"a" * 1_100_000 + b'"}',
            headers={**bearer(auth), "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    body = response.json()
    assert body == {
        "success": False,
        "message": "Request body too large",
        "requestId": body["requestId"],
    }


def test_metrics_count_the_requests_just_made(cluster: Cluster) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    instance = cluster.instances[2]

    def served_ok() -> float:
        text = httpx.get(f"{instance}/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name == "taskyard_http_requests_total" and labels == {
                    "method": "GET",
                    "route": "/health",
                    "status": "200",
                }:
                    return float(sample.value)
        return 0.0

    before = served_ok()
    for _ in range(7):
        assert httpx.get(f"{instance}/health").status_code == 200
    assert served_ok() - before == 7


async def test_the_event_stream_through_nginx_hears_every_instance(cluster: Cluster) -> None:
    """nginx passes the stream on unbuffered: each write, made straight at each instance in
    turn, arrives on the one stream nginx holds open to whichever instance it chose."""
    auth = register(cluster, "127.0.0.31")
    async with open_stream(cluster.url, bearer(auth)) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        for number, instance in enumerate(cluster.instances):
            with cluster.client("127.0.0.31", base_url=instance) as client:
                created = client.post(
                    "/api/v1/tasks", json={"title": f"From instance {number}"}, headers=bearer(auth)
                )
            assert created.status_code == 201, created.text
            heard = await stream.event_of("task.created", within=10)
            assert heard.json["data"]["title"] == f"From instance {number}"
