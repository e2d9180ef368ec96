"""Servers of a run's own, for the tests and the benchmarks alike: Redis, PostgreSQL (and a
streaming replica of it), RabbitMQ and Prometheus, each on a free port and a directory of its
own, so that stopping, freezing or killing one disturbs nobody else.

The benchmarks import it as `private_servers` (they run from bench/); pytest has bench/ on its
path too. A program that isn't installed raises `MissingProgram`, which the tests turn into a
skip (a failure under CI) and a benchmark into its error message.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import httpx
import redis
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    stop_any,
    wait_fixed,
)
from tenacity.stop import stop_base

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


class MissingProgram(RuntimeError):
    """A server program this machine doesn't have."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def program(name: str, *, hint: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MissingProgram(f"{name} is not installed ({hint})")
    return found


class _StopOnce(stop_base):
    """Stops the retrying as soon as `gone()` holds (the server it waits for has exited)."""

    def __init__(self, gone: Callable[[], bool]) -> None:
        self.gone = gone

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.gone()


def _not_yet(value: object) -> bool:
    return value is None or value is False


def _waiting(
    within: float, what: str, gone: Callable[[], bool], explain: Callable[[], str], every: float
) -> dict[str, Any]:
    """What both waits retry on: a probe that answers None or False, or raises, is not there yet;
    past `within`, or once `gone()`, it never will be."""

    def never(state: RetryCallState) -> NoReturn:
        failed = state.outcome.exception() if state.outcome is not None else None
        last = f" (last: {failed!r})" if failed is not None else ""
        raise TimeoutError(f"never happened: {what}{last}\n{explain()}")

    return {
        "retry": retry_if_result(_not_yet) | retry_if_exception_type(Exception),
        "wait": wait_fixed(every),
        "stop": stop_any(stop_after_delay(within), _StopOnce(gone)),
        "retry_error_callback": never,
    }


def wait_until(
    probe: Callable[[], T | None],
    *,
    within: float,
    what: str,
    gone: Callable[[], bool] = lambda: False,
    explain: Callable[[], str] = lambda: "",
    every: float = 0.05,
) -> T:
    """Asks `probe` again until it answers something (not None or False) and returns that."""
    return cast(T, Retrying(**_waiting(within, what, gone, explain, every))(probe))


async def wait_until_async(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    gone: Callable[[], bool] = lambda: False,
    explain: Callable[[], str] = lambda: "",
    every: float = 0.05,
) -> T:
    """`wait_until` for a probe to await, without blocking the loop between tries."""
    return cast(T, await AsyncRetrying(**_waiting(within, what, gone, explain, every))(probe))


def answers_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class PrivateProcess:
    """A server process, in a process group of its own that `kill()` takes down whole; `start()`
    runs it again after a stop or a kill (`launch()`: without waiting for it to answer, for a
    caller that waits its own way)."""

    def __init__(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        log: Path | None = None,
    ) -> None:
        self.command = command
        self.env = env
        self.user = user
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        output = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            user=self.user,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        self.launch()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        os.kill(self.process.pid, number)

    def stop(self) -> None:
        """SIGTERM, after waking it if it was frozen."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def kill(self) -> None:
        """SIGKILL to the whole group: what it hadn't written down is gone."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None


class PrivateRedis(PrivateProcess):
    """A redis-server without persistence but for `snapshot()`, which `start()` then loads."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        binary = program("redis-server", hint="apt-get install redis-server")
        super().__init__(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
            ]
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.launch()
        wait_until(self._answers, within=10, what="the private redis-server answering")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def pause(self) -> None:
        """Freeze the server: connections hang, and it keeps every key it holds."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def snapshot(self) -> None:
        """Write every key to the snapshot in its directory, now (what a `save` rule does)."""
        assert redis.Redis.from_url(self.url).save()


