"""The benchmark harness still runs end to end: tiny data, one second per scenario."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import SMALL_POOL, PostgresDatabases, service_unavailable

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "bare FastAPI + asyncpg, 20 rows",
    "bare FastAPI + asyncpg, INSERT … RETURNING",
    "project list, uncached (200 members)",
    "list page 1, uncached",
    "deep page, offset",
    "deep page, cursor",
    "page 1 of the deep-page users",
    "list page 1, cached",
    "get by id",
    "stats",
    "create",
    "update",
    "project list, cached (200 members)",
    "update, project of 1 member",
    "update, project of 200 members",
    "login",
}


TINY = ["--users", "15", "--tasks", "400", "--project-tasks", "50", "--connections", "4"]


def run_harness(
    script: str,
    arguments: list[str],
    *,
    postgres: PostgresDatabases,
    redis_url: str,
    tools: tuple[str, ...] = ("wrk",),
) -> None:
    """A bench/ script on tiny data, against the test PostgreSQL and Redis; it must succeed."""
    for tool in tools:
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            service_unavailable(f"{tool} is not installed")
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *arguments],
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin",
            "TASKYARD_BENCH_DATABASE_URL": postgres.admin_url,
            "TASKYARD_BENCH_REDIS_URL": redis_url,
            "TASKYARD_BENCH_DB_POOL_SIZE": SMALL_POOL["TASKYARD_DB_POOL_SIZE"],
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_benchmark_harness_runs(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "run.py",
        [*TINY, "--duration", "1", "--instances", "1", "--results-dir", str(tmp_path)],
        postgres=postgres,
        redis_url=redis_url,
        tools=("wrk", "nginx"),
    )
    report = json.loads((tmp_path / "benchmark.json").read_text())
    assert set(report["results"]) == SCENARIOS
    for name, result in report["results"].items():
        assert result["requests"] > 0, name
        assert result["error_rate"] == 0, (name, result)
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"], name
    assert (tmp_path / "benchmark.png").read_bytes().startswith(b"\x89PNG")
    markdown = (tmp_path / "benchmark.md").read_text()
    assert "p95 < 200 ms" in markdown
    assert "bare stack" in markdown
    # The create is held to a share of the bare INSERT.
    assert "of bare FastAPI + asyncpg, INSERT … RETURNING" in markdown


def test_the_profiler_charges_samples_to_components(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "profile_requests.py",
        [*TINY, "--duration", "2", "--results-dir", str(tmp_path)],
        postgres=postgres,
        redis_url=redis_url,
    )
    results = json.loads((tmp_path / "profile.json").read_text())
    assert set(results) == {
        "list page 1, cached",
        "project list, cached (200 members)",
        "list page 1, uncached",
        "create",
    }
    for name, result in results.items():
        assert result["rps"] > 0, name
        assert result["cpu_ms_per_request"] > 0, name
        shares = result["components"]
        assert abs(sum(shares.values()) - 100) < 0.5, (name, shares)
        assert any(component.startswith("taskyard") for component in shares), (name, shares)
    # The uncached list spends time in the database layers; the cached one far less.
    uncached = results["list page 1, uncached"]["components"]
    assert uncached.get("SQLAlchemy", 0) + uncached.get("asyncpg", 0) > 0


def test_the_server_comparison_runs_every_server_and_scenario(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "servers.py",
        # Two workers only, to keep it short: the worker count is a loop around the rest.
        [*TINY, "--duration", "1", "--workers", "2", "--results-dir", str(tmp_path)],
        postgres=postgres,
        redis_url=redis_url,
    )
    rows = json.loads((tmp_path / "servers.json").read_text())
    measured = {(row["server"], row["workers"], row["scenario"]) for row in rows}
    assert {server for server, _, _ in measured} == {
        "uvicorn (uvloop, httptools)",
        "granian",
        "bare FastAPI + asyncpg (uvicorn)",
    }
    # The bare read and insert, uvicorn on five scenarios, granian on three.
    assert len(measured) == 10
    assert {workers for _, workers, _ in measured} == {2}
    assert ("uvicorn (uvloop, httptools)", 2, "create") in measured
    assert ("granian", 2, "project list, cached (200 members)") in measured
    for row in rows:
        assert row["requests"] > 0, row
        assert row["error_rate"] == 0, row
    assert "| granian | 2 |" in (tmp_path / "servers.md").read_text()


def test_the_commit_curve_applies_each_setting_and_counts_wal_flushes(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "commits.py",
        [*TINY, "--duration", "1", "--pool-sizes", "2", "--results-dir", str(tmp_path)],
        postgres=postgres,
        redis_url=redis_url,
    )
    rows = json.loads((tmp_path / "commits.json").read_text())
    applied = {(row["synchronous_commit"], row["commit_delay_us"]) for row in rows}
    assert applied == {("on", 0), ("on", 1000), ("off", 0)}
    for row in rows:
        assert row["requests"] > 0, row
        assert row["error_rate"] == 0, row
        assert row["pool_per_worker"] == 2
    # Acknowledged creates were made durable: PostgreSQL flushed its WAL for them.
    durable = [row for row in rows if row["synchronous_commit"] == "on"]
    assert all(row["wal_flushes_per_create"] > 0 for row in durable), durable
    assert "WAL flushes a create" in (tmp_path / "commits.md").read_text()


def test_the_split_comparison_measures_both_topologies(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "split_cost.py",
        ["--duration", "1", "--people", "3", "--results-dir", str(tmp_path)],
        postgres=postgres,
        redis_url=redis_url,
        tools=("wrk", "nginx"),
    )
    report = json.loads((tmp_path / "split-cost.json").read_text())
    assert set(report["results"]) == {"monolith", "split"}
    for topology, scenarios in report["results"].items():
        assert set(scenarios) == {"list own tasks", "create a task"}, topology
        for name, result in scenarios.items():
            assert result["requests"] > 0, (topology, name)
            assert result["error_rate"] == 0, (topology, name, result)
    assert "split ÷ monolith" in (tmp_path / "split-cost.md").read_text()


def test_the_live_benchmark_hears_every_event_and_weighs_streams(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "live.py",
        [
            *("--people", "20", "--per-project", "5", "--rate", "20", "--duration", "2"),
            *("--memory-streams", "100", "--results-dir", str(tmp_path)),
        ],
        postgres=postgres,
        redis_url=redis_url,
        tools=("nginx",),
    )
    report = json.loads((tmp_path / "live.json").read_text())
    latency = report["latency"]
    assert latency["acknowledged"] == latency["writes"] == 40
    # Each task reaches the five members of its project, none is lost.
    assert latency["expected_events"] == 200
    assert latency["lost_events"] == 0
    assert set(latency["routes"]) == {"another instance, direct", "through nginx"}
    assert report["memory"]["streams"] == 100
    assert report["memory"]["kb_per_stream"] > 0
    assert "KB a stream" in (tmp_path / "live.md").read_text()


def test_the_limiter_comparison_measures_every_scenario_on_both_trees(
    postgres: PostgresDatabases, redis_url: str, tmp_path: Path
) -> None:
    run_harness(
        "limiter_cost.py",
        [
            *TINY,
            # Enough people that none reaches the seed's 100 per 15 minutes in a second's run.
            "--users",
            "300",
            "--duration",
            "1",
            "--rounds",
            "1",
            "--compare",
            "HEAD",
            "--results-dir",
            str(tmp_path),
        ],
        postgres=postgres,
        redis_url=redis_url,
    )
    report = json.loads((tmp_path / "limiter-cost.json").read_text())
    assert set(report["results"]) == {"this tree", "HEAD"}
    for tree, scenarios in report["results"].items():
        assert len(scenarios) == 4, tree
        for scenario, runs in scenarios.items():
            assert runs[0]["requests"] > 0, (tree, scenario)
            assert runs[0]["error_rate"] == 0, (tree, scenario, runs)
            assert runs[0]["server_cpu_us"] > 0, (tree, scenario, runs)
            assert runs[0]["redis_cpu_us"] > 0, (tree, scenario, runs)
    assert "limiter on" in (tmp_path / "limiter-cost.md").read_text()
