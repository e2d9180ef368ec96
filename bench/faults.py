"""Faults injected while traffic flows, and proof that nothing was lost.

Steady traffic (reads, creates, updates and registrations) goes through nginx to 3 instances
(or, split, to auth x 2 and tasks x 3 behind the gateway), with workers sending mail, all on
private PostgreSQL (a primary and a streaming replica), Redis and RabbitMQ servers on free
ports. Clients retry as real ones would, with their Idempotency-Keys. One fault at a time:
an API instance SIGKILLed, Redis killed, RabbitMQ killed, PostgreSQL restarted or stopped, the
replica stopped, 200 ms of delay on the database link (a delaying TCP proxy), the worker
SIGKILLed mid-batch. For each: errors during the fault and after it, by status; the time to
recovery after the service returns; p95 during the fault. Then, from the databases and the
mail sink: every create acknowledged with 201 exists, every registration's welcome mail arrived
exactly once, and the outbox drained.

    make bench-faults                          # every fault, both topologies, 10 s windows
    python bench/faults.py --reduced --json    # three faults, short windows (run by make test)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from private_servers import (
    PrivatePostgres,
    PrivateProcess,
    PrivateRabbitMQ,
    PrivateRedis,
    wait_until_async,
)
from run import REPO, TASKYARD, _free_port, save_results
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskyard.config import async_database_url
from taskyard.db import REPLICA_APPLICATION_NAME

LOCAL_CLUSTER = REPO / "deploy" / "local-cluster"
PASSWORD = "correct-horse-battery"
RETRY_DEADLINE_SECONDS = 60.0
# The connection budget, as deploy/compose.yaml sets it: the split stack's 7 processes at
# 10 + 10 connections each stay within the server's 200 (3 of them reserved for superusers).
POOL_OVERFLOW = 10
MAX_CONNECTIONS = 200
# The outbox holds only what is still to go (a relay deletes what it handed on), and what was
# given up on.
UNDELIVERED = "SELECT count(*) FROM outbox_events WHERE dead_at IS NULL"


STATEMENT_STATISTICS = bool(
    list(Path("/usr/share/postgresql").glob("*/extension/pg_stat_statements.control"))
)


def postgres_settings() -> dict[str, str]:
    settings = {"max_connections": str(MAX_CONNECTIONS)}
    if STATEMENT_STATISTICS:  # where the database's time goes, for the soak's profile
        settings["shared_preload_libraries"] = "pg_stat_statements"
    return settings


async def tcp_open(port: int) -> bool:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    return True


async def tcp_closed(port: int) -> bool:
    """Nothing listens: a killed server really is gone, not living on outside its group."""
    try:
        await tcp_open(port)
    except OSError:
        return True
    return False


class MailSink:
    """Counts what arrives for each recipient: transmissions, and distinct mails by Message-ID
    (a mail sent again after a crash keeps its Message-ID, and a mailbox shows it once)."""

    def __init__(self) -> None:
        self.to: Counter[str] = Counter()
        self.message_ids: defaultdict[str, set[str]] = defaultdict(set)
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)  # monotonic times
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message_id = BytesParser().parsebytes(envelope.content, headersonly=True)["Message-ID"]
        for recipient in envelope.rcpt_tos:
            self.to[recipient.lower()] += 1
            self.message_ids[recipient.lower()].add(str(message_id))
            self.arrivals[recipient.lower()].append(time.monotonic())
        return "250 OK"


@dataclass
class Attempt:
    at: float
    seconds: float
    status: int  # 0: no answer

    def overlaps(self, start: float, end: float) -> bool:
        """In flight at some moment of [start, end): a request the fault hit started before
        it, or during it."""
        return self.at < end and self.at + self.seconds >= start


@dataclass
class Ledger:
    attempts: list[Attempt] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    registered: set[str] = field(default_factory=set)
    gave_up: int = 0


class Traffic:
    """Operations at a steady rate, each retried with its own key until it succeeds."""

    def __init__(self, base: str, rate: float, ledger: Ledger) -> None:
        self.base = base
        self.rate = rate
        self.ledger = ledger
        self.people: list[dict[str, str]] = []
        self.tasks: list[tuple[str, str]] = []  # (token, task id)
        self.client = httpx.AsyncClient(base_url=base, timeout=10)
        self.running = True

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """Retries what a real client would: no answer, 5xx, 429; with the same key."""
        deadline = time.monotonic() + RETRY_DEADLINE_SECONDS
        while True:
            started = time.monotonic()
            try:
                response = await self.client.request(method, path, **kwargs)
                status = response.status_code
            except httpx.HTTPError:
                response, status = None, 0
            self.ledger.attempts.append(Attempt(started, time.monotonic() - started, status))
            if response is not None and status < 500 and status != 429:
                return response
            if time.monotonic() > deadline:
                self.ledger.gave_up += 1
                return None
            await asyncio.sleep(0.2)

    async def register(self) -> None:
        email = f"faults-{uuid.uuid4().hex[:12]}@example.com"
        body = {"name": "Fault Tester", "email": email, "password": PASSWORD}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        answer = await self._send("POST", "/api/v1/auth/register", json=body, headers=headers)
        if answer is not None and answer.status_code == 201:
            self.ledger.registered.add(email)
            self.people.append({"email": email, "token": answer.json()["data"]["token"]})

    async def create(self) -> None:
        person = random.choice(self.people)  # noqa: S311 - load, not secrets
        headers = {
            "Authorization": f"Bearer {person['token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        answer = await self._send(
            "POST", "/api/v1/tasks", json={"title": "Through the storm"}, headers=headers
        )
        if answer is not None and answer.status_code == 201:
            task_id = answer.json()["data"]["id"]
            self.ledger.created.add(task_id)
            self.tasks.append((person["token"], task_id))

    async def read(self) -> None:
        person = random.choice(self.people)  # noqa: S311
        await self._send(
            "GET", "/api/v1/tasks", headers={"Authorization": f"Bearer {person['token']}"}
        )

    async def update(self) -> None:
        if not self.tasks:
            return await self.read()
        token, task_id = random.choice(self.tasks)  # noqa: S311
        await self._send(
            "PATCH",
            f"/api/v1/tasks/{task_id}",
            json={"status": random.choice(["pending", "in-progress", "completed"])},  # noqa: S311
            headers={"Authorization": f"Bearer {token}"},
        )
        return None

    async def run(self) -> None:
        for _ in range(5):
            await self.register()
        mix = [self.read] * 6 + [self.create] * 2 + [self.update] + [self.register]
        pending: set[asyncio.Task[None]] = set()
        interval = 1 / self.rate
        next_at = time.monotonic()
        while self.running:
            task = asyncio.create_task(random.choice(mix)())  # noqa: S311
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*pending)
        await self.client.aclose()


@dataclass
class Stack:
    topology: str  # "monolith" or "split"
    postgres: PrivatePostgres
    redis: PrivateRedis
    rabbitmq: PrivateRabbitMQ
    redis_port: int
    rabbitmq_port: int
    env: dict[str, str]
    state_dir: Path
    replica: PrivatePostgres | None = None
    database_link: PrivateProcess | None = None  # the delaying proxy in front of the primary
    database_urls: dict[str, str] = field(default_factory=dict)  # service -> its database
    cluster: dict[str, Any] = field(default_factory=dict)
    workers: dict[str, PrivateProcess] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return ["auth", "tasks"] if self.topology == "split" else ["all"]

    @property
    def mail_worker(self) -> PrivateProcess:
        """The worker that sends the welcome mail."""
        return self.workers["auth" if self.topology == "split" else "all"]


def instance_pids(stack: Stack) -> list[int]:
    return [int(pid) for urls in stack.cluster["services"].values() for pid in urls.values()]


def busiest_instance_pid(stack: Stack) -> int:
    """An instance of the service most of the traffic goes to."""
    urls = stack.cluster["services"]["tasks" if stack.topology == "split" else "all"]
    return int(next(iter(urls.values())))


async def inject(stack: Stack, fault: str, window: float) -> tuple[float, float]:
    """Breaks one thing for `window` seconds and brings it back: (when it broke, when back)."""
    broke = time.monotonic()
    if fault == "api-instance":
        os.kill(busiest_instance_pid(stack), signal.SIGKILL)
        await asyncio.sleep(window)  # nginx sends the traffic to the other instances meanwhile
    elif fault == "redis":
        stack.redis.kill()
        await wait_until_async(lambda: tcp_closed(stack.redis_port), within=10, what="Redis down")
        await asyncio.sleep(window)
        stack.redis.launch()
        await wait_until_async(lambda: tcp_open(stack.redis_port), within=20, what="Redis back")
    elif fault == "rabbitmq":
        stack.rabbitmq.kill()
        await wait_until_async(
            lambda: tcp_closed(stack.rabbitmq_port), within=10, what="RabbitMQ down"
        )
        await asyncio.sleep(window)
        stack.rabbitmq.launch()
        await wait_until_async(
            lambda: tcp_open(stack.rabbitmq_port), within=60, what="RabbitMQ back"
        )
    elif fault == "postgresql-restart":
        await asyncio.to_thread(stack.postgres.restart)
    elif fault == "postgresql-stop":
        await asyncio.to_thread(stack.postgres.stop)
        await asyncio.sleep(window)
        await asyncio.to_thread(stack.postgres.start)
    elif fault == "worker":
        stack.mail_worker.kill()
        await asyncio.sleep(window)
        stack.mail_worker.start()
    elif fault == "replica":
        assert stack.replica is not None
        await asyncio.to_thread(stack.replica.stop)
        await asyncio.sleep(window)
        await asyncio.to_thread(stack.replica.start)
    elif fault == "network-delay":
        assert stack.database_link is not None
        stack.database_link.signal(signal.SIGUSR1)
        await asyncio.sleep(window)
        stack.database_link.signal(signal.SIGUSR2)
    else:
        raise ValueError(fault)
    return broke, time.monotonic()


def database_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine on one of the stack's databases, for the benchmark's own checks."""
    return create_async_engine(async_database_url(url), **options)


