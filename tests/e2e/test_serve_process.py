"""`taskyard serve` as an operator runs it: several workers, and SIGTERM mid-request."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import PASSWORD
from tests.serving import TASKYARD, free_port, server_env, wait_until_live
from tests.support import SmtpServer, fresh_database

# The slow tier (whole processes, as deployed): `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database("sqlite", tmp_path, request)


def start(
    database_url: str, workdir: Path, *args: str, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [TASKYARD, "serve", "--port", str(port), *args],
            env={**server_env(database_url), **env},
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_live(base_url, process, log)
    return process, base_url


def metric(base_url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_metrics_add_up_across_workers(sqlite_database: str, tmp_path: Path) -> None:
    process, base_url = start(sqlite_database, tmp_path, "--workers", "2")
    try:
        for _ in range(60):
            with httpx.Client() as fresh_connection:  # spread over the workers
                assert fresh_connection.get(f"{base_url}/health").status_code == 200
        labels = {"method": "GET", "route": "/health", "status": "200"}
        # Whichever worker answers the scrape, it reports every worker's count.
        counts = {metric(base_url, "taskyard_http_requests_total", **labels) for _ in range(6)}
        assert counts == {60.0}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _start_slow_request(base_url: str, declared: int, first_part: bytes) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    connection.sendall(head + first_part)
    return connection


def _refuses_connections(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/health/live", timeout=0.5)
    except httpx.TransportError:
        return True
    return False


def test_sigterm_finishes_in_flight_requests_then_exits(
    sqlite_database: str, tmp_path: Path
) -> None:
    process, base_url = start(sqlite_database, tmp_path)
    body = b'{"email": "nobody@example.com", "password": "not-the-password"}'
    connection = _start_slow_request(base_url, len(body), body[:10])
    try:
        # The scrape counts itself, so 2 means our slow request is inside the app.
        wait_for(lambda: metric(base_url, "taskyard_http_requests_in_flight") == 2)
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: _refuses_connections(base_url))
        assert process.poll() is None  # still finishing the request in flight

        connection.sendall(body[10:])
        reply = b"".join(iter(lambda: connection.recv(65536), b"")).decode()  # until closed
        assert reply.startswith("HTTP/1.1 401"), reply[:200]
        assert '"Invalid credentials"' in reply
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert process.wait(timeout=15) in {0, -signal.SIGTERM}
    finally:
        connection.close()
        if process.poll() is None:
            process.kill()


def test_shutdown_waits_only_so_long_for_a_stuck_request(
    sqlite_database: str, tmp_path: Path
) -> None:
    process, base_url = start(sqlite_database, tmp_path, TASKYARD_SHUTDOWN_TIMEOUT="2")
    connection = _start_slow_request(base_url, 100, b'{"email"')
    try:
        wait_for(lambda: metric(base_url, "taskyard_http_requests_in_flight") == 2)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        assert time.monotonic() - stopped_at < 10
    finally:
        connection.close()
        if process.poll() is None:
            process.kill()


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(
    sqlite_database: str, tmp_path: Path
) -> None:
    """`TASKYARD_KEEP_ALIVE_TIMEOUT` reaches the server: an idle connection stays open that long
    (deploy/'s proxies give up theirs sooner, see tests/test_config.py), then is closed."""
    process, base_url = start(sqlite_database, tmp_path, TASKYARD_KEEP_ALIVE_TIMEOUT="2")
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/health/live")
        assert connection.getresponse().read()
        answered = time.monotonic()
        assert connection.sock is not None
        assert connection.sock.recv(1) == b""  # blocks until the server closes its end
        assert 1.5 <= time.monotonic() - answered < 4  # uvicorn alone would wait 5 s
    finally:
        connection.close()
        process.terminate()
        process.wait(timeout=15)


def test_serve_drains_the_outbox_by_itself(
    sqlite_database: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    process, base_url = start(sqlite_database, tmp_path, TASKYARD_SMTP_URL=smtp_server.url)
    try:
        email = "arrives@example.com"
        registered = httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={"name": "Arrival", "email": email, "password": "password123"},
        )
        assert registered.status_code == 201
        wait_for(lambda: bool(smtp_server.to(email)), within=15)
        assert smtp_server.to(email)[0]["Subject"] == "Welcome to Taskyard"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_without_smtp_the_mail_goes_to_the_log(sqlite_database: str, tmp_path: Path) -> None:
    process, base_url = start(sqlite_database, tmp_path, TASKYARD_LOG_LEVEL="info")
    log = tmp_path / f"serve-{base_url.rsplit(':', 1)[1]}.log"
    try:
        httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={"name": "Logged", "email": "logged@example.com", "password": "password123"},
        )
        wait_for(lambda: "Welcome to Taskyard" in log.read_text())
        assert "password123" not in log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _fresh(method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request on a connection of its own, so that successive ones spread over workers."""
    with httpx.Client() as connection:
        return connection.request(method, url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("shared", ["redis", "no redis"])
def test_revocation_bites_on_every_worker(
    shared: str, postgres_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each worker keeps the caller's state and cached views; a logout or a deactivation
    answered by one worker is refused by all of them on the very next request."""
    database_url = postgres_url
    env = {"TASKYARD_REDIS_URL": request.getfixturevalue("redis_url")} if shared == "redis" else {}
    if env:
        env["TASKYARD_REDIS_KEY_PREFIX"] = f"workers-{uuid.uuid4().hex[:8]}"
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    made = subprocess.run(
        [TASKYARD, "create-admin", "--email", admin_email, "--name", "Ada Admin"],
        env={**server_env(database_url), **env, "TASKYARD_ADMIN_PASSWORD": PASSWORD},
        capture_output=True,
    )
    assert made.returncode == 0, made.stderr
    process, base_url = start(database_url, tmp_path, "--workers", "2", **env)
    api = f"{base_url}/api/v1"
    try:
        admin = _fresh(
            "POST", f"{api}/auth/login", json={"email": admin_email, "password": PASSWORD}
        )
        people = []
        for name in ("Leaving", "Deactivated"):
            email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
            signed_up = _fresh(
                "POST",
                f"{api}/auth/register",
                json={"name": name, "email": email, "password": PASSWORD},
            )
            assert signed_up.status_code == 201
            people.append(signed_up.json()["data"])
        views = [f"{api}/tasks", f"{api}/tasks/stats"]
        for person in people:
            headers = {"Authorization": f"Bearer {person['token']}"}
            for _ in range(10):  # every worker now holds this person's state and views
                for view in views:
                    assert _fresh("GET", view, headers=headers).status_code == 200

        leaving, deactivated = people
        logout = _fresh(
            "POST", f"{api}/auth/logout", headers={"Authorization": f"Bearer {leaving['token']}"}
        )
        assert logout.status_code == 200
        changed = _fresh(
            "PATCH",
            f"{api}/users/{deactivated['user']['id']}",
            json={"isActive": False},
            headers={"Authorization": f"Bearer {admin.json()['data']['token']}"},
        )
        assert changed.status_code == 200
        for person in people:
            headers = {"Authorization": f"Bearer {person['token']}"}
            answers = {_fresh("GET", view, headers=headers).status_code for view in views * 10}
            assert answers == {401}, (person["user"]["name"], answers)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
