"""The real `taskyard serve` process on a free port, and HTTP helpers for talking to it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    GENEROUS_RATE_LIMITS,
    SMALL_POOL,
    TEST_SECRET_KEY,
    PostgresDatabases,
    delete_broker_namespace,
    fresh_database,
    service_unavailable,
    unique_prefix,
)

TASKYARD = str(Path(sys.executable).with_name("taskyard"))
REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 30.0
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_live(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"taskyard serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"taskyard serve did not come up:\n{log.read_text()}")


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    backend: str
    workdir: Path
    admin: dict[str, Any] = field(default_factory=dict)
    # What `deploy/local-cluster` reported, for a server behind its nginx.
    cluster: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    def cli(
        self, *args: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TASKYARD, *args],
            env={**self.env, **(extra_env or {})},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def server_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKYARD_")}
    env.update(
        {
            "TASKYARD_ENV": "development",
            "TASKYARD_DATABASE_URL": database_url,
            "TASKYARD_SECRET_KEY": TEST_SECRET_KEY,
            "TASKYARD_LOG_LEVEL": "warning",
            # The reuse tests here check theft detection itself; the grace has tests of its own.
            "TASKYARD_REFRESH_REUSE_GRACE_SECONDS": "0",
            **{f"TASKYARD_{name.upper()}": value for name, value in GENEROUS_RATE_LIMITS.items()},
            # Many tests sign in wrongly on purpose from one address; the check has tests of
            # its own (tests/auth/test_challenge.py, tests/web/test_challenge.py).
            "TASKYARD_CHALLENGE_AFTER_FAILURES": "1000",
            **SMALL_POOL,
        }
    )
    return env


def create_admin(server: Server, name: str = "Ada Admin") -> dict[str, Any]:
    """A new admin made by `taskyard create-admin`, signed in."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    created = server.cli(
        "create-admin",
        "--email",
        email,
        "--name",
        name,
        extra_env={"TASKYARD_ADMIN_PASSWORD": PASSWORD},
    )
    assert created.returncode == 0, created.stderr
    return login(server, email)


def login(server: Server, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = httpx.post(f"{server.api}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def register(server: Server, name: str = "Test Person") -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(
        f"{server.api}/auth/register", json={"name": name, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def bearer(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['token']}"}


def served_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[Server]:
    """For a fixture parametrised by backend: a fresh database and the server on it."""
    workdir = tmp_path_factory.mktemp(f"{name}-{request.param}")
    databases = fresh_database(request.param, workdir, request)
    database_url = next(databases)
    try:
        with running_server(database_url, workdir, request.param) as running:
            yield running
    finally:
        next(databases, None)


@contextmanager
def running_server(
    database_url: str,
    workdir: Path,
    backend: str,
    extra_env: dict[str, str] | None = None,
    *,
    with_admin: bool = True,
) -> Iterator[Server]:
    """`taskyard serve` on a migrated database, with an admin unless told otherwise (a split
    task service keeps no accounts); stopped on the way out."""
    port = free_port()
    running = Server(
        f"http://127.0.0.1:{port}",
        {**server_env(database_url), **(extra_env or {})},
        backend,
        workdir,
    )
    if backend != "sqlite":
        migrated = running.cli("migrate")
        assert migrated.returncode == 0, migrated.stderr
    log = workdir / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [TASKYARD, "serve", "--port", str(port)],
            env=running.env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_live(running.base_url, process, log)
        if with_admin:
            running.admin = create_admin(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


LOCAL_CLUSTER = REPO / "deploy" / "local-cluster"


def served_split(
    request: pytest.FixtureRequest, workdir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """The split services behind the nginx gateway (`deploy/local-cluster up --split`): two
    auth and two task instances, each service on its own PostgreSQL database, a worker for
    each, RabbitMQ and Redis. The Server's commands run against the auth service."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        service_unavailable("nginx is not installed")
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    broker_url: str = request.getfixturevalue("broker_url")
    redis_url: str = request.getfixturevalue("redis_url")
    auth_url, tasks_url = databases.create(), databases.create()
    broker_prefix = unique_prefix()
    env = {
        **server_env(auth_url),
        "TASKYARD_BIN": TASKYARD,
        "TASKYARD_AUTH_DATABASE_URL": auth_url,
        "TASKYARD_TASKS_DATABASE_URL": tasks_url,
        "TASKYARD_BROKER_URL": broker_url,
        "TASKYARD_BROKER_PREFIX": broker_prefix,
        "TASKYARD_REDIS_URL": redis_url,
        "TASKYARD_REDIS_KEY_PREFIX": unique_prefix(),
        "TASKYARD_OUTBOX_POLL_SECONDS": "0.2",
        **(extra_env or {}),
    }
    command = [sys.executable, str(LOCAL_CLUSTER), "--state-dir", str(workdir / "cluster")]
    try:
        started = subprocess.run(
            [*command, "up", "--split", "--port", "0", "--first-instance-port", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert started.returncode == 0, started.stderr + started.stdout
        state = json.loads(started.stdout)
        running = Server(
            state["url"], {**env, "TASKYARD_SERVICE": "auth"}, "split", workdir, cluster=state
        )
        running.admin = create_admin(running)
        yield running
    finally:
        subprocess.run([*command, "down"], env=env, capture_output=True, timeout=60, check=False)
        databases.drop(auth_url)
        databases.drop(tasks_url)
        delete_broker_namespace(broker_url, broker_prefix)
