"""What the edge costs: an authenticated GET /api/v1/tasks through nginx, limiter on and off.

    make bench-edge            (or: .venv/bin/python bench/edge_cost.py --duration 15)

Starts the local cluster (nginx + 3 instances, PostgreSQL, Redis) twice on a fresh database,
drives it with wrk, and writes build/bench/edge-cost.{md,json}. The limits are set far above
the load, so every request pays for the check and none is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from run import ADMIN_URL, POOL_SIZE, REPO, TARGETS, execute, save_results, wrk
from sqlalchemy.engine import make_url

RESULTS = REPO / "build" / "bench"  # untracked; `make bench-edge SAVE=1` writes bench/results


def run_wrk(url: str, token: str, duration: int, connections: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".requests", delete=False) as requests:
        requests.write(f"GET\t{urlsplit(url).path}\t{token}\t\n")
    try:
        return wrk(url, Path(requests.name), duration, connections)
    finally:
        os.unlink(requests.name)


def measure(database_url: str, limiter: bool, args: argparse.Namespace) -> dict[str, Any]:
    state_dir = REPO / ".cluster-bench"
    cluster = [
        sys.executable,
        str(REPO / "deploy" / "local-cluster"),
        "--state-dir",
        str(state_dir),
    ]
    env = {
        **os.environ,
        "TASKYARD_DATABASE_URL": database_url,
        "TASKYARD_DB_POOL_SIZE": POOL_SIZE,
        "TASKYARD_REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "TASKYARD_RATE_LIMIT_ENABLED": "true" if limiter else "false",
        "TASKYARD_RATE_LIMIT": "100000000/hour",
        "TASKYARD_RATE_LIMIT_LOGIN": "100000000/hour",
        "TASKYARD_RATE_LIMIT_LOGIN_IP": "100000000/hour",
        "TASKYARD_RATE_LIMIT_REGISTER": "100000000/hour",
        "TASKYARD_RATE_LIMIT_REFRESH": "100000000/hour",
        "TASKYARD_LOG_LEVEL": "warning",
    }
    up = subprocess.run(
        [
            *cluster,
            "up",
            "--instances",
            str(args.instances),
            "--port",
            "0",
            "--first-instance-port",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if up.returncode != 0:
        raise SystemExit(up.stderr)
    try:
        base = json.loads(up.stdout)["url"]
        api = f"{base}/api/v1"
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        registered = httpx.post(
            f"{api}/auth/register",
            json={"name": "Bench", "email": email, "password": "bench-password"},
        )
        token = registered.json()["data"]["token"]
        for n in range(10):
            httpx.post(
                f"{api}/tasks",
                json={"title": f"Benchmark task {n}"},
                headers={"Authorization": f"Bearer {token}"},
            )
        run_wrk(f"{api}/tasks", token, 3, args.connections)  # warm-up
        return run_wrk(f"{api}/tasks", token, args.duration, args.connections)
    finally:
        subprocess.run([*cluster, "down"], env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()

    name = f"taskyard_bench_edge_{uuid.uuid4().hex[:8]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        results = {
            "limiter on": measure(database_url, True, args),
            "limiter off": measure(database_url, False, args),
        }
    finally:
        execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    on, off = results["limiter on"], results["limiter off"]
    rows = [
        "| Run | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {100 * r['error_rate']:.2f} % |"
            for label, r in results.items()
        ),
        f"| original plan's target | ≥ {TARGETS['rps']:.0f} | | < {TARGETS['p95_ms']:.0f} | | "
        f"< {100 * TARGETS['error_rate']:.1f} % |",
    ]
    cost = 100 * (1 - on["rps"] / off["rps"])
    summary = (
        f"Authenticated GET /api/v1/tasks (10 tasks) through nginx, {args.instances} instances, "
        f"wrk -t2 -c{args.connections} -d{args.duration}s.\n\n"
        + "\n".join(rows)
        + f"\n\nThe rate limiter costs {cost:.1f} % of throughput.\n"
    )
    figures = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "results": results,
        "targets": TARGETS,
    }
    save_results(args.results_dir, "edge-cost", summary, figures)


if __name__ == "__main__":
    main()
