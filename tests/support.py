"""Test support: throwaway databases, settings for tests, and the skip-or-fail rule for services."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
import redis
from private_servers import MissingProgram, answers_ok, free_port, wait_until
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from taskyard.config import Settings
from taskyard.db import Base, Database
from taskyard.jobs.broker import Broker
from taskyard.migrations import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "TASKYARD_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TASKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET_KEY = "test-secret-key-long-enough-for-any-hmac-0123456789abcdef0123456789"
T = TypeVar("T")
# What every response must carry, at least as strict as Helmet's defaults.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-dns-prefetch-control": "off",
    "x-permitted-cross-domain-policies": "none",
}
# Contract tests make many requests from one address; the limiter's own tests set real limits.
GENEROUS_RATE_LIMITS = {
    "rate_limit": "100000/minute",
    "rate_limit_admin": "100000/minute",
    "rate_limit_login": "100000/minute",
    "rate_limit_login_ip": "100000/minute",
    "rate_limit_register": "100000/minute",
    "rate_limit_refresh": "100000/minute",
}


def in_fresh_loop(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on its own thread and loop (safe from any fixture)."""
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(_await(make_coroutine))
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


async def _await(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    return await make_coroutine()


def service_unavailable(reason: str) -> None:
    """Skip locally, but fail under CI, where every service must be present."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required service unavailable under CI=true: {reason}")
    pytest.skip(reason)  # local only: under CI=true the line above fails instead


def require_private_stack_programs() -> None:
    """What the benchmarks' private stack (bench/faults.py) runs: nginx, Redis, RabbitMQ and
    PostgreSQL's server programs."""
    for tool in ("nginx", "redis-server", "rabbitmq-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            service_unavailable(f"{tool} is not installed")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        service_unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed")


class PostgresDatabases:
    """Creates and drops throwaway databases on the PostgreSQL server under test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def reachable(self) -> str | None:
        async def probe() -> None:
            engine = create_async_engine(self.admin_url)
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            finally:
                await engine.dispose()

        try:
            in_fresh_loop(lambda: asyncio.wait_for(probe(), timeout=5))
        except Exception as error:
            where = make_url(self.admin_url).render_as_string()
            return f"PostgreSQL at {where} unreachable: {error!r}"
        return None

    def create(self) -> str:
        name = f"taskyard_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        async def run() -> None:
            engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as connection:
                    await connection.execute(text(statement))
            finally:
                await engine.dispose()

        in_fresh_loop(run)


def fresh_database(backend: str, tmp_dir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database on the given backend, removed afterwards."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_dir / 'taskyard.db'}"
        in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
        yield url
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    url = databases.create()
    try:
        in_fresh_loop(lambda: asyncio.to_thread(upgrade, url))
        yield url
    finally:
        databases.drop(url)


def settings_with_shared_state(
    request: pytest.FixtureRequest, database_url: str, shared: str
) -> Settings:
    """Settings keeping cache and identity in this process, or in Redis (`shared="redis"`)."""
    if shared == "in-process":
        return make_settings(database_url)
    redis_url = request.getfixturevalue("redis_url")
    return make_settings(database_url, redis_url=redis_url, redis_key_prefix=unique_prefix())


# The servers a test starts share the one test PostgreSQL (100 connections) with the session's
# long-lived servers: each rests on two connections rather than ten.
SMALL_POOL = {"TASKYARD_DB_POOL_SIZE": "2"}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        # API only, whether or not the client is built; tests of the client pass a build.
        "web_dir": None,
        **GENEROUS_RATE_LIMITS,
        # Many tests sign in wrongly on purpose; the check for that has tests of its own.
        "challenge_after_failures": 1000,
        **overrides,
    }
    return Settings(**values)


async def truncate_all(database: Database) -> None:
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


def redis_problem(url: str) -> str | None:
    """Why Redis at `url` can't be used, or None when it answers PING."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {url} unreachable: {error!r}"
    return None


def redis_space(url: str, prefix: str) -> str:
    """Where Taskyard keeps the keys of this run of the Redis server at `url` (`KeySpace`)."""
    run_id = str(redis.Redis.from_url(url).info("server")["run_id"])
    return f"{prefix}:{run_id[:16]}"


def unique_prefix() -> str:
    """A Redis key prefix of its own, so runs and tests never share counters."""
    return f"taskyard-test-{uuid.uuid4().hex[:10]}"


def any_free_port() -> int:
    return free_port()


S = TypeVar("S")


def private(make: Callable[[], S]) -> S:
    """A private server (`bench/private_servers.py`), or a skip (a failure under CI) when this
    machine lacks its program."""
    try:
        return make()
    except MissingProgram as missing:
        service_unavailable(str(missing))
        raise  # service_unavailable never returns


class CapturingSmtpHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.attempts = 0
        self.holding: threading.Event | None = None
        self.released = threading.Event()
        self.accept_held = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import email
        from email import policy

        self.attempts += 1
        if self.holding is not None and not self.holding.is_set():
            # Keep the first sender waiting mid-send, then turn it away (nothing recorded), or
            # take it after all.
            self.holding.set()
            await asyncio.to_thread(self.released.wait)
            if not self.accept_held:
                return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free port, for tests to read what was sent."""

    def __init__(self, hostname: str = "127.0.0.1") -> None:
        """`hostname` "0.0.0.0" also takes mail from containers (host.containers.internal)."""
        self.handler = CapturingSmtpHandler()
        self.hostname = hostname
        self.port = any_free_port()
        self.controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Any]:
        return self.handler.messages

    def hold_first_message(self, *, then_accept: bool = False) -> threading.Event:
        """Stall the next delivery until `release_held()`, then refuse it (451) or take it;
        the event is set when it arrives."""
        self.handler.holding = threading.Event()
        self.handler.accept_held = then_accept
        return self.handler.holding

    def release_held(self) -> None:
        self.handler.released.set()

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        # A controller can't be restarted; a new one on the same port keeps the same address.
        self.controller = Controller(self.handler, hostname=self.hostname, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


BROKER_URL = os.environ.get("TASKYARD_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


def broker_problem(url: str) -> str | None:
    async def probe() -> None:
        import aio_pika

        connection = await aio_pika.connect(url, timeout=5)
        await connection.close()

    try:
        in_fresh_loop(probe)
    except Exception as error:
        return f"RabbitMQ at {url} unreachable: {error!r}"
    return None


def delete_broker_namespace(url: str, prefix: str, retry_levels: int = 8) -> None:
    """Remove the queues and exchange a test declared under its own prefix (for each retry base
    the tests and the defaults use, since retry queues are named by their delay)."""

    async def run() -> None:
        for base in (0.05, 1.0):
            for service in (None, "auth", "tasks"):  # the monolith's queues, and split mode's
                broker = Broker(
                    url,
                    prefix=prefix,
                    max_attempts=retry_levels,
                    retry_base_seconds=base,
                    service=service,
                )
                await broker.delete_topology()

    in_fresh_loop(run)


class TcpProxy:
    """A loopback TCP relay in front of a real server, which a test can cut and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = any_free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@asynccontextmanager
async def behind_proxy(url: str, default_port: int) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A `TcpProxy` in front of the server a URL names, and the URL through it."""
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or default_port)
    await proxy.start()
    credentials, _, _ = target.netloc.rpartition("@")
    netloc = f"{credentials}@" if credentials else ""
    try:
        yield proxy, target._replace(netloc=f"{netloc}127.0.0.1:{proxy.port}").geturl()
    finally:
        await proxy.cut()


def database_behind_proxy(database_url: str) -> AbstractAsyncContextManager[tuple[TcpProxy, str]]:
    return behind_proxy(database_url, 5432)


def wait_for_ok(
    url: str,
    *,
    within: float,
    gone: Callable[[], bool] = lambda: False,
    explain: Callable[[], str] = lambda: "",
) -> None:
    """Until `url` answers 200; fails with `explain()` past `within` or once `gone()` holds."""
    wait_until(
        lambda: answers_ok(url),
        within=within,
        what=f"{url} answering 200",
        gone=gone,
        explain=explain,
    )
