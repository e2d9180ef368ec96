"""The `taskyard` command line: create-admin, migrate, and refusing unsafe production settings."""

from __future__ import annotations

import subprocess
import uuid

import httpx

from tests.serving import PASSWORD, TASKYARD, Server, free_port, login


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
