"""Faults injected while traffic flows, and proof that nothing was lost.

Steady traffic (reads, creates, updates and registrations) goes through nginx to 3 instances,
with a worker sending mail, all on private PostgreSQL, Redis and RabbitMQ servers on free
ports. Clients retry as real ones would, with their Idempotency-Keys. One fault at a time:
an API instance SIGKILLed, Redis killed, RabbitMQ killed, PostgreSQL restarted or stopped, the
worker SIGKILLed mid-batch. For each: errors during the fault and after it, by status; the time
to recovery after the service returns; p95 during the fault. Then, from the database and the
mail sink: every create acknowledged with 201 exists, every registration's welcome mail arrived
exactly once, and the outbox drained.

    make bench-faults                          # every fault, 10 s windows, 100 operations/s
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
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from run import REPO, TASKYARD, _free_port, save_results
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

LOCAL_CLUSTER = REPO / "deploy" / "local-cluster"
PASSWORD = "correct-horse-battery"
RETRY_DEADLINE_SECONDS = 60.0
UNDELIVERED = "SELECT count(*) FROM outbox_events WHERE published_at IS NULL AND dead_at IS NULL"


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        sys.exit(f"{name} not found: install PostgreSQL's server programs")
    return found


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="taskyard-faults-pg-"))
        self.data = self.workdir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        subprocess.run(
            [
                *_as_postgres(),
                _pg_binary("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [
                *_as_postgres(),
                _pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.workdir / "server.log"),
                "-w",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def remove(self) -> None:
        subprocess.run(  # stop it if it still runs, then drop its files
            [
                *_as_postgres(),
                _pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.workdir, ignore_errors=True)


class PrivateProcess:
    """A server of the benchmark's own, started again by `start()` after a kill."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None


def private_redis(port: int, workdir: Path) -> PrivateProcess:
    return PrivateProcess(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ]
    )


