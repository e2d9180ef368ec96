"""The Postman collection in docs/, run by newman: the wire contract as the original's users
exercise it, against any running Taskyard (one process, the split gateway, a Compose stack)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.serving import PASSWORD, REPO
from tests.support import service_unavailable

COLLECTION = REPO / "docs" / "taskyard.postman_collection.json"
NEWMAN = REPO / "frontend" / "node_modules" / ".bin" / "newman"


def run_collection(origin: str, admin_email: str, workdir: Path) -> dict[str, Any]:
    """Runs every request, asserts newman passed them all, and returns newman's `run` report."""
    if not NEWMAN.exists():
        service_unavailable("newman is not installed: run `make test` (npm ci in frontend/)")
    report = workdir / "newman.json"
    completed = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            "--env-var",
            f"origin={origin}",
            "--env-var",
            f"adminEmail={admin_email}",
            "--env-var",
            f"adminPassword={PASSWORD}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--color",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    run: dict[str, Any] = json.loads(report.read_text())["run"]
    assert run["stats"]["assertions"]["failed"] == 0
    assert run["stats"]["assertions"]["total"] >= 60
    return run
