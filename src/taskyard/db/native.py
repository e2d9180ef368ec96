"""The hottest reads, and a create's writes, straight through asyncpg: the statement a
repository built, compiled once to PostgreSQL's text and run as a prepared statement on the
session's own connection (in its transaction), rows left as asyncpg made them. SQLAlchemy's
per-execution work (its compiled-cache lookup, bind and result processing, `Row` objects) costs
more than the query on a short page, and a fifth of a create's CPU.

Only for statements whose values asyncpg takes as they are (UUIDs, text and text enums,
integers, aware datetimes). Rows are mappings, read by column name (`row["title"]`), whichever
way they came: other databases run the statement through the session as usual."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import CursorResult, Insert, Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db.engines import is_outage
from taskyard.db.replicas import ReplicaSession

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

# A row by column name: an asyncpg record, or SQLAlchemy's `RowMapping`.
NamedRow = Mapping[Any, Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    # The values the statement carries itself (literals in a CASE, say), by parameter name.
    own_values: dict[str, Any]

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        own = self.own_values
        return [values[name] if name in values else own[name] for name in self.names]


@functools.lru_cache(maxsize=2048)  # keyed by the statement object, which repositories keep
def _compiled(statement: Select[Any] | Insert) -> _Compiled:
    compiled = statement.compile(dialect=_DIALECT)
    return _Compiled(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))


async def fetch_rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[NamedRow]:
    """The statement's rows, by column name: through asyncpg on PostgreSQL, through the session
    elsewhere. A replica that fails mid-read hands the read to the primary, as the
    session's own reads do."""
    if not runs_natively(session):
        return list((await session.execute(statement, values)).mappings())
    if isinstance(session, ReplicaSession):
        rows: Sequence[NamedRow] = await session.read_with_failover(
            _fetch_native, session, statement, values
        )
        return rows
    return await _fetch_native(session, statement, values)


def runs_natively(session: AsyncSession) -> bool:
    """Whether the session is on PostgreSQL through asyncpg, where statements can go natively."""
    return session.get_bind().dialect.driver == "asyncpg"


async def write_rows(
    session: AsyncSession,
    statement: Select[Any] | Insert,
    values: Mapping[str, Any],
    *,
    whole: bool = False,
) -> Sequence[NamedRow]:
    """A write (an INSERT, or on PostgreSQL a CTE that inserts and then reads), with the rows it
    returns, if any: through asyncpg on PostgreSQL, in the write session's transaction and never
    run twice; through the session elsewhere. Its values must be what asyncpg takes as they are
    (see above).

    `whole`: the caller vouches that this statement is all its unit of work writes. If nothing
    was written before it either, it runs as its own transaction: PostgreSQL makes a statement
    atomic, and BEGIN and COMMIT would be two round trips for nothing. The unit of work's commit
    refuses a write after it (`check_whole_write`)."""
    if not runs_natively(session):
        result = cast("CursorResult[Any]", await session.execute(statement, values))
        return list(result.mappings()) if result.returns_rows else []
    return await _fetch_native(session, statement, values, write=True, whole=whole)


async def _fetch_native(
    session: AsyncSession,
    statement: Select[Any] | Insert,
    values: Mapping[str, Any],
    *,
    write: bool = False,
    whole: bool = False,
) -> Sequence[NamedRow]:
    compiled = _compiled(statement)
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        alone = False  # a read on its own needs no transaction (nor its BEGIN's round trip)
        if write:
            if session.info.get(_WRITTEN_WHOLE):
                raise WriteAfterWholeWrite()
            alone = whole and not _began(raw.dbapi_connection) and not _pending(session)
            if not alone:
                await _in_the_sessions_transaction(raw.dbapi_connection)
        records: list[asyncpg.Record] = await driver.fetch(
            compiled.sql, *compiled.arguments(values)
        )
        if alone:  # committed: nothing may follow it (a failed one wrote nothing)
            session.info[_WRITTEN_WHOLE] = True
        return records
    except Exception as error:
        if is_outage(error):  # never hand a dead connection back to the pool
            await connection.invalidate(error)
        raise


_WRITTEN_WHOLE = "taskyard_written_whole"


class WriteAfterWholeWrite(RuntimeError):
    """A unit of work wrote after a statement its caller said was all it would write: that
    statement has committed on its own, so the two are not one transaction. A bug."""

    def __init__(self) -> None:
        super().__init__("a write after the unit of work's whole write (write_rows(whole=True))")


def _pending(session: AsyncSession) -> bool:
    """ORM changes the session would flush at commit: a write already made, in effect."""
    return bool(session.new or session.dirty or session.deleted)


async def check_whole_write(session: AsyncSession) -> None:
    """Before a commit: after a whole write (see `write_rows`), nothing else may have been
    written or be waiting to be."""
    if not session.info.get(_WRITTEN_WHOLE):
        return
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if _pending(session) or _began(adapted):
        raise WriteAfterWholeWrite()


async def _in_the_sessions_transaction(adapted: Any) -> None:
    """Begin the session's transaction if nothing has yet: SQLAlchemy's asyncpg adapter begins
    it lazily, on its own first statement, so a statement sent to the driver first would run
    on its own (autocommit), outside what the session commits or rolls back. The adapter's own
    begin, so that it commits or rolls back what this began (a private hook of SQLAlchemy's,
    pinned in constraints.txt; tests/db/test_native.py holds a rollback to it)."""
    if not _began(adapted):
        await adapted._start_transaction()


def _began(adapted: Any) -> bool:
    """Whether SQLAlchemy's asyncpg adapter has begun a transaction on its connection."""
    return adapted._transaction is not None
