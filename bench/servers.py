"""Which ASGI server, and how many workers, on this machine: uvicorn against granian, 1 and 2,
beside the bare FastAPI + asyncpg stack with as many workers.

    make bench-servers        (or: .venv/bin/python bench/servers.py [--duration 10])

Seeds a fresh PostgreSQL database, serves the same app (Redis for the cache, limits and
identity) under each server and worker count, directly (no nginx), and drives the cached and
the uncached list with wrk. Writes build/bench/servers.md and .json (or --results-dir;
`make bench-servers SAVE=1` writes the committed bench/results).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chart import BARE, BARE_INSERT
from profile_requests import serve
from run import (
    REPO,
    TASKYARD,
    bare_command,
    bare_reference,
    bench_arguments,
    save_results,
    seeded_database,
    wrk,
)
from sqlalchemy.engine import make_url

GRANIAN = str(Path(sys.executable).with_name("granian"))
# Each command ends where the port goes.
SERVERS: dict[str, Callable[[int], list[str]]] = {
    "uvicorn (uvloop, httptools)": lambda workers: [
        TASKYARD,
        "serve",
        "--workers",
        str(workers),
        "--port",
    ],
    "granian": lambda workers: [
        GRANIAN,
        "--interface",
        "asgi",
        "--factory",
        "--loop",
        "uvloop",
        "--no-ws",
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "taskyard.app:create_app",
        "--port",
    ],
}
SCENARIOS = {
    "list page 1, cached": ("list", True),
    "project list, cached (200 members)": ("project_list", True),
    "list page 1, uncached": ("list", False),
    "project list, uncached (200 members)": ("project_list", False),
    "create": ("create", True),
}
# Granian is compared on the reads; the rest are measured under the default server.
GRANIAN_SCENARIOS = (
    "list page 1, cached",
    "project list, cached (200 members)",
    "list page 1, uncached",
)
BARE_SERVER = "bare FastAPI + asyncpg (uvicorn)"
BARE_SCENARIOS = {BARE: "baseline", BARE_INSERT: "baseline_create"}
WRITES = frozenset({"create", "baseline_create"})


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    secret = secrets.token_urlsafe(48)
    rows: list[dict[str, Any]] = []
    with seeded_database("servers", args, secret) as database:
        database_url, files = database.url, database.requests
        bare_env = {
            "BASELINE_DSN": make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False),
            "PYTHONPATH": str(REPO),
        }
        runs: list[tuple[str, int, str, str, bool, list[str], dict[str, str]]] = []
        for workers in args.workers:
            for label, requests in BARE_SCENARIOS.items():
                runs.append(
                    (BARE_SERVER, workers, label, requests, False, bare_command(workers), bare_env)
                )
            for server, command in SERVERS.items():
                for label, (requests, cache) in SCENARIOS.items():
                    if server == "granian" and label not in GRANIAN_SCENARIOS:
                        continue
                    runs.append((server, workers, label, requests, cache, command(workers), {}))
        for server, workers, label, requests, cache, argv, extra_env in runs:
            # Several workers add up their metrics in a directory of their own.
            metrics_dir = tempfile.mkdtemp(prefix="taskyard-servers-metrics-")
            env = {"PROMETHEUS_MULTIPROC_DIR": metrics_dir} if workers > 1 else {}
            process, url = serve(
                database_url,
                secret,
                cache=cache,
                connections=args.connections,
                command=argv,
                env={**env, **extra_env},
            )
            try:
                if requests not in WRITES:  # a write needs no warming, and would pile up rows
                    wrk(url, files[requests], max(1, args.duration // 3), args.connections)
                measured = wrk(url, files[requests], args.duration, args.connections)
            finally:
                process.terminate()
                process.wait(timeout=30)
            rows.append({"server": server, "workers": workers, "scenario": label, **measured})
            print(f"{server}, {workers} worker(s), {label}: {measured['rps']:.0f} req/s")
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    bare = {
        (row["workers"], row["scenario"]): row["rps"]
        for row in rows
        if row["server"] == BARE_SERVER
    }
    lines = [
        "# ASGI servers and workers",
        "",
        f"One app served directly (no nginx), PostgreSQL and Redis on this machine "
        f"({args.users} users, {args.tasks} tasks). wrk -c{args.connections} -d{args.duration}s. "
        "The last column is the share of the bare stack with as many workers, in this run: of "
        "its read for a read, of its `INSERT … RETURNING` for a create.",
        "",
        "| Server | Workers | Scenario | req/s | p50 ms | p95 ms | p99 ms | errors | × bare |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['server']} | {row['workers']} | {row['scenario']} | {row['rps']:.0f} | "
            f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{100 * row['error_rate']:.2f} % | "
            f"{row['rps'] / bare[row['workers'], bare_reference(row['scenario'])]:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_arguments(__doc__, tasks=50_000, duration=10)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="the worker counts to compare"
    )
    args = parser.parse_args()
    rows = measure(args)
    save_results(args.results_dir, "servers", report(rows, args), rows)


if __name__ == "__main__":
    main()
