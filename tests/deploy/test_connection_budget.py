"""deploy/compose.yaml's connection budget: every process of a profile at its pool's ceiling
still fits in PostgreSQL's max_connections (less the superusers' reserve)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
SUPERUSER_RESERVED = 3  # PostgreSQL's default superuser_reserved_connections


def _option(command: list[str], name: str) -> int:
    values = [
        command[n + 1].split("=", 1)[1]
        for n, word in enumerate(command[:-1])
        if word == "-c" and command[n + 1].startswith(f"{name}=")
    ]
    assert values, f"{name} is not set in {command}"
    return int(values[-1])


def _workers(command: list[str]) -> int:
    return int(command[command.index("--workers") + 1]) if "--workers" in command else 1


def _taskyard_processes(services: dict[str, Any], profile: str) -> list[tuple[str, int, int]]:
    """(service, processes, connections each) for the long-running Taskyard services."""
    rows = []
    for name, service in services.items():
        command = service.get("command") or []
        if profile not in service.get("profiles", []) or command[:1] not in (["serve"], ["worker"]):
            continue
        environment = service["environment"]
        ceiling = int(environment["TASKYARD_DB_POOL_SIZE"]) + int(
            environment["TASKYARD_DB_MAX_OVERFLOW"]
        )
        replicas = service.get("deploy", {}).get("replicas", 1)
        rows.append((name, replicas * _workers(command), ceiling))
    return rows


@pytest.mark.parametrize("profile", ["monolith", "split"])
def test_every_process_at_its_ceiling_fits_the_database(profile: str) -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    processes = _taskyard_processes(services, profile)
    assert {name for name, _, _ in processes} >= (
        {"api", "worker"} if profile == "monolith" else {"auth", "tasks", "auth-worker"}
    )
    demand = sum(count * ceiling for _, count, ceiling in processes)
    for server in ("postgres", "postgres-replica"):
        allowed = _option(services[server]["command"], "max_connections")
        assert demand <= allowed - SUPERUSER_RESERVED, (server, processes, allowed)
