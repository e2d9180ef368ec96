"""The Redis connection, and the fail-open guard shared by everything that leans on it."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection

from taskyard.config import Settings
from taskyard.logging import get_logger

# Short timeouts: Redis answers in well under a millisecond; anything slower is an outage.
SOCKET_TIMEOUT_SECONDS = 0.5

logger = get_logger("taskyard.redis")


def create_redis(settings: Settings) -> Redis | None:
    """A client on a bounded pool: under a burst, connections stop at the bound rather than
    growing with every request in flight. `warm_pool` opens them all at start."""
    if not settings.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


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
