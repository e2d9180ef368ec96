"""The `taskyard` command line: create-admin, migrate, and refusing unsafe production settings."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from private_servers import PrivatePostgres
from sqlalchemy.engine import make_url

from taskyard import __version__
from tests.serving import PASSWORD, REPO, TASKYARD, Server, free_port, login
from tests.support import PostgresDatabases, TcpProxy, private

# The slow tier (whole processes, as deployed): `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


def test_create_admin_makes_a_working_admin(server: Server) -> None:
    email = f"Boss-{uuid.uuid4().hex[:6]}@Example.com"
    created = server.cli("create-admin", "--email", email, "--name", "Boss", "--password", PASSWORD)
    assert created.returncode == 0, created.stderr
    auth = login(server, email.lower())
    assert auth["user"]["role"] == "admin"
    users = httpx.get(f"{server.api}/users", headers={"Authorization": f"Bearer {auth['token']}"})
    assert users.status_code == 200


def test_create_admin_refuses_duplicates_and_bad_input(server: Server) -> None:
    email = server.admin["user"]["email"]
    duplicate = server.cli(
        "create-admin", "--email", email, "--name", "Again", "--password", PASSWORD
    )
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    weak = server.cli(
        "create-admin", "--email", "weak@example.com", "--name", "Weak", "--password", "short"
    )
    assert weak.returncode == 2
    assert "password" in weak.stderr
    no_password = server.cli("create-admin", "--email", "np@example.com", "--name", "No Password")
    assert no_password.returncode == 2
    assert "TASKYARD_ADMIN_PASSWORD" in no_password.stderr


def test_migrate_is_idempotent(server: Server) -> None:
    migrated = server.cli("migrate")
    assert migrated.returncode == 0, migrated.stderr


def test_production_refuses_to_start_without_a_strong_secret(server: Server) -> None:
    port = str(free_port())
    for secret in (None, "short", "x" * 31):
        env = {**server.env, "TASKYARD_ENV": "production"}
        env.pop("TASKYARD_SECRET_KEY")
        if secret is not None:
            env["TASKYARD_SECRET_KEY"] = secret
        result = subprocess.run(
            [TASKYARD, "serve", "--port", port],
            env=env,
            cwd=server.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert "TASKYARD_SECRET_KEY" in result.stderr


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`taskyard` as an operator runs it, with only the given TASKYARD_* settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")}
    return subprocess.run(
        [TASKYARD, *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_taskyard_alone_prints_the_help_and_the_version_is_one() -> None:
    bare = run_cli()
    assert bare.returncode == 0
    for command in ("serve", "migrate", "create-admin", "worker", "dead-letters", "openapi"):
        assert command in bare.stdout
    version = run_cli("--version")
    assert version.stdout.strip() == f"taskyard {__version__}"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'version = {attr = "taskyard.__version__"}' in pyproject  # one source
    assert "version" not in json.loads((REPO / "frontend" / "package.json").read_text())


def test_each_command_explains_its_options_and_what_it_reads() -> None:
    serve = run_cli("serve", "--help").stdout
    assert "(default: 8000)" in serve
    assert "(default: 127.0.0.1)" in serve
    # Every command's list is checked in process (tests/test_commands.py); here, as installed.
    for command, variable in (
        ("serve", "TASKYARD_REDIS_URL"),
        ("create-admin", "TASKYARD_ADMIN_PASSWORD"),
    ):
        text = run_cli(command, "--help").stdout
        assert variable in text, command
        assert "docs/configuration.md" in text, command


def _one_line_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_database_mistakes_are_one_line_and_exit_2(postgres: PostgresDatabases) -> None:
    admin = make_url(postgres.admin_url)
    plain = admin.set(drivername="postgresql")
    missing = plain.set(database=f"missing_{uuid.uuid4().hex[:8]}")
    _one_line_failure(
        run_cli("migrate", TASKYARD_DATABASE_URL=missing.render_as_string(hide_password=False)),
        "TASKYARD_DATABASE_URL",
        "does not exist",
        "createdb",
    )
    stranger = plain.set(username=f"stranger_{uuid.uuid4().hex[:8]}")
    _one_line_failure(
        run_cli(
            "create-admin",
            "--email",
            "a@example.com",
            "--name",
            "A",
            TASKYARD_DATABASE_URL=stranger.render_as_string(hide_password=False),
        ),
        "createuser",
    )
    port = free_port()
    unreachable = plain.set(drivername="postgres", host="127.0.0.1", port=port)
    url = unreachable.render_as_string(hide_password=False)
    _one_line_failure(run_cli("migrate", TASKYARD_DATABASE_URL=url), f"127.0.0.1:{port}")
    _one_line_failure(
        run_cli("migrate", TASKYARD_DATABASE_URL="mysql://root:hunter2@db/app"),
        "TASKYARD_DATABASE_URL",
        "postgresql://",
    )
    debug = run_cli("--debug", "migrate", TASKYARD_DATABASE_URL=url)
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


def test_migrate_can_wait_for_a_database_that_answers_late(postgres: PostgresDatabases) -> None:
    """As a one-shot container started beside its database must: `--wait` rides out a database
    that isn't listening yet, then migrates."""
    database = make_url(postgres.create())
    proxy = TcpProxy(database.host or "127.0.0.1", database.port or 5432)
    late = database.set(drivername="postgresql", host="127.0.0.1", port=proxy.port)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")}
    migrating = subprocess.Popen(
        [TASKYARD, "migrate", "--wait", "60"],
        env={**environment, "TASKYARD_DATABASE_URL": late.render_as_string(hide_password=False)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert migrating.stderr is not None
        for line in migrating.stderr:
            if "waiting for a service" in line:
                break
        assert migrating.poll() is None, "migrate gave up instead of waiting"
        asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(timeout=5)
        output, errors = migrating.communicate(timeout=60)
        assert migrating.returncode == 0, errors
        assert "database is up to date" in output
    finally:
        migrating.kill()
        asyncio.run_coroutine_threadsafe(proxy.cut(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        postgres.drop(database.render_as_string(hide_password=False))


def test_migrate_stops_waiting_at_its_deadline() -> None:
    unreachable = f"postgresql://taskyard@127.0.0.1:{free_port()}/taskyard"
    started = time.monotonic()
    gave_up = run_cli("migrate", "--wait", "3", TASKYARD_DATABASE_URL=unreachable)
    assert gave_up.returncode == 2
    assert time.monotonic() - started < 30
    assert "127.0.0.1" in gave_up.stderr.strip().splitlines()[-1]


def test_the_usual_postgresql_url_just_works(postgres_url: str) -> None:
    usual = make_url(postgres_url).set(drivername="postgresql")
    migrated = run_cli("migrate", TASKYARD_DATABASE_URL=usual.render_as_string(hide_password=False))
    assert migrated.returncode == 0, migrated.stderr


def test_redis_and_broker_mistakes_are_one_line_and_exit_2(
    sqlite_url: str, redis_url: str, broker_url: str
) -> None:
    database = {"TASKYARD_DATABASE_URL": sqlite_url}
    no_such_database = urlunsplit(urlsplit(redis_url)._replace(path="/99"))
    _one_line_failure(
        run_cli(
            "serve", "--port", str(free_port()), TASKYARD_REDIS_URL=no_such_database, **database
        ),
        "TASKYARD_REDIS_URL",
        "no database 99",
    )
    _one_line_failure(
        run_cli("migrate", TASKYARD_REDIS_URL="redsi://127.0.0.1:6379/0", **database),
        "TASKYARD_REDIS_URL",
        "redis://",
    )
    host = urlsplit(broker_url).netloc.rpartition("@")[2]
    _one_line_failure(
        run_cli("dead-letters", TASKYARD_BROKER_URL=f"amqp://guest:wrong@{host}/", **database),
        "ACCESS_REFUSED",
    )
    port = free_port()
    _one_line_failure(
        run_cli("dead-letters", TASKYARD_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{port}/"),
        f"127.0.0.1:{port}",
        "connection refused",
    )


def test_a_wrong_database_password_is_one_line_and_exit_2() -> None:
    server = private(lambda: PrivatePostgres(password="the-right-password"))
    server.start()
    try:
        _one_line_failure(
            run_cli("migrate", TASKYARD_DATABASE_URL=server.url(password="not-the-password")),
            "TASKYARD_DATABASE_URL",
            "password authentication failed",
        )
        migrated = run_cli("migrate", TASKYARD_DATABASE_URL=server.url())
        assert migrated.returncode == 0, migrated.stderr
    finally:
        server.remove()


def test_the_worker_waits_for_a_broker_that_is_not_answering(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")}
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [TASKYARD, "worker"],
            env={
                **environment,
                "TASKYARD_DATABASE_URL": sqlite_url,
                "TASKYARD_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{port}/",
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("waiting for a service") < 2:  # it tried again, later
            assert worker.poll() is None, log.read_text()  # still running, not exited
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        text = log.read_text()
        assert f"127.0.0.1:{port}" in text
        assert "Traceback" not in text
    finally:
        worker.terminate()
        worker.wait(timeout=10)
