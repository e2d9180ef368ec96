"""What the rate limiter costs a cached list: limiter off, on at a limit never reached, and on at
the seed's budget (100 per 15 minutes) spread over enough people that none reaches it.

    make bench-limiter         (or: .venv/bin/python bench/limiter_cost.py [--compare REF])

`taskyard serve --workers 2` on PostgreSQL and Redis, driven directly by wrk (no nginx: what is
measured is the process). Each scenario starts a fresh server with a Redis prefix of its own, so
no scenario inherits another's counters. Rounds are interleaved and the median is reported.

With `--compare REF` the same scenarios run, in the same rounds, on a git worktree of REF (each
tree on its own default limiter), so a change is measured before and after in one run. Writes
build/bench/limiter-cost.{md,json} (or --results-dir).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from run import (
    ADMIN_URL,
    POOL_SIZE,
    REDIS_URL,
    REPO,
    TASKYARD,
    _free_port,
    bench_arguments,
    execute,
    people,
    save_results,
    seed,
    wrk,
)
from sqlalchemy.engine import make_url

# (scenario, its settings, whose lists it reads, the limiter-off scenario it is compared with)
SCENARIOS = [
    ("one person, limiter off", {"TASKYARD_RATE_LIMIT_ENABLED": "false"}, "one", None),
    (
        "one person, limiter on, 100,000,000/minute",
        {"TASKYARD_RATE_LIMIT": "100000000/minute"},
        "one",
        "one person, limiter off",
    ),
    ("every person, limiter off", {"TASKYARD_RATE_LIMIT_ENABLED": "false"}, "everyone", None),
    (
        "every person, limiter on, 100/15 minutes",
        {"TASKYARD_RATE_LIMIT": "100/15minutes"},
        "everyone",
        "every person, limiter off",
    ),
]
GOAL = 0.85  # the cached list with the limiter on, as a share of the same with it off
CURRENT = "this tree"


class Server:
    """`taskyard serve` from `tree` (its `src` first on the path), for one scenario."""

    def __init__(self, tree: Path, database_url: str, secret: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="taskyard-limiter-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [TASKYARD, "serve", "--port", str(self.port), "--workers", "2"],
            env={
                **os.environ,
                "PYTHONPATH": str(tree / "src"),
                "TASKYARD_DATABASE_URL": database_url,
                "TASKYARD_SECRET_KEY": secret,
                "TASKYARD_DB_POOL_SIZE": POOL_SIZE,
                "TASKYARD_REDIS_URL": REDIS_URL,
                "TASKYARD_REDIS_KEY_PREFIX": f"bench-limiter-{uuid.uuid4().hex[:8]}",
                "TASKYARD_LOG_LEVEL": "warning",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"server did not start: {self.log.read().decode()[-2000:]}")
            time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def _process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a process and every process below it (uvicorn's
    workers), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # gone meanwhile
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_process_cpu(int(child)) for child in children)


def _redis_cpu() -> float:
    info = redis.Redis.from_url(REDIS_URL).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measured_with_cpu(
    server: Server, requests: Path, duration: int, connections: int
) -> dict[str, Any]:
    """wrk's figures, and the CPU each request cost the server's processes and Redis: the
    machine's other load changes how many requests a second fit, much less what each costs."""
    server_before, redis_before = _process_cpu(server.process.pid), _redis_cpu()
    measured = wrk(server.url, requests, duration, connections)
    served = max(measured["requests"], 1)
    measured["server_cpu_us"] = 1e6 * (_process_cpu(server.process.pid) - server_before) / served
    measured["redis_cpu_us"] = 1e6 * (_redis_cpu() - redis_before) / served
    return measured


def worktree(ref: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="taskyard-compare-"))
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
    )
    return path


