"""The reduced fault run (bench/faults.py --reduced): an API instance SIGKILLed, Redis killed and
PostgreSQL restarted while traffic flows through nginx over 3 instances, on private servers.
Clients retry with their Idempotency-Keys; nothing acknowledged may be lost or done twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require_private_stack_programs

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_the_reduced_fault_run_loses_nothing_and_recovers_quickly() -> None:
    require_private_stack_programs()
    ran = subprocess.run(
        [sys.executable, str(REPO / "bench" / "faults.py"), "--reduced", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-5000:]
    (results,) = json.loads(ran.stdout)["runs"]
    print(json.dumps(results, indent=2))
    assert [row["fault"] for row in results["faults"]] == [
        "api-instance",
        "redis",
        "postgresql-restart",
    ]
    outcome = results["outcome"]
    assert outcome["acknowledged_creates"] > 0
    assert outcome["registrations"] > 0
    assert outcome["lost_creates"] == 0
    assert outcome["welcome_mails_missing"] == 0
    assert outcome["welcome_mails_duplicated"] == 0
    assert outcome["welcome_mails_resent"] == 0
    assert outcome["outbox_left"] == 0
    assert outcome["operations_given_up"] == 0
    for row in results["faults"]:
        assert row["recovery_seconds"] is not None, row
        assert row["recovery_seconds"] < 5, row
    assert results["error_rate_outside_faults"] < 0.001
