"""Where a request's time goes: py-spy samples one `taskyard serve` under wrk, grouped by component.

    make bench-profile        (or: .venv/bin/python bench/profile_requests.py [--duration 15]
                               [--scenario create] [--raw-dir DIR])

Seeds a fresh PostgreSQL database, starts one `taskyard serve` (one worker, Redis for the cache,
limits and identity) and, per scenario, samples it with py-spy while wrk drives it directly.
Each sample is charged to the innermost frame that belongs to a known component (stdlib frames,
asyncio above all, are charged to whatever called them), so the table reads "what our request
handling spends its CPU on". Writes build/bench/profile.md and .json (or --results-dir;
`make bench-profile SAVE=1` writes the committed bench/results).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from run import (
    REDIS_URL,
    TASKYARD,
    _free_port,
    bench_arguments,
    save_results,
    seeded_database,
    wrk,
)

# (pattern on the frame's file path, component), first match wins.
COMPONENTS = [
    (r"(^|/)taskyard/identity", "taskyard identity"),
    (r"(^|/)taskyard/edge/", "taskyard edge middleware"),
    (r"(^|/)taskyard/cache/", "taskyard cache"),
    (r"(^|/)taskyard/(tasks|auth|users|exports)/", "taskyard domain code"),
    (r"(^|/)taskyard/", "taskyard other"),
    (r"(^|/)sqlalchemy/", "SQLAlchemy"),
    (r"(^|/)asyncpg/", "asyncpg"),
    (r"(^|/)redis/", "redis-py"),
    (r"(^|/)limits/", "limits (rate limiter)"),
    (r"(^|/)fastapi/", "FastAPI (routing, dependencies)"),
    (r"(^|/)starlette/", "Starlette"),
    (r"(^|/)pydantic", "pydantic"),
    (r"(^|/)(uvicorn|httptools|uvloop)/", "uvicorn"),
    (r"(^|/)(structlog|logging)/", "logging"),
    (r"(^|/)prometheus_client/", "metrics"),
    (r"(^|/)jwt/", "PyJWT"),
]
_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*):\d+\)$")
SCENARIOS = {
    "list page 1, cached": ("list", True),
    "project list, cached (200 members)": ("project_list", True),
    "list page 1, uncached": ("list", False),
    "create": ("create", True),
}


def component_of(stack: list[str]) -> str:
    """The innermost frame's component; stdlib and unknown frames defer to their callers."""
    for frame in reversed(stack):
        match = _FRAME.match(frame)
        path = match["path"] if match else frame
        for pattern, component in COMPONENTS:
            if re.search(pattern, path):
                return component
    return "asyncio and the interpreter"


def summarise(raw: Path) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        counts[component_of(stack_text.split(";"))] += int(count)
    total = sum(counts.values()) or 1
    return {component: 100 * n / total for component, n in counts.most_common()}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_env(database_url: str, secret: str, *, cache: bool, connections: int) -> dict[str, str]:
    """The environment of a served app under measurement: Redis for the cache, limits and
    identity, and limits too high to reach."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
        "TASKYARD_DATABASE_URL": database_url,
        "TASKYARD_REDIS_URL": REDIS_URL,
        "TASKYARD_REDIS_KEY_PREFIX": f"profile-{uuid.uuid4().hex[:8]}",
        "TASKYARD_SECRET_KEY": secret,
        "TASKYARD_ACCESS_TOKEN_TTL": "7200",
        "TASKYARD_RATE_LIMIT": "1000000000/hour",
        "TASKYARD_CACHE_ENABLED": "true" if cache else "false",
        # A pool as large as wrk's concurrency: connections past the pool are opened and closed
        # per request, which would measure connection set-up rather than the request.
        "TASKYARD_DB_POOL_SIZE": str(connections),
        "TASKYARD_LOG_LEVEL": "warning",
    }


def serve(
    database_url: str,
    secret: str,
    *,
    cache: bool,
    connections: int,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the app (by default `taskyard serve`; `command` ends with the port to listen on)
    and wait until it is ready."""
    port = _free_port()
    environment = {
        **server_env(database_url, secret, cache=cache, connections=connections),
        **(env or {}),
    }
    argv = [*command, str(port)] if command else [TASKYARD, "serve", "--port", str(port)]
    process = subprocess.Popen(argv, env=environment)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while subprocess.run(
        ["curl", "-sf", f"{url}/health/ready"], capture_output=True, check=False
    ).returncode:
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("taskyard serve did not become ready")
        time.sleep(0.2)
    return process, url


def profile(args: argparse.Namespace) -> dict[str, Any]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    secret = secrets.token_urlsafe(48)
    results: dict[str, Any] = {}
    workdir = args.raw_dir or Path(tempfile.mkdtemp(prefix="taskyard-profile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with seeded_database("profile", args, secret) as database:
        database_url, files = database.url, database.requests
        for label, (requests, cache) in SCENARIOS.items():
            if args.scenario and requests not in args.scenario:
                continue
            process, url = serve(database_url, secret, cache=cache, connections=args.connections)
            try:
                wrk(url, files[requests], 3, args.connections)  # warm up
                raw = workdir / f"{requests}-{int(cache)}.txt"
                sampler = subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(process.pid),
                        "--format",
                        "raw",
                        "--duration",
                        str(args.duration),
                        "--rate",
                        "200",
                        "--nonblocking",
                        "--output",
                        str(raw),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                cpu_before = cpu_seconds(process.pid)
                measured = wrk(url, files[requests], args.duration, args.connections)
                cpu_used = cpu_seconds(process.pid) - cpu_before
                sampler.wait(timeout=args.duration + 30)
                results[label] = {
                    "rps": measured["rps"],
                    "p95_ms": measured["p95_ms"],
                    "cpu_ms_per_request": 1000 * cpu_used / max(measured["requests"], 1),
                    "components": summarise(raw),
                }
                print(f"{label}: {measured['rps']:.0f} req/s", flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        "# Where the time goes",
        "",
        f"py-spy at 200 Hz on one `taskyard serve` (one worker, PostgreSQL, Redis) under wrk "
        f"-c{args.connections} for {args.duration}s, {args.users} users and {args.tasks} tasks.",
        "Each sample is charged to its innermost frame in a known component.",
        "",
    ]
    for label, result in results.items():
        lines += [
            f"## {label}: {result['rps']:.0f} req/s, p95 {result['p95_ms']:.1f} ms, "
            f"{result['cpu_ms_per_request']:.2f} ms of CPU per request",
            "",
            "| Component | Share of samples |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {share:.1f} % |" for name, share in result["components"].items()]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = bench_arguments(__doc__, tasks=50_000, duration=15)
    parser.add_argument("--name", default="profile", help="file name of the results")
    parser.add_argument(
        "--raw-dir",
        type=Path,
        help="keep py-spy's raw stacks here (one file per scenario, for flame graphs)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted({requests for requests, _ in SCENARIOS.values()}),
        help="profile only these request files (repeatable; default: every scenario)",
    )
    args = parser.parse_args()
    results = profile(args)
    save_results(args.results_dir, args.name, report(results, args), results)


if __name__ == "__main__":
    main()
