"""The Redis connection, the run of the server it reaches, and the fail-open guard shared by
everything that leans on it."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.types import Scope

from taskyard.access_tokens import AccessClaims
from taskyard.config import Settings
from taskyard.logging import get_logger

# Short timeouts: Redis answers in well under a millisecond; anything slower is an outage.
SOCKET_TIMEOUT_SECONDS = 0.5
# A wait for a free pooled connection is not an outage: under a burst above the pool, a command
# queues for one (each is held for one trip, and an outage frees it within the socket timeout).
POOL_WAIT_SECONDS = 5.0

logger = get_logger("taskyard.redis")


class ServerLifetime:
    """Which run of the Redis server this process's connections reach: its `run_id`, read by
    every connection as it connects, before it carries any command.

    A Redis that restarts from a snapshot, or a replica that takes over while it lags, brings
    back keys from the past: version counters lower than the bodies they name, a session that
    was open then. Keys that must never be read from the past (the identity state, the cache's
    versions and bodies) live under the run they were written in (`KeySpace`): a new run_id
    starts them afresh, and the database answers until they fill again.
    """

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.tag: str | None = None  # what key names carry of it

    async def on_connect(self, connection: AbstractConnection) -> None:
        await connection.on_connect()
        await connection.send_command("INFO", "server")
        info = await connection.read_response()
        text = info.decode() if isinstance(info, bytes) else str(info)
        for line in text.splitlines():
            if line.startswith("run_id:"):
                run_id = line.removeprefix("run_id:").strip()
                if run_id != self.run_id:
                    if self.run_id is not None:
                        logger.warning("redis server changed; its earlier keys are left behind")
                    self.run_id, self.tag = run_id, run_id[:16]
                return
        raise RedisError("the Redis server did not say its run_id")


@dataclass(frozen=True, slots=True)
class KeySpace:
    """Names keys under `prefix` and, in a shared Redis, the server's current run. Write under
    `current()`, and trust what was read only while `holds()` that name: the server may have
    changed while the command was on its way (the client reconnects and retries)."""

    prefix: str
    lifetime: ServerLifetime | None = None

    def current(self) -> str | None:
        """The prefix of this run's keys; None while no connection has said which run it is."""
        if self.lifetime is None:
            return self.prefix
        tag = self.lifetime.tag
        return None if tag is None else f"{self.prefix}:{tag}"

    def holds(self, namespace: str) -> bool:
        return self.current() == namespace

    async def resolve(self, redis: Redis) -> str | None:
        """`current()`, connecting first while no connection has said (a PING: the connection
        reads the run as it opens). Raises what Redis raises."""
        if self.current() is None:
            await redis.ping()
        return self.current()


Command = tuple[str | bytes | int | float, ...]


class RoundTripPart(Protocol):
    """One layer's reads and writes in a request's single Redis round trip, which the caller
    layer sends (`identity/caller.py`): each layer owns its keys and its code, and only the
    trip is shared."""

    def queue(self, scope: Scope, claims: AccessClaims, commands: list[Command]) -> int:
        """Add this layer's commands for the request; how many (0: it needs none)."""
        ...

    def keep(self, scope: Scope, replies: Sequence[Any]) -> None:
        """The replies to this layer's commands, in order. A reply may be an exception: the
        layer then asks Redis itself, as it does when the trip could not be made."""
        ...


def packed(commands: Sequence[Command]) -> bytes:
    """The commands as Redis reads them (RESP arrays of bulk strings), built in one pass: the
    client's own packing weighs every argument for the large values it can stream, which
    costs more than the small keys and numbers sent here."""
    parts: list[bytes] = []
    for command in commands:
        parts.append(b"*%d\r\n" % len(command))
        for argument in command:
            data = argument if isinstance(argument, bytes) else str(argument).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def send_at_once(redis: Redis, commands: Sequence[Command]) -> list[Any]:
    """Sends `commands` together on one pooled connection and reads their replies in order,
    under one timeout for the whole trip: redis-py's pipeline times each reply on its own and
    builds a command object for each, which cost more than the reading (`bench/results/
    round-trip-cost.md`). A reply that is an error comes back as that ResponseError; a trip
    that fails raises a RedisError, and its connection is dropped."""
    pool = redis.connection_pool
    connection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        async with asyncio.timeout(SOCKET_TIMEOUT_SECONDS):
            await connection.send_packed_command(packed(commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await connection.read_response(timeout=math.inf))
                except ResponseError as error:
                    replies.append(error)
            return replies
    except BaseException as error:
        await connection.disconnect(nowait=True)
        if isinstance(error, TimeoutError):
            raise RedisTimeoutError("Redis did not answer in time") from error
        raise
    finally:
        await pool.release(connection)


class TrackedRedis(Redis):
    """A client that knows which run of the server its connections reach."""

    lifetime: ServerLifetime


def create_redis(settings: Settings) -> TrackedRedis | None:
    """A client on a bounded pool: under a burst, connections stop at the bound rather than
    growing with every request in flight. `warm_pool` opens them all at start."""
    if not settings.redis_url:
        return None
    lifetime = ServerLifetime()
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=POOL_WAIT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
        redis_connect_func=lifetime.on_connect,
    )
    client = cast(TrackedRedis, TrackedRedis.from_pool(pool))
    client.lifetime = lifetime
    return client


async def warm_pool(redis: Redis | None) -> None:
    """Open every connection of the pool now: a fixed set, held from the start, so that the
    first requests don't pay to connect and a burst never adds connections.

    Best effort: a Redis that can't be reached yet is no reason not to start.
    """
    if redis is None:
        return
    pool = redis.connection_pool
    opened = await asyncio.gather(
        *(pool.get_connection() for _ in range(pool.max_connections)),  # type: ignore[no-untyped-call]
        return_exceptions=True,
    )
    failures = [result for result in opened if isinstance(result, BaseException)]
    for connection in opened:
        if isinstance(connection, AbstractConnection):
            await pool.release(connection)
    if failures:
        logger.warning(
            "redis pool not opened", failed=len(failures), error=type(failures[0]).__name__
        )


class BackendGuard:
    """Lets requests go on without an optional backend that is failing.

    After a failure the backend is skipped for `retry_after` seconds, so an outage costs one
    timeout per interval rather than one per request, and is logged once per `log_interval`.
    """

    def __init__(
        self,
        name: str,
        *,
        retry_after: float = 1.0,
        log_interval: float = 30.0,
        log_message: str = "backend unavailable, failing open",
    ) -> None:
        self.name = name
        self.log_message = log_message
        self.retry_after = retry_after
        self.log_interval = log_interval
        self.failing_since: float | None = None
        self.failures_since_log = 0
        self._skip_until = 0.0
        self._last_log: float | None = None

    @property
    def is_failing(self) -> bool:
        return self.failing_since is not None

    def should_skip(self) -> bool:
        return time.monotonic() < self._skip_until

    def record_failure(self, operation: str, error: BaseException) -> None:
        now = time.monotonic()
        self._skip_until = now + self.retry_after
        if self.failing_since is None:
            self.failing_since = time.time()
        self.failures_since_log += 1
        if self._last_log is None or now - self._last_log >= self.log_interval:
            logger.warning(
                self.log_message,
                backend=self.name,
                operation=operation,
                error=type(error).__name__,
                failures=self.failures_since_log,
            )
            self._last_log = now
            self.failures_since_log = 0

    def record_success(self) -> None:
        if self.failing_since is not None:
            logger.info("backend recovered", backend=self.name)
            self.failing_since = None
            self.failures_since_log = 0
            self._last_log = None