def private_rabbitmq(port: int, workdir: Path) -> PrivateProcess:
    node = f"faults{port}"
    env = {
        **os.environ,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_NODENAME": f"{node}@localhost",
        "RABBITMQ_DIST_PORT": str(_free_port()),
        "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(workdir / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
        "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),  # not the machine's
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "HOME": str(workdir),
    }
    (workdir / "enabled_plugins").write_text("[].\n")
    (workdir / "rabbitmq-env.conf").write_text("")
    (workdir / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{port}\n")
    if os.geteuid() == 0:  # Debian's rabbitmq-server runs as the rabbitmq user when root
        for path in [workdir, *workdir.rglob("*")]:
            shutil.chown(path, "rabbitmq", "rabbitmq")
    return PrivateProcess(["rabbitmq-server"], env)


async def wait_until(probe: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if await probe():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"never happened: {what}")
        await asyncio.sleep(0.2)


async def tcp_open(port: int) -> bool:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    return True


class MailSink:
    def __init__(self) -> None:
        self.to: Counter[str] = Counter()
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        for recipient in envelope.rcpt_tos:
            self.to[recipient.lower()] += 1
        return "250 OK"


@dataclass
class Attempt:
    at: float
    seconds: float
    status: int  # 0: no answer


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
    postgres: PrivatePostgres
    redis: PrivateProcess
    rabbitmq: PrivateProcess
    redis_port: int
    rabbitmq_port: int
    env: dict[str, str]
    state_dir: Path
    cluster: dict[str, Any] = field(default_factory=dict)
    worker: PrivateProcess | None = None


def instance_pids(stack: Stack) -> list[int]:
    return [int(pid) for pid in stack.cluster["services"]["all"].values()]


async def inject(stack: Stack, fault: str, window: float) -> tuple[float, float]:
    """Breaks one thing for `window` seconds and brings it back: (when it broke, when back)."""
    broke = time.monotonic()
    if fault == "api-instance":
        pid = instance_pids(stack)[0]
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(window)  # nginx sends the traffic to the other two meanwhile
    elif fault == "redis":
        stack.redis.kill()
        await asyncio.sleep(window)
        stack.redis.start()
        await wait_until(lambda: tcp_open(stack.redis_port), 20, "Redis back")
    elif fault == "rabbitmq":
        stack.rabbitmq.kill()
        await asyncio.sleep(window)
        stack.rabbitmq.start()
        await wait_until(lambda: tcp_open(stack.rabbitmq_port), 60, "RabbitMQ back")
    elif fault == "postgresql-restart":
        await asyncio.to_thread(stack.postgres.restart)
    elif fault == "postgresql-stop":
        await asyncio.to_thread(stack.postgres.stop)
        await asyncio.sleep(window)
        await asyncio.to_thread(stack.postgres.start)
    elif fault == "worker":
        assert stack.worker is not None
        stack.worker.kill()
        await asyncio.sleep(window)
        stack.worker.start()
    else:
        raise ValueError(fault)
    return broke, time.monotonic()


def summarize(
    ledger: Ledger, fault: str, broke: float, back: float, until: float
) -> dict[str, Any]:
    during = [a for a in ledger.attempts if broke <= a.at < back]
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
    engine = create_async_engine(
        stack.env["TASKYARD_DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://")
    )

    async def scalar(statement: str) -> Any:
        async with engine.connect() as connection:
            return (await connection.execute(text(statement))).scalar()

    async def drained() -> bool:
        undelivered = await scalar(UNDELIVERED)
        mailed = all(sink.to[email] >= 1 for email in ledger.registered)
        return int(undelivered) == 0 and mailed

    try:
        await wait_until(drained, 120, "the outbox drained and every welcome mail arrived")
        outbox_left = 0
    except RuntimeError:
        outbox_left = int(await scalar(UNDELIVERED))
    async with engine.connect() as connection:
        ids = {str(row[0]) for row in await connection.execute(text("SELECT id FROM tasks"))}
    await engine.dispose()
    return {
        "acknowledged_creates": len(ledger.created),
        "lost_creates": len(ledger.created - ids),
        "registrations": len(ledger.registered),
        "welcome_mails_missing": sum(1 for e in ledger.registered if sink.to[e] == 0),
        "welcome_mails_duplicated": sum(1 for e in ledger.registered if sink.to[e] > 1),
        "outbox_left": outbox_left,
        "operations_given_up": ledger.gave_up,
    }


def cluster_command(stack: Stack, *args: str) -> list[str]:
    return [sys.executable, str(LOCAL_CLUSTER), "--state-dir", str(stack.state_dir), *args]


@asynccontextmanager
async def running_stack(instances: int = 3) -> AsyncIterator[tuple[Stack, MailSink]]:
    """nginx over `instances` instances and a worker, on private PostgreSQL, Redis and RabbitMQ
    servers and an SMTP sink, all on free ports; everything is removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="taskyard-stack-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - servers run as their own users and must reach it
    redis_port, rabbitmq_port = _free_port(), _free_port()
    (workdir / "redis").mkdir()
    (workdir / "rabbitmq").mkdir()
    stack = Stack(
        postgres=PrivatePostgres(),
        redis=private_redis(redis_port, workdir / "redis"),
        rabbitmq=private_rabbitmq(rabbitmq_port, workdir / "rabbitmq"),
        redis_port=redis_port,
        rabbitmq_port=rabbitmq_port,
        env={},
        state_dir=workdir / "cluster",
    )
    sink = MailSink()
    sink.controller.start()
    try:
        stack.postgres.start()
        stack.redis.start()
        stack.rabbitmq.start()
        await wait_until(lambda: tcp_open(redis_port), 20, "Redis up")
        await wait_until(lambda: tcp_open(rabbitmq_port), 90, "RabbitMQ up")
        stack.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TASKYARD_")},
            "TASKYARD_BIN": TASKYARD,
            "TASKYARD_DATABASE_URL": stack.postgres.url,
            "TASKYARD_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "TASKYARD_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{rabbitmq_port}/",
            "TASKYARD_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "TASKYARD_SECRET_KEY": "private-stack-" + "k" * 40,
            "TASKYARD_LOG_LEVEL": "warning",
            "TASKYARD_OUTBOX_POLL_SECONDS": "0.2",
            "TASKYARD_CHALLENGE_AFTER_FAILURES": "0",
            **{
                f"TASKYARD_{name}": "1000000/minute"
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
                "--instances",
                str(instances),
                "--port",
                "0",
                "--first-instance-port",
                "0",
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
        stack.worker = PrivateProcess([TASKYARD, "worker"], stack.env)
        stack.worker.start()
        yield stack, sink
    finally:
        await asyncio.to_thread(
            subprocess.run,
            cluster_command(stack, "down"),
            env=stack.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if stack.worker is not None:
            stack.worker.kill()
        stack.rabbitmq.kill()
        stack.redis.kill()
        stack.postgres.remove()
        sink.controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    async with running_stack(instances=3) as (stack, sink):
        ledger = Ledger()
        traffic = Traffic(stack.cluster["url"], args.rate, ledger)
        flowing = asyncio.create_task(traffic.run())
        await asyncio.sleep(args.settle)
        rows = []
        windows: list[tuple[float, float]] = []  # each fault, until it had recovered
        for fault in args.faults:
            broke, back = await inject(stack, fault, args.window)
            await asyncio.sleep(args.settle)
            row = summarize(ledger, fault, broke, back, time.monotonic())
            rows.append(row)
            windows.append((broke, back + (row["recovery_seconds"] or args.settle)))
        traffic.running = False
        await flowing
        outcome = await verify(stack, ledger, sink)
    quiet = [a for a in ledger.attempts if not any(b <= a.at < e for b, e in windows)]
    quiet_errors = sum(1 for a in quiet if not _ok(a))
    return {
        "rate_per_second": args.rate,
        "attempts": len(ledger.attempts),
        "attempts_outside_faults": len(quiet),
        "error_rate_outside_faults": round(quiet_errors / max(1, len(quiet)), 5),
        "faults": rows,
        "outcome": outcome,
    }


ALL_FAULTS = [
    "api-instance",
    "redis",
    "rabbitmq",
    "postgresql-restart",
    "postgresql-stop",
    "worker",
]
REDUCED_FAULTS = ["api-instance", "redis", "postgresql-restart"]


def report(results: dict[str, Any]) -> str:
    lines = [
        f"# Faults under load ({results['rate_per_second']:.0f} operations/s through nginx, "
        "3 instances)",
        "",
        "| Fault | Window | Requests | Errors during | Errors after | Recovery | p95 during |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["faults"]:
        recovery = "—" if row["recovery_seconds"] is None else f"{row['recovery_seconds']} s"
        lines.append(
            f"| {row['fault']} | {row['window_seconds']} s | {row['requests_during']} | "
            f"{row['errors_during'] or 'none'} | {row['errors_after'] or 'none'} | {recovery} | "
            f"{row['p95_during_ms']} ms |"
        )
    outcome = results["outcome"]
    lines += [
        "",
        f"Errors outside the fault windows: {results['error_rate_outside_faults']:.3%} of "
        f"{results['attempts_outside_faults']} requests (target: under 0.1 %).",
        "",
        "Nothing lost:",
        *(f"- {key}: {value}" for key, value in outcome.items()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="three faults, short windows")
    parser.add_argument("--rate", type=float, default=None, help="operations per second")
    parser.add_argument("--window", type=float, default=None, help="seconds each fault lasts")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--results-dir", type=Path, default=REPO / "build" / "bench")
    args = parser.parse_args()
    args.faults = REDUCED_FAULTS if args.reduced else ALL_FAULTS
    args.rate = args.rate or (20.0 if args.reduced else 100.0)
    args.window = args.window or (2.0 if args.reduced else 10.0)
    args.settle = 3.0 if args.reduced else 10.0
    results = asyncio.run(measure(args))
    markdown = report(results)
    if not args.reduced:
        save_results(args.results_dir, "faults", markdown, results)
    print(json.dumps(results, indent=2) if args.json else markdown)


if __name__ == "__main__":
    main()
