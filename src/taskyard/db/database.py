"""The database a process talks to: the primary, its replicas, and the sessions on them."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from taskyard.config import Settings
from taskyard.db.engines import (
    PRIMARY_APPLICATION_NAME,
    REPLICA_APPLICATION_NAME,
    WRITE_OPTION,
    configure_sqlite,
    engine_options,
    outage_guard,
    ping_rested_connections,
    read_sessions,
)
from taskyard.db.replicas import ReplicaSession
from taskyard.edge.metrics import DB_READS
from taskyard.logging import get_logger
from taskyard.redis_client import BackendGuard

logger = get_logger("taskyard.db")


class Database:
    """The primary, for writes and fresh reads, plus any streaming replicas for other reads."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = settings.is_sqlite
        self.engine = create_async_engine(
            self.url, **engine_options(settings, PRIMARY_APPLICATION_NAME)
        )
        if self.is_sqlite:
            configure_sqlite(self.engine)
        elif settings.db_pool_pre_ping:
            ping_rested_connections(self.engine, settings.db_pool_ping_after_seconds)
        self.read_sessions = read_sessions(self.engine, AsyncSession)
        write_options: dict[str, Any] = {WRITE_OPTION: True}
        if not self.is_sqlite:
            write_options["isolation_level"] = "READ COMMITTED"
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**write_options), expire_on_commit=False
        )
        self.replicas = [
            create_async_engine(url, **engine_options(settings, REPLICA_APPLICATION_NAME))
            for url in settings.database_replica_urls
        ]
        self._replica_sessions = [
            read_sessions(replica, ReplicaSession) for replica in self.replicas
        ]
        self._replica_guards = [
            BackendGuard(f"replica-{n}", retry_after=5.0) for n in range(len(self.replicas))
        ]
        self._next_replica = 0
        self.outage = outage_guard()

    def session(self, *, write: bool) -> AsyncSession:
        factory = self._write_sessions if write else self.read_sessions
        return factory()

    async def replica_session(self) -> AsyncSession:
        """A session on a healthy replica, round-robin; the primary if none can be reached.

        A replica that fails is skipped for a few seconds, and the read moves on to the next
        one (or the primary), so the caller never sees the failure.
        """
        count = len(self.replicas)
        start, self._next_replica = self._next_replica, (self._next_replica + 1) % max(count, 1)
        for offset in range(count):
            index = (start + offset) % count
            guard = self._replica_guards[index]
            if guard.should_skip():
                continue
            session = self._replica_sessions[index]()
            try:
                await session.connection()  # checkout, with its pre-ping
            except Exception as error:  # unreachable replica: note it and try the next
                self._replica_failed(guard, error)
                await session.close()
                continue
            guard.record_success()
            DB_READS.labels(target="replica").inc()
            session.primary = self.engine
            session.on_failure = functools.partial(self._replica_failed, guard)
            return session
        DB_READS.labels(target="primary").inc()
        return self.session(write=False)

    @staticmethod
    def _replica_failed(guard: BackendGuard, error: BaseException) -> None:
        guard.record_failure("read", error)
        DB_READS.labels(target="replica_failed").inc()

    async def warm(self) -> None:
        """Open each pool's resting connections now, so that the first requests after a
        start don't pay to connect and what a process holds stays level from its start.

        Best effort: a database that can't be reached yet is no reason not to start.
        """
        if self.is_sqlite:
            return
        for engine in [self.engine, *self.replicas]:
            pool: Any = engine.pool
            opened = await asyncio.gather(
                *(engine.connect().start() for _ in range(pool.size())),
                return_exceptions=True,
            )
            failures = [result for result in opened if isinstance(result, BaseException)]
            for connection in opened:
                if isinstance(connection, AsyncConnection):
                    await connection.close()  # back to the pool, open
            if failures:
                logger.warning(
                    "database pool not warmed",
                    database=engine.url.render_as_string(hide_password=True),
                    failed=len(failures),
                    error=type(failures[0]).__name__,
                )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    def pool_status(self) -> dict[str, int]:
        pool: Any = self.engine.pool
        return {"size": pool.size(), "checkedOut": pool.checkedout(), "overflow": pool.overflow()}

    async def dispose(self) -> None:
        await self.engine.dispose()
        for replica in self.replicas:
            await replica.dispose()
