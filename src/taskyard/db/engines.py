"""Engines: their options, SQLite's pragmas, pinging rested connections, and what counts as
an outage."""

from __future__ import annotations

import math
import time
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.pool import ConnectionPoolEntry

from taskyard.config import Settings
from taskyard.redis_client import BackendGuard

S = TypeVar("S", bound=AsyncSession)


WRITE_OPTION = "taskyard_write"


def configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction that starts DEFERRED and later upgrades can fail at once with
        # "database is locked"; IMMEDIATE waits its turn under busy_timeout instead.
        is_write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


PRIMARY_APPLICATION_NAME = "taskyard"


REPLICA_APPLICATION_NAME = "taskyard-replica"


def engine_options(settings: Settings, application_name: str) -> dict[str, Any]:
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        # The primary pings rested connections only (`ping_rested_connections`); replicas ping
        # every checkout: failover relies on it, a stopped replica is found before any query.
        "pool_pre_ping": application_name == REPLICA_APPLICATION_NAME,
    }
    if not settings.is_sqlite:
        # Connections rest in autocommit: reads need no BEGIN/ROLLBACK round trips (the
        # pre-ping, too, is then one round trip, not three). Writes ask for a transaction.
        options["isolation_level"] = "AUTOCOMMIT"
        options["pool_recycle"] = 1800
        options["connect_args"] = {
            "server_settings": {"application_name": application_name},
            # A host that doesn't answer is an outage after this long, not after a minute.
            "timeout": settings.db_connect_timeout,
        }
    return options


_RESTED_SINCE = "taskyard_rested_since"


def ping_rested_connections(engine: AsyncEngine, after_seconds: float) -> None:
    """Pre-ping at checkout, but only a connection that rested in the pool longer than
    `after_seconds`; a dead one is replaced there and then, before any request uses it."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _note_rest(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RESTED_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_rested(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        rested_since = record.info.get(_RESTED_SINCE)  # none yet: it has just connected
        if rested_since is None or time.monotonic() - rested_since < after_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool drops it and checks out another
            raise DisconnectionError() from error


def read_sessions(engine: AsyncEngine, session_class: type[S]) -> async_sessionmaker[S]:
    # On PostgreSQL reads run in autocommit: under READ COMMITTED each statement saw its own
    # snapshot inside a transaction anyway. SQLite keeps its BEGIN, which its "begin" hook emits.
    return async_sessionmaker(engine, class_=session_class, expire_on_commit=False)


_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset
    TimeoutError,
    OSError,  # host unreachable and the like
    PoolTimeout,
    asyncpg.PostgresConnectionError,  # includes a connection closed mid-query
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.TooManyConnectionsError,  # full: every connection slot taken
    asyncpg.InterfaceError,
)


def is_outage(error: BaseException) -> bool:
    """Whether the error says the database can't be reached now (not that a query is wrong)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_ERRORS):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def outage_guard() -> BackendGuard:
    """Logs one line when an outage starts and one when it ends, never a line per request."""
    return BackendGuard(
        "database", retry_after=0, log_interval=math.inf, log_message="database unavailable"
    )