def run(args: argparse.Namespace) -> dict[str, dict[str, list[dict[str, Any]]]]:
    secret = secrets.token_urlsafe(48)
    name = f"taskyard_bench_{uuid.uuid4().hex[:8]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    trees = {CURRENT: REPO}
    if args.compare:
        trees[args.compare] = worktree(args.compare)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {tree: {} for tree in trees}
    try:
        env = {**os.environ, "TASKYARD_DATABASE_URL": database_url}
        subprocess.run([TASKYARD, "migrate"], env=env, check=True, capture_output=True)
        seed(database_url, args.users, args.tasks, args.project_tasks)
        everyone, _heavy = people(database_url, secret)
        workdir = Path(tempfile.mkdtemp(prefix="taskyard-bench-"))
        files = {"one": workdir / "one.requests", "everyone": workdir / "everyone.requests"}
        # One person's list over and over: a limit's whole window of hits on one key.
        files["one"].write_text(f"GET\t/api/v1/tasks\t{everyone[0].token}\t\n")
        # Every person in turn: at the seed's budget, none of them reaches it in a run.
        lines = "".join(f"GET\t/api/v1/tasks\t{p.token}\t\n" for p in everyone)
        files["everyone"].write_text(lines)
        for round_number in range(args.rounds):
            for label, tree in trees.items():
                for scenario, scenario_env, whose, _off in SCENARIOS:
                    requests = files[whose]
                    with Server(tree, database_url, secret, scenario_env) as server:
                        # Long enough to fill every cache read below.
                        wrk(server.url, requests, max(1, args.duration // 2), args.connections)
                        measured = measured_with_cpu(
                            server, requests, args.duration, args.connections
                        )
                    results[label].setdefault(scenario, []).append(measured)
                    print(
                        f"round {round_number + 1}, {label}, {scenario}: "
                        f"{measured['rps']:.0f} req/s, p95 {measured['p95_ms']:.1f} ms, "
                        f"CPU a request {measured['server_cpu_us']:.0f} µs server, "
                        f"{measured['redis_cpu_us']:.0f} µs Redis",
                        flush=True,
                    )
    finally:
        execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for label, tree in trees.items():
            if label != CURRENT:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                    check=False,
                    capture_output=True,
                )
                shutil.rmtree(tree, ignore_errors=True)
    return results


def median(runs: list[dict[str, Any]], field: str) -> float:
    return float(statistics.median(run[field] for run in runs))


def report(results: dict[str, dict[str, list[dict[str, Any]]]], args: argparse.Namespace) -> str:
    lines = [
        "# What the rate limiter costs a cached list",
        "",
        f"`taskyard serve --workers 2`, PostgreSQL, Redis; {args.users} people, each request "
        f"another person's cached list (GET /api/v1/tasks); wrk -t2 -c{args.connections} "
        f"-d{args.duration}s straight at the server; median of {args.rounds} interleaved rounds.",
        "",
        "CPU a request: what the server's processes and Redis spent per request served (from "
        "/proc and Redis' INFO), steadier than requests/s on a machine whose other load varies.",
        "",
        "| Tree | Scenario | req/s | p50 ms | p95 ms | p99 ms | errors | × limiter off "
        "| CPU µs: server | Redis |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tree, scenarios in results.items():
        for scenario, _env, _whose, off in SCENARIOS:
            runs = scenarios[scenario]
            rps = median(runs, "rps")
            share = rps / median(scenarios[off], "rps") if off else 1.0
            errors = max(run["error_rate"] for run in runs)
            lines.append(
                f"| {tree} | {scenario} | {rps:.0f} | {median(runs, 'p50_ms'):.1f} | "
                f"{median(runs, 'p95_ms'):.1f} | {median(runs, 'p99_ms'):.1f} | "
                f"{errors * 100:.2f} % | {share:.2f} | {median(runs, 'server_cpu_us'):.0f} | "
                f"{median(runs, 'redis_cpu_us'):.0f} |"
            )
    lines += ["", f"Goal: the limiter on ≥ {GOAL}× off, at both limits.", ""]
    current = results[CURRENT]
    for scenario, _env, _whose, off in SCENARIOS:
        if off:
            share = median(current[scenario], "rps") / median(current[off], "rps")
            lines.append(f"- {scenario}: {share:.2f}× {'✓' if share >= GOAL else '✗'}")
    if args.compare:
        before = results[args.compare]
        lines.append("")
        lines.append(f"Against {args.compare}, in the same run:")
        for scenario, *_ in SCENARIOS:
            change = median(current[scenario], "rps") / median(before[scenario], "rps")
            cpu_now, cpu_then = (
                median(runs[scenario], "server_cpu_us") + median(runs[scenario], "redis_cpu_us")
                for runs in (current, before)
            )
            lines.append(
                f"- {scenario}: {change:.2f}× the requests/s; CPU a request "
                f"{cpu_now:.0f} µs against {cpu_then:.0f} µs ({cpu_now / cpu_then:.2f}×)"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_arguments(__doc__, tasks=20_000, duration=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", help="a git ref to measure in the same run (a worktree)")
    parser.add_argument("--name", default="limiter-cost", help="the results' file name")
    args = parser.parse_args()
    results = run(args)
    save_results(
        args.results_dir,
        args.name,
        report(results, args),
        {"args": {k: str(v) for k, v in vars(args).items()}, "results": results},
    )


if __name__ == "__main__":
    main()