async def replica_connections(stack: Stack) -> int:
    """The instances' open connections to the replica."""
    assert stack.replica is not None
    engine = database_engine(stack.replica.url())
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": REPLICA_APPLICATION_NAME},
            )
    finally:
        await engine.dispose()
    return int(count or 0)


def summarize(
    ledger: Ledger, fault: str, broke: float, back: float, until: float
) -> dict[str, Any]:
    during = [a for a in ledger.attempts if a.overlaps(broke, back)]
    after = [a for a in ledger.attempts if back <= a.at < until]
    # Recovered: the first success after the last failure once the service was back.
    last_failure = max((a.at for a in after if not _ok(a)), default=back)
    recovered_at = min(
        (a.at + a.seconds for a in after if a.at >= last_failure and _ok(a)), default=None
    )
    latencies = sorted(a.seconds for a in during) or [0.0]
    return {
        "fault": fault,
        "window_seconds": round(back - broke, 1),
        "requests_during": len(during),
        "errors_during": dict(Counter(str(a.status) for a in during if not _ok(a))),
        "errors_after": dict(Counter(str(a.status) for a in after if not _ok(a))),
        "recovery_seconds": (
            None if recovered_at is None else round(max(0.0, recovered_at - back), 2)
        ),
        "p95_during_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
    }


