"""deploy/compose.yaml, brought up for real in containers (with deploy/compose.local.yaml's images,
built here from Debian) in each profile: the contract through the stack's nginx, a welcome mail
carried out by a worker, reads served by the streaming replica, and Prometheus scraping every
instance and evaluating the rules that the operations panel reads back. Only the gateway is
published, on a free port: this machine's own PostgreSQL, Redis and RabbitMQ keep theirs."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from private_servers import wait_until

from tests.deploy.compose_stack import (
    DEPLOY,
    REPO,
    ComposeStack,
    env_options,
    podman,
    podman_problem,
)
from tests.postman import run_collection
from tests.serving import PASSWORD
from tests.support import GENEROUS_RATE_LIMITS, SmtpServer, any_free_port, service_unavailable

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

T = TypeVar("T")
RULES = DEPLOY / "compose" / "prometheus"
PROMETHEUS_IMAGE = "localhost/taskyard-prometheus:local"  # as compose.local.yaml names it


# Per profile: the services behind the gateway, where accounts live, and whose worker mails.
@dataclass(frozen=True)
class Profile:
    serving: tuple[str, ...]
    accounts: str
    mailer: str


PROFILES = {
    "monolith": Profile(serving=("api",), accounts="api", mailer="worker"),
    "split": Profile(serving=("auth", "tasks"), accounts="auth", mailer="auth-worker"),
}


def eventually(probe: Callable[[], T | None], what: str, within: float = 60.0) -> T:
    """Polls until `probe` returns something other than None (or fails after `within`)."""
    return wait_until(probe, within=within, what=what, every=0.5)


def unused_subnet() -> str:
    taken = {
        ipaddress.ip_network(subnet["subnet"])
        for network in json.loads(podman("network", "inspect", "--all").stdout or "[]")
        for subnet in network.get("subnets") or []
    }
    for third in range(200, 255):
        candidate = ipaddress.ip_network(f"10.89.{third}.0/24")
        if not any(candidate.overlaps(other) for other in taken):
            return str(candidate)
    raise AssertionError("no free 10.89.x.0/24 subnet for the stack's network")


@pytest.fixture(scope="module")
def images() -> Iterator[str]:
    """Every image compose.local.yaml names; Taskyard's own under a tag of this run's."""
    problem = podman_problem()
    if problem:
        service_unavailable(problem)
    if not (REPO / "src" / "taskyard" / "web" / "dist" / "index.html").is_file():
        service_unavailable("the web client is not built (make web)")
    image = f"localhost/taskyard:compose-{uuid.uuid4().hex[:8]}"
    built = subprocess.run(
        [str(DEPLOY / "images" / "build-stack")],
        env={**os.environ, "TASKYARD_IMAGE": image},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        yield image
    finally:
        podman("rmi", "-f", image)


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[SmtpServer]:
    sink = SmtpServer(hostname="0.0.0.0")  # noqa: S104 - the stack's containers send to it
    sink.start()
    yield sink
    sink.stop()


class Stack:
    def __init__(self, compose: ComposeStack, profile: str, url: str) -> None:
        self.compose = compose
        self.profile = profile
        self.url = url
        self.expected = PROFILES[profile]

    def serving_containers(self) -> list[str]:
        return [c for s in self.expected.serving for c in self.compose.containers(s)]

    def prometheus(self, path: str) -> Any:
        """Prometheus' HTTP API, asked from inside its container: it isn't published."""
        (container,) = self.compose.containers("prometheus")
        body = self.compose.exec(container, "wget", "-q", "-O", "-", f"http://127.0.0.1:9090{path}")
        return json.loads(body)["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.prometheus(
            "/api/v1/query?" + httpx.QueryParams(query=promql).__str__()
        )["result"]
        return result


@pytest.fixture(scope="module", params=list(PROFILES))
def stack(
    request: pytest.FixtureRequest,
    images: str,
    mail_sink: SmtpServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    profile: str = request.param
    workdir = tmp_path_factory.mktemp(f"compose-{profile}")
    port = any_free_port()
    settings = {
        "TASKYARD_IMAGE": images,
        "TASKYARD_SECRET_KEY": secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "POSTGRES_REPLICATION_PASSWORD": secrets.token_hex(16),
        "RABBITMQ_PASSWORD": secrets.token_hex(16),
        "TASKYARD_HTTP_BIND": "127.0.0.1",
        "TASKYARD_HTTP_PORT": str(port),
        "TASKYARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TASKYARD_SUBNET": unused_subnet(),
        "TASKYARD_SMTP_URL": f"smtp://host.containers.internal:{mail_sink.port}",
    }
    env_file = workdir / "stack.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    # The contract's run signs in and registers more often than production's limits allow.
    limits = {f"TASKYARD_{name.upper()}": value for name, value in GENEROUS_RATE_LIMITS.items()}
    serving = PROFILES[profile].serving
    test_override = workdir / "compose.test.yaml"
    # One uvicorn worker an instance: the whole stack shares this machine's two cores.
    one_worker = ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]  # noqa: S104
    test_override.write_text(
        yaml.safe_dump(
            {"services": {name: {"environment": limits, "command": one_worker} for name in serving}}
        )
    )
    compose = ComposeStack(
        project=f"taskyard-test-{uuid.uuid4().hex[:6]}",
        files=[DEPLOY / "compose.yaml", DEPLOY / "compose.local.yaml", test_override],
        env_file=env_file,
        profile=profile,
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    started = time.monotonic()
    try:
        compose.up()
        up_seconds = time.monotonic() - started
        yield Stack(compose, profile, f"http://127.0.0.1:{port}")
    finally:
        stopping = time.monotonic()
        compose.down()
        if reporter is not None and "up_seconds" in locals():
            reporter.write_line(
                f"compose stack ({profile}): up in {up_seconds:.0f} s, "
                f"down in {time.monotonic() - stopping:.0f} s, "
                f"{time.monotonic() - started:.0f} s in all"
            )


@pytest.fixture(scope="module")
def admin_email(stack: Stack) -> str:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    container = stack.compose.containers(stack.expected.accounts)[0]
    command = ["taskyard", "create-admin", "--email", email, "--name", "Compose Admin"]
    # A one-shot command fails at once if the database is slow to answer on a loaded machine.
    env = {"TASKYARD_ADMIN_PASSWORD": PASSWORD, "TASKYARD_DB_CONNECT_TIMEOUT": "30"}
    eventually(
        lambda: (
            podman("exec", *env_options(env), container, *command, timeout=120).returncode == 0
            or None
        ),
        "create-admin succeeded",
        within=120,
    )
    return email


def sign_in(stack: Stack, email: str) -> dict[str, str]:
    signed_in = httpx.post(
        f"{stack.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['data']['token']}"}


def test_every_service_settles_and_only_the_gateway_is_published(stack: Stack) -> None:
    ready = httpx.get(f"{stack.url}/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["components"]["broker"]["status"] == "up"
    replicas = {"monolith": 3, "split": 5}[stack.profile]
    assert len(stack.serving_containers()) == replicas
    published = [
        container
        for service in stack.compose.services()
        for container in stack.compose.containers(service)
        if podman("port", container).stdout.strip()
    ]
    assert [c.rsplit("_", 2)[-2] for c in published] in (["gateway"], ["gateway-split"])


def test_the_contract_passes_through_the_stacks_nginx(
    stack: Stack, admin_email: str, tmp_path: Path
) -> None:
    # Healthy means each instance reached its database; a task instance also needs the auth
    # service's key set before it takes a token, and on a loaded machine that can lag.
    headers = sign_in(stack, admin_email)
    eventually(
        lambda: httpx.get(f"{stack.url}/api/v1/tasks", headers=headers).status_code == 200 or None,
        "a signed-in request served through the gateway",
    )
    run = run_collection(stack.url, admin_email, tmp_path)
    assert run["stats"]["requests"]["failed"] == 0


def test_a_worker_delivers_the_welcome_mail(stack: Stack, mail_sink: SmtpServer) -> None:
    email = f"welcome-{uuid.uuid4().hex[:8]}@example.com"
    registered = httpx.post(
        f"{stack.url}/api/v1/auth/register",
        json={"name": "Boxed In", "email": email, "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    (mail,) = eventually(lambda: mail_sink.to(email) or None, "the welcome mail arrived")
    assert "Welcome" in mail["Subject"]
    senders = [
        container
        for container in stack.compose.containers(stack.expected.mailer)
        if email in stack.compose.logs(container, tail=200)
    ]
    assert len(senders) == 1, "exactly one worker sent it"


def test_the_replica_streams_and_serves_reads(stack: Stack, admin_email: str) -> None:
    (replica,) = stack.compose.containers("postgres-replica")
    database = {"monolith": "taskyard", "split": "taskyard_auth"}[stack.profile]
    seen = stack.compose.exec(
        replica,
        "psql",
        "-U",
        "taskyard",
        "-d",
        database,
        "-Atc",
        f"select pg_is_in_recovery(), count(*) from users where email = '{admin_email}'",
    )
    assert seen.strip() == "t|1"  # a standby, holding the row written on the primary
    headers = sign_in(stack, admin_email)

    def replica_reads() -> list[dict[str, Any]] | None:
        # Reads keep coming: right after signing in (a write) they go to the primary for a
        # few seconds (read-your-writes), then to the replica.
        fresh = {"search": uuid.uuid4().hex}  # never cached: each one reads the database
        listed = httpx.get(f"{stack.url}/api/v1/tasks", params=fresh, headers=headers)
        assert listed.status_code == 200
        return stack.query('sum(taskyard_db_reads_total{target="replica"}) > 0') or None

    reads = eventually(replica_reads, "Prometheus saw reads served by the replica", within=90)
    assert float(reads[0]["value"][1]) > 0


def test_prometheus_scrapes_every_instance_and_evaluates_the_rules(stack: Stack) -> None:
    instances = len(stack.serving_containers())

    def all_up() -> list[dict[str, Any]] | None:
        targets = [
            target
            for target in stack.prometheus("/api/v1/targets?state=active")["activeTargets"]
            if target["labels"]["job"] == "taskyard"
        ]
        healthy = len(targets) == instances and all(t["health"] == "up" for t in targets)
        return targets if healthy else None

    targets = eventually(all_up, f"Prometheus scrapes all {instances} instances")
    assert {t["labels"]["service"] for t in targets} == set(stack.expected.serving)

    def evaluated() -> dict[str, Any] | None:
        for group in stack.prometheus("/api/v1/rules")["groups"]:
            for rule in group["rules"]:
                if rule["name"] == "taskyard:instance_available" and rule["health"] == "ok":
                    return rule if not rule["lastEvaluation"].startswith("0001") else None
        return None

    eventually(evaluated, "the availability rule evaluated")
    available = eventually(
        lambda: (
            (
                (found := stack.query("taskyard:instance_available == 1"))
                and len(found) == instances
                and found
            )
            or None
        ),
        "every instance counted available",
    )
    assert len(available) == instances


def test_the_operations_panel_reads_the_whole_cluster(stack: Stack, admin_email: str) -> None:
    headers = sign_in(stack, admin_email)
    for _ in range(10):
        httpx.get(f"{stack.url}/api/v1/tasks", headers=headers)

    def overview() -> dict[str, Any] | None:
        answered = httpx.get(f"{stack.url}/api/v1/ops/cluster", headers=headers)
        if answered.status_code == 502:
            return None  # Prometheus answers, but has not scraped yet: wait for it
        assert answered.status_code == 200, answered.text
        data: dict[str, Any] = answered.json()["data"]
        counted = data["requestsPerSecond"] or 0
        return data if counted > 0 and len(data["instances"]) == instances else None

    instances = len(stack.serving_containers())
    data = eventually(overview, "the panel's figures cover every instance", within=90)
    assert data["source"] == "prometheus"
    assert all(i["up"] and i["ready"] for i in data["instances"])
    assert data["errorRate"] is None or data["errorRate"] < 0.01
    assert data["p95Seconds"] is not None


def test_the_alert_rules_pass_their_own_unit_tests(images: str) -> None:
    """promtool, in the stack's Prometheus image: each alert fires when its target is broken."""
    tested = podman(
        "run",
        "--rm",
        "--entrypoint",
        "promtool",
        "-v",
        f"{RULES}:/rules:ro",
        "-w",
        "/rules",
        PROMETHEUS_IMAGE,
        "test",
        "rules",
        "taskyard.rules.test.yml",
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout + tested.stderr
