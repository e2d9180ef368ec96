"""The soak harness (bench/soak.py), for a few seconds: it samples memory, connections and p95
while traffic flows, draws the plot, and judges the goals. The 30-minute run is make bench-soak."""

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


def test_a_short_soak_samples_draws_and_judges(tmp_path: Path) -> None:
    require_private_stack_programs()
    ran = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "soak.py"),
            "--duration",
            "16",
            "--interval",
            "2",
            "--rate",
            "20",
            "--json",
            "--results-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-5000:]
    results = json.loads(ran.stdout)
    samples = results["samples"]
    assert len(samples) >= 5
    for sample in samples:
        assert len(sample["resident_mb"]) == 3
        assert all(40 < megabytes < 1000 for megabytes in sample["resident_mb"])
        assert 0 < sample["database_connections"] < 200
        assert 0 < sample["redis_connections"] < 200
    assert results["errors"] == 0
    assert results["requests"] > 100
    assert set(results["summary"]) >= {"memory_growth", "p95_drift", "database_connections_max"}
    plot = tmp_path / "soak.png"
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert "![Soak](soak.png)" in (tmp_path / "soak.md").read_text()
