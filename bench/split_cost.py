"""What split mode costs per request, against the monolith, through nginx in the same run.

    make bench-split            (or: .venv/bin/python bench/split_cost.py --duration 10)

Runs the monolith (`local-cluster up --instances 2`) and then the split services behind their
gateway (`local-cluster up --split --auth-instances 1 --task-instances 2`), each on fresh
PostgreSQL databases with Redis and RabbitMQ, and drives both with the same wrk load: a list of
a person's tasks, and creating tasks. Writes build/bench/split-cost.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from run import ADMIN_URL, PASSWORD, REPO, TARGETS, Cluster, execute, save_results, wrk
from sqlalchemy.engine import make_url

from taskyard.jobs.broker import Broker

RESULTS = REPO / "build" / "bench"
BROKER_URL = os.environ.get("TASKYARD_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
SCENARIOS = ("list own tasks", "create a task")


def create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def delete_queues(prefix: str) -> None:
    """The run's queues and exchange, for both services: nothing left on the broker."""
    for service in ("auth", "tasks"):
        await Broker(
            BROKER_URL, prefix=prefix, max_attempts=5, retry_base_seconds=1.0, service=service
        ).delete_topology()


def people(api: str, count: int) -> list[str]:
    """Tokens of `count` people with 10 tasks each."""
    tokens = []
    with httpx.Client(base_url=api, timeout=30) as client:
        for _ in range(count):
            email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
            answer = client.post(
                "/auth/register", json={"name": "Bench", "email": email, "password": PASSWORD}
            )
            token = answer.json()["data"]["token"]
            for n in range(10):
                client.post(
                    "/tasks",
                    json={"title": f"Benchmark task {n}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            tokens.append(token)
    return tokens


def load(url: str, lines: list[str], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".requests", delete=False) as requests:
        requests.write("\n".join(lines) + "\n")
    try:
        wrk(url, Path(requests.name), 1, args.connections)  # warm-up
        return wrk(url, Path(requests.name), args.duration, args.connections)
    finally:
        os.unlink(requests.name)


def measure(cluster: Cluster, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    api = f"{cluster.url}/api/v1"
    tokens = people(api, args.people)
    body = '{"title":"Created under load"}'
    return {
        "list own tasks": load(api, [f"GET\t/api/v1/tasks\t{t}\t" for t in tokens], args),
        "create a task": load(api, [f"POST\t/api/v1/tasks\t{t}\t{body}" for t in tokens], args),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.instances = 2
    secret = secrets.token_urlsafe(48)

    results: dict[str, dict[str, dict[str, Any]]] = {}
    with ExitStack() as cleanup:
        monolith_db = create_database("taskyard_bench_monolith")
        cleanup.callback(drop_database, monolith_db)
        with Cluster(monolith_db, secret, args, cache=True) as monolith:
            results["monolith"] = measure(monolith, args)

        auth_db, tasks_db = (
            create_database("taskyard_bench_auth"),
            create_database("taskyard_bench_tasks"),
        )
        cleanup.callback(drop_database, auth_db)
        cleanup.callback(drop_database, tasks_db)
        split = Cluster(
            tasks_db,
            secret,
            args,
            cache=True,
            topology=["--split", "--auth-instances", "1", "--task-instances", "2"],
        )
        prefix = f"bench-split-{uuid.uuid4().hex[:8]}"
        cleanup.callback(lambda: asyncio.run(delete_queues(prefix)))
        split.env.update(
            {
                "TASKYARD_AUTH_DATABASE_URL": auth_db,
                "TASKYARD_TASKS_DATABASE_URL": tasks_db,
                "TASKYARD_BROKER_URL": BROKER_URL,
                "TASKYARD_BROKER_PREFIX": prefix,
            }
        )
        with split:
            results["split"] = measure(split, args)

    rows = [
        "| Scenario | monolith req/s | p50 / p95 / p99 ms | split req/s | p50 / p95 / p99 ms "
        "| split ÷ monolith | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario in SCENARIOS:
        mono, split_result = results["monolith"][scenario], results["split"][scenario]
        rows.append(
            f"| {scenario} | {mono['rps']:.0f} | {mono['p50_ms']:.1f} / {mono['p95_ms']:.1f} / "
            f"{mono['p99_ms']:.1f} | {split_result['rps']:.0f} | {split_result['p50_ms']:.1f} / "
            f"{split_result['p95_ms']:.1f} / {split_result['p99_ms']:.1f} | "
            f"{split_result['rps'] / mono['rps']:.2f} | "
            f"{100 * max(mono['error_rate'], split_result['error_rate']):.2f} % |"
        )
    rows.append(
        f"| original plan's target | ≥ {TARGETS['rps']:.0f} | p95 < {TARGETS['p95_ms']:.0f} | "
        f"≥ {TARGETS['rps']:.0f} | p95 < {TARGETS['p95_ms']:.0f} | | < "
        f"{100 * TARGETS['error_rate']:.1f} % |"
    )
    summary = (
        "Split mode against the monolith, through nginx, on this machine: monolith = 2 "
        "instances; split = 1 auth + 2 task instances and a worker for each, RabbitMQ between "
        f"them; PostgreSQL and Redis for both. {args.people} people with 10 tasks each; "
        f"wrk -t2 -c{args.connections} -d{args.duration}s per scenario.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    figures = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "results": results,
        "targets": TARGETS,
    }
    save_results(args.results_dir, "split-cost", summary, figures)


if __name__ == "__main__":
    main()