class PrivateRabbitMQ(PrivateProcess):
    """A RabbitMQ node of its own: its own name, ports, database and (empty) configuration."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        env = {
            **os.environ,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_NODENAME": f"private{self.port}@localhost",
            "RABBITMQ_DIST_PORT": str(free_port()),
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
        (workdir / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        user = None
        if os.geteuid() == 0:  # the broker runs as its own user
            user = "rabbitmq"
            for path in [workdir, *workdir.rglob("*")]:
                shutil.chown(path, user, user)
        # Not Debian's /usr/sbin wrapper: as root it re-runs the server through su, in a session
        # of its own that a kill of this process group would miss (the broker would live on).
        server = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        command = str(server) if server.exists() else program("rabbitmq-server", hint="apt")
        super().__init__([command], env=env, user=user)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


def _postgres_program(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        raise MissingProgram(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def _as_postgres() -> list[str]:
    """The server refuses to run as root: as root, run its programs as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivatePostgres:
    """A PostgreSQL server of its own: trusting local connections, or asking for `password`
    (scram-sha-256); given a primary, a streaming replica of it."""

    def __init__(
        self,
        *,
        password: str | None = None,
        primary: PrivatePostgres | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.password = password
        self.settings = {"listen_addresses": "127.0.0.1", **(settings or {})}
        # Outside any private temp folder of the caller's: the server runs as the postgres user
        # when the caller is root, and must reach it.
        self.workdir = Path(tempfile.mkdtemp(prefix="taskyard-pg-"))
        self.data = self.workdir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        if primary is not None:  # initdb's trust rules admit replication from loopback
            self._run(
                _postgres_program("pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
                *("-D", str(self.data), "--write-recovery-conf", "--wal-method=stream"),
            )
        elif password is None:
            self._run(
                _postgres_program("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"
            )
        else:
            password_file = self.workdir / "password"
            password_file.write_text(password)
            if os.geteuid() == 0:
                shutil.chown(password_file, "postgres")
            self._run(
                _postgres_program("initdb"),
                *("-D", str(self.data), "-U", "postgres"),
                *("--auth=scram-sha-256", f"--pwfile={password_file}"),
            )

    def url(
        self, database: str = "postgres", *, password: str | None = None, port: int | None = None
    ) -> str:
        """`port`: another way in to the same server (a proxy in front of it)."""
        secret = password if password is not None else self.password
        login = f"postgres:{secret}" if secret is not None else "postgres"
        return f"postgresql://{login}@127.0.0.1:{port or self.port}/{database}"

    @staticmethod
    def _run(*argv: str) -> None:
        subprocess.run([*_as_postgres(), *argv], check=True, capture_output=True, timeout=120)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.workdir} " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        log = self.workdir / "server.log"
        self._run(
            _postgres_program("pg_ctl"),
            *("-D", str(self.data), "-o", options, "-l", str(log), "-w"),
            *args,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    @property
    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def create_database(self, name: str) -> None:
        self._run(
            _postgres_program("createdb"),
            *("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name),
        )

    def remove(self) -> None:
        """Stop it if it still runs (immediately), then drop its files."""
        if self.data.exists():
            subprocess.run(
                [
                    *_as_postgres(),
                    _postgres_program("pg_ctl"),
                    *("-D", str(self.data), "-m", "immediate", "-w", "stop"),
                ],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.workdir, ignore_errors=True)


class PrivatePrometheus(PrivateProcess):
    """Debian's Prometheus, scraping given Taskyard instances every second with
    deploy/compose's rules."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "prometheus.yml"
        binary = program("prometheus", hint="apt-get install prometheus")
        super().__init__(
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            log=workdir / "prometheus.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def scrape(self, targets: list[str]) -> None:
        """Start, scraping `targets` (host:port) as the `api` service."""
        rules = REPO / "deploy/compose/prometheus/taskyard.rules.yml"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [
                {
                    "job_name": "taskyard",
                    "static_configs": [{"targets": targets, "labels": {"service": "api"}}],
                }
            ],
        }
        self.config.write_text(json.dumps(config))
        self.start()
        wait_until(
            lambda: answers_ok(f"{self.url}/-/ready"),
            within=30,
            what="the private Prometheus ready",
            gone=lambda: not self.running,
            explain=lambda: (self.workdir / "prometheus.log").read_text()[-3000:],
        )
