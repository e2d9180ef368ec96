"""deploy/compose.yaml brought up for real with podman-compose, in the order its `depends_on`
names, each service waited on until it has settled.

Compose itself waits on `condition: service_healthy`; podman-compose does only with podman 4.6
and later, and podman runs healthchecks on systemd timers, which a machine without systemd
lacks. So this runs the stack one dependency level at a time (`up --no-deps`), and settles each
service by running its own healthcheck (`podman healthcheck run`) until it passes, as the
timers would; a one-shot service (`restart: "no"`) must exit 0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def env_options(env: dict[str, str]) -> list[str]:
    """`podman exec -e` options for these variables."""
    return [part for key, value in env.items() for part in ("-e", f"{key}={value}")]


def dependency_levels(services: dict[str, Any]) -> list[list[str]]:
    """The services in start order: each level depends only on the levels before it."""
    remaining = {
        name: set(service.get("depends_on") or {}) & services.keys()
        for name, service in services.items()
    }
    levels: list[list[str]] = []
    started: set[str] = set()
    while remaining:
        level = sorted(name for name, needs in remaining.items() if needs <= started)
        if not level:
            raise ValueError(f"depends_on has a cycle among {sorted(remaining)}")
        levels.append(level)
        started.update(level)
        for name in level:
            del remaining[name]
    return levels


@dataclass
class ComposeStack:
    project: str
    files: list[Path]
    env_file: Path
    profile: str

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = [
            str(Path(sys.executable).with_name("podman-compose")),
            "--env-file",
            str(self.env_file),
            "-p",
            self.project,
            *[part for file in self.files for part in ("-f", str(file))],
            "--profile",
            self.profile,
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def services(self) -> dict[str, Any]:
        """The merged configuration's services that this profile runs."""
        rendered = self.compose("config")
        assert rendered.returncode == 0, rendered.stderr[-3000:]
        services: dict[str, Any] = yaml.safe_load(rendered.stdout)["services"]
        return {
            name: service
            for name, service in services.items()
            if not service.get("profiles") or self.profile in service["profiles"]
        }

    def containers(self, service: str) -> list[str]:
        listed = podman(
            "ps",
            "-a",
            "--filter",
            f"label=io.podman.compose.project={self.project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
            "--format",
            "{{.Names}}",
        )
        return sorted(listed.stdout.split())

    def up(self, *, timeout: float = 300) -> None:
        services = self.services()
        for level in dependency_levels(services):
            started = self.compose("up", "-d", "--no-deps", *level)
            assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
            for name in level:
                self.settle(name, services[name], deadline=time.monotonic() + timeout)

    def settle(self, name: str, service: dict[str, Any], *, deadline: float) -> None:
        containers = self.containers(name)
        assert containers, f"{name}: no container was created"
        one_shot = str(service.get("restart", "no")) == "no"
        checked = not (service.get("healthcheck") or {}).get("disable", False)
        for container in containers:
            while True:
                state = self.state(container)
                if one_shot and state["Status"] == "exited":
                    assert state["ExitCode"] == 0, self.logs(container)
                    break
                if (
                    not one_shot
                    and state["Status"] == "running"
                    and (not checked or podman("healthcheck", "run", container).returncode == 0)
                ):
                    break
                assert time.monotonic() < deadline, f"{container} never settled:\n" + self.logs(
                    container
                )
                time.sleep(1)

    def state(self, container: str) -> dict[str, Any]:
        inspected = podman("inspect", container, "--format", "{{json .State}}")
        assert inspected.returncode == 0, inspected.stderr
        state: dict[str, Any] = json.loads(inspected.stdout)
        return state

    def logs(self, container: str, tail: int = 60) -> str:
        shown = podman("logs", "--tail", str(tail), container)
        return shown.stdout + shown.stderr

    def exec(self, container: str, *command: str, env: dict[str, str] | None = None) -> str:
        ran = podman("exec", *env_options(env or {}), container, *command, timeout=120)
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        return ran.stdout

    def down(self) -> None:
        self.compose("down", "-v", "-t", "10", timeout=300)


def podman_problem() -> str | None:
    """Why the stack can't run here, or None."""
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (apt-get install podman runc netavark debootstrap)"
    backend = podman("info", "--format", "{{.Host.NetworkBackend}}").stdout.strip()
    if backend != "netavark":
        return (
            f"podman's network backend is {backend or 'unknown'}: Compose's service names need "
            'netavark (apt-get install netavark aardvark-dns; network_backend = "netavark")'
        )
    return None