def _ok(attempt: Attempt) -> bool:
    return 0 < attempt.status < 500 and attempt.status != 429


async def verify(stack: Stack, ledger: Ledger, sink: MailSink) -> dict[str, Any]:
    engines = {service: database_engine(url) for service, url in stack.database_urls.items()}

    async def undelivered() -> int:
        total = 0
        for engine in engines.values():
            async with engine.connect() as connection:
                total += int((await connection.execute(text(UNDELIVERED))).scalar() or 0)
        return total

    async def drained() -> bool:
        mailed = all(sink.to[email] >= 1 for email in ledger.registered)
        return mailed and await undelivered() == 0

    try:
        await wait_until_async(
            drained, within=120, what="the outbox drained and every welcome mail arrived"
        )
        outbox_left = 0
    except RuntimeError:
        outbox_left = await undelivered()
    async with engines["tasks" if stack.topology == "split" else "all"].connect() as connection:
        ids = {str(row[0]) for row in await connection.execute(text("SELECT id FROM tasks"))}
    for engine in engines.values():
        await engine.dispose()
    return {
        "acknowledged_creates": len(ledger.created),
        "lost_creates": len(ledger.created - ids),
        "registrations": len(ledger.registered),
        "welcome_mails_missing": sum(1 for e in ledger.registered if sink.to[e] == 0),
        "welcome_mails_duplicated": sum(
            1 for e in ledger.registered if len(sink.message_ids[e]) > 1
        ),
        "welcome_mails_resent": sum(
            1 for e in ledger.registered if sink.to[e] > len(sink.message_ids[e])
        ),
        "outbox_left": outbox_left,
        "operations_given_up": ledger.gave_up,
    }


