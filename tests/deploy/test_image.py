"""The Dockerfile, built and run for real with podman on a Debian base built here (there is no
image registry): non-root, healthy by its own healthcheck, serving the API and the web client."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import any_free_port, service_unavailable, wait_for_ok

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            service_unavailable(
                f"{tool} is not installed (apt-get install podman runc debootstrap)"
            )
    if not (REPO / "src" / "taskyard" / "web" / "dist" / "index.html").is_file():
        service_unavailable("the web client is not built (make web)")
    base = subprocess.run(
        [str(REPO / "deploy" / "images" / "build-base")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert base.returncode == 0, base.stderr
    tag = f"localhost/taskyard:test-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    built = podman(
        "build",
        "--format",
        "docker",  # keeps HEALTHCHECK (OCI images have none)
        "--network",
        "host",
        "--build-arg",
        f"BASE={base.stdout.strip().splitlines()[-1]}",
        "-t",
        tag,
        str(REPO),
        timeout=900,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    size = podman("image", "inspect", tag, "--format", "{{.Size}}").stdout.strip()
    print(f"built {tag} in {time.monotonic() - started:.0f} s: {int(size) / 1e6:.0f} MB")
    try:
        yield tag
    finally:
        podman("rmi", "-f", tag)


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[str]:
    port = any_free_port()
    name = f"taskyard-test-{uuid.uuid4().hex[:8]}"
    started = podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", image)
    assert started.returncode == 0, started.stderr
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ok(
            f"{base_url}/health/ready",
            within=60,
            explain=lambda: podman("logs", name).stdout[-3000:],
        )
        yield name
    finally:
        podman("rm", "-f", name)


def url_of(container: str) -> str:
    port = podman("port", container, "8000").stdout.strip().rsplit(":", 1)[1]
    return f"http://127.0.0.1:{port}"


def test_the_image_serves_the_api_and_the_web_client(container: str) -> None:
    base_url = url_of(container)
    registered = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"name": "In A Box", "email": "box@example.com", "password": "correct-horse"},
    )
    assert registered.status_code == 201, registered.text
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200
    assert 'id="root"' in page.text


def test_it_runs_as_a_user_not_root(container: str) -> None:
    assert podman("exec", container, "id", "-u").stdout.strip() == "10001"


def test_its_own_healthcheck_passes(container: str) -> None:
    assert podman("healthcheck", "run", container).returncode == 0


def test_production_without_a_secret_refuses_to_start(image: str) -> None:
    refused = podman("run", "--rm", "-e", "TASKYARD_ENV=production", image, "migrate")
    assert refused.returncode == 2
    assert "TASKYARD_SECRET_KEY" in refused.stderr
