"""The Postman collection in docs/, run by newman against a real `taskyard serve`: every request's
status and body shape as the collection asserts them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.serving import PASSWORD, REPO, Server
from tests.support import service_unavailable

COLLECTION = REPO / "docs" / "taskyard.postman_collection.json"
NEWMAN = REPO / "frontend" / "node_modules" / ".bin" / "newman"


def test_the_postman_collection_passes(server: Server, tmp_path: Path) -> None:
    if not NEWMAN.exists():
        service_unavailable("newman is not installed: run `make test` (npm ci in frontend/)")
    report = tmp_path / "newman.json"
    completed = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(COLLECTION),
            "--env-var",
            f"origin={server.base_url}",
            "--env-var",
            f"adminEmail={server.admin['user']['email']}",
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
    run = json.loads(report.read_text())["run"]
    assert run["stats"]["assertions"]["failed"] == 0
    assert run["stats"]["assertions"]["total"] >= 60
    executed = [execution["item"]["name"] for execution in run["executions"]]
    assert executed[-2:] == ["Logout", "The token is dead after logout"]  # logout comes last
    assert {"Refresh", "Request an export", "Assign by email", "List users"} <= set(executed)