def cluster_command(stack: Stack, *args: str) -> list[str]:
    return [sys.executable, str(LOCAL_CLUSTER), "--state-dir", str(stack.state_dir), *args]


def copy_logs(state_dir: Path, into: Path) -> None:
    """The instances' logs, kept past the stack."""
    into.mkdir(parents=True, exist_ok=True)
    for log in state_dir.glob("*.log"):
        shutil.copy(log, into / log.name)


DELAY_PROXY = REPO / "bench" / "delay_proxy.py"
NETWORK_DELAY_MS = 200


def cluster_up_arguments(topology: str, instances: int) -> list[str]:
    if topology == "split":
        return [
            *("--split", "--no-service-workers"),
            *("--auth-instances", "2", "--task-instances", str(instances)),
        ]
    return ["--instances", str(instances)]


def service_databases(
    stack: Stack, link_port: int | None
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Each service's database URL (through the delaying link when there is one), its replica's
    URL, and the variables local-cluster takes them from."""
    names = (
        {"auth": "taskyard_auth", "tasks": "taskyard_tasks"}
        if stack.topology == "split"
        else {"all": "postgres"}
    )
    urls, replicas, variables = {}, {}, {}
    for service, name in names.items():
        if name != "postgres":
            stack.postgres.create_database(name)
        urls[service] = stack.postgres.url(name, port=link_port)
        prefix = "TASKYARD_" if service == "all" else f"TASKYARD_{service.upper()}_"
        variables[f"{prefix}DATABASE_URL"] = urls[service]
        if stack.replica is not None:
            replicas[service] = stack.replica.url(name)
            variables[f"{prefix}DATABASE_REPLICA_URLS"] = replicas[service]
    return urls, replicas, variables


@asynccontextmanager
async def running_stack(
    instances: int = 3,
    topology: str = "monolith",
    *,
    replica: bool = False,
    delayed_link: bool = False,
    keep_logs: Path | None = None,
) -> AsyncIterator[tuple[Stack, MailSink]]:
    """nginx over `instances` instances (split: auth x 2 and tasks x `instances`) and the
    workers, on private PostgreSQL (with a streaming replica, and behind a link that can be
    slowed, if asked), Redis and RabbitMQ servers and an SMTP sink, all on free ports;
    everything is removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="taskyard-stack-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - servers run as their own users and must reach it
    redis_port, rabbitmq_port = _free_port(), _free_port()
    (workdir / "redis").mkdir()
    (workdir / "rabbitmq").mkdir()
    stack = Stack(
        topology=topology,
        postgres=PrivatePostgres(settings=postgres_settings()),
        redis=PrivateRedis(workdir / "redis", redis_port),
        rabbitmq=PrivateRabbitMQ(workdir / "rabbitmq", rabbitmq_port),
        redis_port=redis_port,
        rabbitmq_port=rabbitmq_port,
        env={},
        state_dir=workdir / "cluster",
    )
    sink = MailSink()
    sink.controller.start()
    try:
        stack.postgres.start()
        if replica:
            stack.replica = PrivatePostgres(primary=stack.postgres, settings=postgres_settings())
            stack.replica.start()
        link_port = None
        if delayed_link:
            link_port = _free_port()
            stack.database_link = PrivateProcess(
                [
                    sys.executable,
                    str(DELAY_PROXY),
                    *("--listen", str(link_port), "--target", str(stack.postgres.port)),
                    *("--delay-ms", str(NETWORK_DELAY_MS)),
                ]
            )
            stack.database_link.start()
            await wait_until_async(
                lambda: tcp_open(link_port), within=20, what="the database link up"
            )
        stack.database_urls, replica_urls, database_variables = service_databases(stack, link_port)
        stack.redis.launch()
        stack.rabbitmq.launch()
        await wait_until_async(lambda: tcp_open(redis_port), within=20, what="Redis up")
        await wait_until_async(lambda: tcp_open(rabbitmq_port), within=90, what="RabbitMQ up")
        stack.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
            "TASKYARD_BIN": TASKYARD,
            **database_variables,
            "TASKYARD_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "TASKYARD_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{rabbitmq_port}/",
            "TASKYARD_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "TASKYARD_SECRET_KEY": "private-stack-" + "k" * 40,
            "TASKYARD_LOG_LEVEL": "warning",
            "TASKYARD_OUTBOX_POLL_SECONDS": "0.2",
            # As deployed: every process's pool ceiling within the server's connections.
            "TASKYARD_DB_MAX_OVERFLOW": str(POOL_OVERFLOW),
            "TASKYARD_CHALLENGE_AFTER_FAILURES": "0",
            # Counted as deployed, never reached: the limiter's cost is the same at any limit.
            **{
                f"TASKYARD_{name}": "100000000/minute"
                for name in (
                    "RATE_LIMIT",
                    "RATE_LIMIT_LOGIN",
                    "RATE_LIMIT_LOGIN_IP",
                    "RATE_LIMIT_REGISTER",
                    "RATE_LIMIT_REFRESH",
                )
            },
        }
        started = await asyncio.to_thread(
            subprocess.run,
            cluster_command(
                stack,
                "up",
                *cluster_up_arguments(topology, instances),
                *("--port", "0", "--first-instance-port", "0"),
            ),
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if started.returncode != 0:
            raise RuntimeError(started.stderr + started.stdout)
        stack.cluster = json.loads(started.stdout)
        for service in stack.services:
            worker_env = {**stack.env}
            if service != "all":
                auth_url = next(iter(stack.cluster["services"]["auth"]))
                worker_env |= {
                    "TASKYARD_SERVICE": service,
                    "TASKYARD_DATABASE_URL": stack.database_urls[service],
                    "TASKYARD_DATABASE_REPLICA_URLS": replica_urls.get(service, ""),
                    "TASKYARD_AUTH_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
                }
            stack.workers[service] = PrivateProcess([TASKYARD, "worker"], env=worker_env)
            stack.workers[service].start()
        yield stack, sink
    finally:
        if keep_logs is not None:
            await asyncio.to_thread(copy_logs, stack.state_dir, keep_logs)
        await asyncio.to_thread(
            subprocess.run,
            cluster_command(stack, "down"),
            env=stack.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        for process in [*stack.workers.values(), stack.rabbitmq, stack.redis]:
            process.kill()
        if stack.database_link is not None:
            stack.database_link.kill()
        for server in (stack.replica, stack.postgres):
            if server is not None:
                server.remove()
        sink.controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def measure(args: argparse.Namespace, topology: str) -> dict[str, Any]:
    async with running_stack(
        instances=3,
        topology=topology,
        replica="replica" in args.faults,
        delayed_link="network-delay" in args.faults,
        keep_logs=args.keep_logs and args.keep_logs / topology,
    ) as (stack, sink):
        ledger = Ledger()
        traffic = Traffic(stack.cluster["url"], args.rate, ledger)
        flowing = asyncio.create_task(traffic.run())
        await asyncio.sleep(args.settle)
        rows = []
        windows: list[tuple[float, float]] = []  # each fault, until it had recovered
        for fault in args.faults:
            # Reads really go to the replica, so that stopping it is a fault worth the name.
            serving = await replica_connections(stack) if fault == "replica" else None
            broke, back = await inject(stack, fault, args.window)
            await asyncio.sleep(args.settle)
            row = summarize(ledger, fault, broke, back, time.monotonic())
            if serving is not None:
                row["replica_connections_before"] = serving
            rows.append(row)
            windows.append((broke, back + (row["recovery_seconds"] or args.settle)))
        traffic.running = False
        await flowing
        outcome = await verify(stack, ledger, sink)
    quiet = [a for a in ledger.attempts if not any(a.overlaps(b, e) for b, e in windows)]
    quiet_failures = [a for a in quiet if not _ok(a)]
    return {
        "topology": topology,
        "rate_per_second": args.rate,
        "attempts": len(ledger.attempts),
        "attempts_outside_faults": len(quiet),
        "error_rate_outside_faults": round(len(quiet_failures) / max(1, len(quiet)), 5),
        "errors_outside_faults": [
            {
                "status": failure.status,
                "seconds": round(failure.seconds, 3),
                **nearest_fault(failure.at, args.faults, windows),
            }
            for failure in quiet_failures
        ],
        # A welcome mail that arrived more than once: when its second copy came.
        "mails_again": [
            {"second_copy": "same Message-ID" if len(sink.message_ids[email]) == 1 else "new"}
            | nearest_fault(sink.arrivals[email][1], args.faults, windows)
            for email in sorted(ledger.registered)
            if sink.to[email] > 1
        ],
        "faults": rows,
        "outcome": outcome,
    }


def nearest_fault(
    at: float, faults: list[str], windows: list[tuple[float, float]]
) -> dict[str, Any]:
    """The fault whose window starts or ends nearest to `at`, and how far from each."""
    _, fault, from_start, from_end = min(
        (min(abs(at - start), abs(at - end)), fault, at - start, at - end)
        for fault, (start, end) in zip(faults, windows, strict=True)
    )
    return {
        "nearest_fault": fault,
        "seconds_from_its_start": round(from_start, 2),
        "seconds_from_its_end": round(from_end, 2),
    }


ALL_FAULTS = [
    "api-instance",
    "redis",
    "rabbitmq",
    "postgresql-restart",
    "postgresql-stop",
    "replica",
    "network-delay",
    "worker",
]
REDUCED_FAULTS = ["api-instance", "redis", "postgresql-restart"]


TOPOLOGY_NAMES = {
    "monolith": "3 instances",
    "split": "auth x 2 and tasks x 3 behind the gateway",
}


def _placed(entry: dict[str, Any]) -> str:
    """Where `nearest_fault` put something, in words."""
    return (
        f"{entry['seconds_from_its_start']:+} s from the start of {entry['nearest_fault']}"
        f" ({entry['seconds_from_its_end']:+} s from its end)"
    )


def report(results: dict[str, Any]) -> str:
    lines: list[str] = []
    for run in results["runs"]:
        lines += [
            f"# Faults under load: {run['topology']} ({TOPOLOGY_NAMES[run['topology']]}, "
            f"{run['rate_per_second']:.0f} operations/s through nginx)",
            "",
            "| Fault | Window | Requests | Errors during | Errors after | Recovery | p95 during |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in run["faults"]:
            recovery = "—" if row["recovery_seconds"] is None else f"{row['recovery_seconds']} s"
            lines.append(
                f"| {row['fault']} | {row['window_seconds']} s | {row['requests_during']} | "
                f"{row['errors_during'] or 'none'} | {row['errors_after'] or 'none'} | "
                f"{recovery} | {row['p95_during_ms']} ms |"
            )
        lines += [
            f"\nBefore it stopped, the replica served reads on {row['replica_connections_before']} "
            "of the instances' connections."
            for row in run["faults"]
            if "replica_connections_before" in row
        ]
        lines += [
            "",
            f"Errors outside the fault windows: {run['error_rate_outside_faults']:.3%} of "
            f"{run['attempts_outside_faults']} requests (target: under 0.1 %).",
            *(
                f"- {error['status']} after {error['seconds']} s, {_placed(error)}"
                for error in run["errors_outside_faults"]
            ),
            "",
            "Nothing lost:",
            *(f"- {key}: {value}" for key, value in run["outcome"].items()),
            *(
                f"- a welcome mail came again ({again['second_copy']}), {_placed(again)}"
                for again in run.get("mails_again", [])
            ),
            "",
        ]
    return "\n".join(lines)


async def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    return {"runs": [await measure(args, topology) for topology in args.topologies]}


PEAK_RESULTS = REPO / "bench" / "results" / "peak.json"
PEAK_WHEN_UNMEASURED = 150.0  # this 2-core machine's, measured with --peak


def share_of_peak(share: float) -> float:
    """That share of the peak measured last (`--peak SAVE=1`), in whole operations a second."""
    peak = PEAK_WHEN_UNMEASURED
    if PEAK_RESULTS.exists():
        peak = json.loads(PEAK_RESULTS.read_text()).get("peak_per_second") or peak
    return float(round(share * peak))


def peak_report(peak: dict[str, Any]) -> str:
    lines = [
        "# The fault and soak traffic's peak (nginx over 3 instances, load generator on the same "
        "machine)",
        "",
        "| Offered /s | Served /s | p95 | Errors |",
        "| --- | --- | --- | --- |",
        *(
            f"| {step['offered_per_second']:.0f} | {step['served_per_second']} | "
            f"{step['p95_ms']} ms | {step['errors']} |"
            for step in peak["steps"]
        ),
        "",
        f"Peak: {peak['peak_per_second']} operations/s, the highest rate served in full with "
        "p95 under 200 ms and no errors. The fault run goes at half of it, the soak at 70 %.",
    ]
    return "\n".join(lines) + "\n"


PEAK_STEP_SECONDS = 20.0
PEAK_P95_SECONDS = 0.2  # the plan's target: beyond it the stack is past its peak


async def find_peak(rates: list[float]) -> dict[str, Any]:
    """The same traffic, offered at rising rates on a fresh monolith stack: the peak is the
    highest rate served in full with p95 under 200 ms and no errors. The fault run goes at
    about half of it, the soak at about 70 %."""
    steps = []
    async with running_stack(instances=3) as (stack, _sink):
        for rate in rates:
            ledger = Ledger()
            traffic = Traffic(stack.cluster["url"], rate, ledger)
            flowing = asyncio.create_task(traffic.run())
            await asyncio.sleep(PEAK_STEP_SECONDS)
            traffic.running = False
            started = min(a.at for a in ledger.attempts)
            await flowing
            latencies = sorted(a.seconds for a in ledger.attempts)
            served = sum(1 for a in ledger.attempts if _ok(a))
            span = max(a.at + a.seconds for a in ledger.attempts) - started
            steps.append(
                {
                    "offered_per_second": rate,
                    "served_per_second": round(served / span, 1),
                    "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
                    "errors": len(ledger.attempts) - served,
                }
            )
            if steps[-1]["p95_ms"] > PEAK_P95_SECONDS * 1000:
                break
    within = [
        step
        for step in steps
        if step["p95_ms"] <= PEAK_P95_SECONDS * 1000
        and step["errors"] == 0
        and step["served_per_second"] >= 0.95 * step["offered_per_second"]
    ]
    peak = max((step["offered_per_second"] for step in within), default=None)
    return {"steps": steps, "peak_per_second": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="three faults, short windows")
    parser.add_argument(
        "--topology",
        choices=["monolith", "split", "both"],
        default=None,
        help="default: both, or the monolith with --reduced",
    )
    parser.add_argument(
        "--faults", default=None, help=f"comma-separated, of: {', '.join(ALL_FAULTS)}"
    )
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy the logs here")
    parser.add_argument("--rate", type=float, default=None, help="operations per second")
    parser.add_argument("--window", type=float, default=None, help="seconds each fault lasts")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--results-dir", type=Path, default=REPO / "build" / "bench")
    parser.add_argument(
        "--peak",
        action="store_true",
        help="instead of faults: offer rising rates and report the peak (about 3 minutes)",
    )
    args = parser.parse_args()
    if args.peak:
        peak = asyncio.run(find_peak([60.0 + 20 * n for n in range(18)]))
        save_results(args.results_dir, "peak", peak_report(peak), peak)
        return
    chosen = args.faults.split(",") if args.faults else None
    if chosen and not set(chosen) <= set(ALL_FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(set(chosen) - set(ALL_FAULTS)))}")
    args.faults = chosen or (REDUCED_FAULTS if args.reduced else ALL_FAULTS)
    topology = args.topology or ("monolith" if args.reduced else "both")
    args.topologies = ["monolith", "split"] if topology == "both" else [topology]
    args.rate = args.rate or (20.0 if args.reduced else share_of_peak(0.5))
    args.window = args.window or (2.0 if args.reduced else 10.0)
    args.settle = 3.0 if args.reduced else 10.0
    results = asyncio.run(measure_all(args))
    markdown = report(results)
    if not args.reduced and args.faults == ALL_FAULTS:
        save_results(args.results_dir, "faults", markdown, results)
    print(json.dumps(results, indent=2) if args.json else markdown)


if __name__ == "__main__":
    main()
