"""Engine, sessions and the per-request unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, Enum, MetaData, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from taskyard.config import Settings
from taskyard.edge.metrics import DB_READS
from taskyard.errors import AppError, ServiceUnavailable
from taskyard.logging import get_logger
from taskyard.redis_client import BackendGuard

logger = get_logger("taskyard.db")
S = TypeVar("S", bound=AsyncSession)

# Deterministic constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_OPTION = "taskyard_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite, which stores no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_ignoring_conflicts(session: AsyncSession, model: type[Base]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, in the session's dialect (PostgreSQL or SQLite): the
    statement's rowcount says whether the row went in."""
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return dialect_insert(model).on_conflict_do_nothing()


def str_enum(enum_class: type[enum.Enum], length: int = 16) -> Enum:
    """Store an enum by its value (e.g. 'in-progress'), as a checked VARCHAR on every backend."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        create_constraint=True,
        name=enum_class.__name__.lower(),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
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
        is_write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


PRIMARY_APPLICATION_NAME = "taskyard"
REPLICA_APPLICATION_NAME = "taskyard-replica"


def _engine_options(settings: Settings, application_name: str) -> dict[str, Any]:
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        # The primary pings rested connections only (`_ping_rested_connections`); replicas ping
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


def _ping_rested_connections(engine: AsyncEngine, after_seconds: float) -> None:
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


def _read_sessions(engine: AsyncEngine, session_class: type[S]) -> async_sessionmaker[S]:
    # On PostgreSQL reads run in autocommit: under READ COMMITTED each statement saw its own
    # snapshot inside a transaction anyway. SQLite keeps its BEGIN, which its "begin" hook emits.
    return async_sessionmaker(engine, class_=session_class, expire_on_commit=False)


class ReplicaSession(AsyncSession):
    """Reads on a replica; if the replica fails mid-read, the session moves to the primary
    and reads again, once. Safe because reads run in autocommit: no transaction is lost, and
    each statement takes its own snapshot anyway."""

    primary: AsyncEngine | None = None
    on_failure: Callable[[BaseException], None] | None = None

    async def _move_to_primary(self, error: BaseException) -> bool:
        if self.primary is None or not is_outage(error):
            return False
        primary, self.primary = self.primary, None  # once: the primary's failures are its own
        with contextlib.suppress(Exception):  # gives the broken connection back
            await self.rollback()
        self.sync_session.bind = primary.sync_engine
        if self.on_failure is not None:
            self.on_failure(error)
        return True

    async def _read(self, read: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        try:
            return await read(*args, **kwargs)
        except Exception as error:
            if not await self._move_to_primary(error):
                raise
        return await read(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:  # scalars() reads through it
        return await self._read(super().execute, *args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._read(super().scalar, *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self._read(super().get, *args, **kwargs)


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


class Database:
    """The primary, for writes and fresh reads, plus any streaming replicas for other reads."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        self.is_sqlite = settings.is_sqlite
        self.engine = create_async_engine(
            self.url, **_engine_options(settings, PRIMARY_APPLICATION_NAME)
        )
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        elif settings.db_pool_pre_ping:
            _ping_rested_connections(self.engine, settings.db_pool_ping_after_seconds)
        self._read_sessions = _read_sessions(self.engine, AsyncSession)
        write_options: dict[str, Any] = {_WRITE_OPTION: True}
        if not self.is_sqlite:
            write_options["isolation_level"] = "READ COMMITTED"
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**write_options), expire_on_commit=False
        )
        self.replicas = [
            create_async_engine(url, **_engine_options(settings, REPLICA_APPLICATION_NAME))
            for url in settings.database_replica_urls
        ]
        self._replica_sessions = [
            _read_sessions(replica, ReplicaSession) for replica in self.replicas
        ]
        self._replica_guards = [
            BackendGuard(f"replica-{n}", retry_after=5.0) for n in range(len(self.replicas))
        ]
        self._next_replica = 0
        self.outage = outage_guard()

    def session(self, *, write: bool) -> AsyncSession:
        factory = self._write_sessions if write else self._read_sessions
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


async def _remember_writer(request: Request) -> None:
    user_id = getattr(request.state, "user_id", None)
    if user_id is not None:
        await request.app.state.recent_writers.mark(user_id)


AfterCommit = Callable[[], Awaitable[object]]
_AFTER_COMMIT = "taskyard_after_commit"


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once this request's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def commit(session: AsyncSession) -> None:
    """Commit, then run what `after_commit` registered: a request's session, or a job's."""
    if session.in_transaction():  # a request that sent no SQL (a cache hit) has nothing to end
        await session.commit()
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            await callback()
        except Exception:  # the write is durable already; a failed follow-up must not undo it
            logger.exception("after-commit step failed")


async def _open_session(request: Request, database: Database) -> AsyncSession:
    """Writes and transactions go to the primary; safe reads to a replica when there is one,
    except for a caller who wrote a moment ago (read-your-writes)."""
    if request.method not in SAFE_METHODS:
        return database.session(write=True)
    if not database.replicas:
        return database.session(write=False)
    user_id = await _caller_id(request)
    if user_id is not None and await request.app.state.recent_writers.wrote_recently(user_id):
        DB_READS.labels(target="primary_read_your_writes").inc()
        return database.session(write=False)
    return await database.replica_session()


async def _caller_id(request: Request) -> str | None:
    """Who calls, as the app wired it (`app.state.claims_of`): the database layer itself knows
    nothing of tokens or identity."""
    claims = await request.app.state.claims_of(request.scope)
    return None if claims is None else str(claims.user_id)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the handler succeeds, roll back when it fails.
    A database that can't be reached makes the request a 503, logged once per outage."""
    database: Database = request.app.state.database
    session = await _open_session(request, database)
    if request.method not in SAFE_METHODS and database.replicas:
        after_commit(session, lambda: _remember_writer(request))
    try:
        try:
            yield session
        except AppError as error:
            if error.persist_changes:
                await commit(session)
            elif session.in_transaction():
                await session.rollback()
            raise
        except BaseException:
            with contextlib.suppress(Exception):  # in an outage the rollback fails too
                await session.rollback()
            raise
        else:
            reached_database = session.in_transaction()
            await commit(session)
            if reached_database:
                database.outage.record_success()
    except Exception as error:
        if isinstance(error, AppError) or not is_outage(error):
            raise
        database.outage.record_failure("request", error)
        raise ServiceUnavailable() from error
    finally:
        session.info.pop(_AFTER_COMMIT, None)
        with contextlib.suppress(Exception):
            await session.close()


# "function" scope: commit before the response leaves, so an acknowledged write is durable.
DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


LIKE_ESCAPE = "\\"


def contains_pattern(term: str) -> str:
    """A LIKE pattern matching `term` literally anywhere (its own % and _ are escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
