"""Background jobs under load: how long from a write to its email, and how fast the outbox drains.

    make bench-jobs            (or: .venv/bin/python bench/jobs.py [--registrations 300])

Runs `taskyard serve` and `taskyard worker` on PostgreSQL and RabbitMQ, with a real SMTP server
(aiosmtpd) inside this process, and writes build/bench/jobs.{md,json}:
1. Latency: registrations through the API, 10 at a time; for each, the time from the 201 to the
   welcome email arriving at the SMTP server.
2. Throughput: a batch of events written straight into the outbox; how fast the relay publishes
   them to RabbitMQ (with confirms), and how fast the worker carries them out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from run import ADMIN_URL, REPO, TASKYARD, _free_port, execute, save_results
from sqlalchemy.engine import make_url

from taskyard.config import Settings
from taskyard.jobs.worker import broker_for

BROKER_URL = os.environ.get("TASKYARD_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
RESULTS = REPO / "build" / "bench"  # untracked; `make bench-jobs SAVE=1` writes bench/results


class ArrivalClock:
    """An aiosmtpd handler noting when each recipient's mail arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        for recipient in envelope.rcpt_tos:
            self.arrived.setdefault(recipient, time.monotonic())
        return "250 OK"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def register_all(base: str, count: int) -> dict[str, float]:
    done: dict[str, float] = {}
    limiter = asyncio.Semaphore(10)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(n: int) -> None:
            email = f"latency-{n}-{uuid.uuid4().hex[:6]}@example.com"
            async with limiter:
                response = await client.post(
                    "/api/v1/auth/register",
                    json={"name": f"Latency {n}", "email": email, "password": "bench-password"},
                )
            assert response.status_code == 201, response.text
            done[email] = time.monotonic()

        await asyncio.gather(*(one(n) for n in range(count)))
    return done


async def wait_for(condition: Any, within: float) -> None:
    """Wait until `condition()` (which may be a coroutine function) holds."""
    deadline = time.monotonic() + within
    while True:
        holds = condition()
        if asyncio.iscoroutine(holds):
            holds = await holds
        if holds:
            return
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the jobs to finish")
        await asyncio.sleep(0.05)


async def query(database_url: str, statement: str, **params: Any) -> list[Any]:
    return await asyncio.to_thread(execute, database_url, statement, **params)


async def count(database_url: str, statement: str) -> int:
    return int((await query(database_url, statement))[0][0])


def start_processes(env: dict[str, str], port: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [TASKYARD, "serve", "--port", str(port)],
            env=env,
            stdout=(logs / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [TASKYARD, "worker"],
            env=env,
            stdout=(logs / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
    ]


async def measure(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    clock = ArrivalClock()
    smtp_port = _free_port()
    smtp = Controller(clock, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    port = _free_port()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
        "TASKYARD_DATABASE_URL": database_url,
        "TASKYARD_BROKER_URL": BROKER_URL,
        "TASKYARD_BROKER_PREFIX": prefix,
        "TASKYARD_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TASKYARD_SECRET_KEY": "bench-secret-" + uuid.uuid4().hex * 2,
        "TASKYARD_RATE_LIMIT_LOGIN": "1000000/hour",
        "TASKYARD_RATE_LIMIT_LOGIN_IP": "1000000/hour",
        "TASKYARD_RATE_LIMIT_REGISTER": "1000000/hour",
        "TASKYARD_RATE_LIMIT_REFRESH": "1000000/hour",
        "TASKYARD_OUTBOX_POLL_SECONDS": "0.2",
        "TASKYARD_LOG_LEVEL": "warning",
    }
    logs = Path(tempfile.mkdtemp(prefix="taskyard-bench-jobs-"))
    processes = start_processes(env, port, logs)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_for(lambda: _ready(base), within=30)
        started = time.monotonic()
        written = await register_all(base, args.registrations)
        await wait_for(lambda: set(written) <= set(clock.arrived), within=120)
        wall = time.monotonic() - started
        latencies = [1000 * (clock.arrived[email] - at) for email, at in written.items()]

        # Throughput: events straight into the outbox, for a person who wants no mail.
        quiet = (await query(database_url, "SELECT id::text FROM users LIMIT 1"))[0][0]
        await query(database_url, "UPDATE users SET notifications = false")
        before = await count(database_url, "SELECT count(*) FROM processed_events")
        await query(
            database_url,
            "INSERT INTO outbox_events (id, type, payload, created_at, attempts) "
            "SELECT gen_random_uuid(), 'user.registered', "
            "json_build_object('user_id', CAST(:quiet AS text)), now(), 0 "
            "FROM generate_series(1, :events)",
            quiet=quiet,
            events=args.events,
        )
        inserted_at = time.monotonic()

        async def all_published() -> bool:
            pending = await count(
                database_url,
                "SELECT count(*) FROM outbox_events",  # sent: deleted
            )
            return pending == 0

        async def all_processed() -> bool:
            done = await count(database_url, "SELECT count(*) FROM processed_events")
            return bool(done >= before + args.events)

        await wait_for(all_published, within=600)
        published_in = time.monotonic() - inserted_at
        await wait_for(all_processed, within=600)
        processed_in = time.monotonic() - inserted_at
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        smtp.stop()
        # The run's own queues and exchange go with it.
        await broker_for(Settings(broker_url=BROKER_URL, broker_prefix=prefix)).delete_topology()
    return {
        "registrations": args.registrations,
        "registration_wall_s": wall,
        "latency_ms": {
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95),
            "max": max(latencies),
        },
        "events": args.events,
        "relay_events_per_s": args.events / published_in,
        "worker_events_per_s": args.events / processed_in,
    }


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    name = f"taskyard_bench_jobs_{uuid.uuid4().hex[:8]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [TASKYARD, "migrate"],
            env={**os.environ, "TASKYARD_DATABASE_URL": database_url},
            check=True,
            capture_output=True,
        )
        result = asyncio.run(measure(args, database_url))
    finally:
        execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    latency = result["latency_ms"]
    summary = (
        "# Background jobs\n\n"
        f"`taskyard serve` + `taskyard worker`, PostgreSQL, RabbitMQ and an SMTP server on this "
        f"machine ({os.cpu_count()} cores).\n\n"
        "| Measure | Value |\n| --- | ---: |\n"
        f"| write → welcome email, p50 | {latency['p50']:.0f} ms |\n"
        f"| write → welcome email, p95 | {latency['p95']:.0f} ms |\n"
        f"| write → welcome email, max | {latency['max']:.0f} ms |\n"
        f"| registrations (10 at a time) | {result['registrations']} in "
        f"{result['registration_wall_s']:.1f} s |\n"
        f"| outbox relay, published with confirms | {result['relay_events_per_s']:.0f} events/s |\n"
        f"| worker, carried out | {result['worker_events_per_s']:.0f} events/s |\n"
    )
    save_results(args.results_dir, "jobs", summary, result)


if __name__ == "__main__":
    main()
