"""Statements sent straight through asyncpg run in the session's transaction, even first."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, insert, select

from taskyard.db import Database, utc_now
from taskyard.db.native import WriteAfterWholeWrite, fetch_rows, write_rows
from taskyard.db.unit_of_work import commit
from taskyard.jobs.models import OutboxEvent
from tests.helpers import until
from tests.support import make_settings

_INSERT = insert(OutboxEvent.metadata.tables[OutboxEvent.__tablename__])
_COUNT = select(func.count().label("n")).select_from(OutboxEvent).where(OutboxEvent.type == "t")


def _row() -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "type": "t",
        "payload": "{}",
        "created_at": utc_now(),
        "claimed_until": None,
        "dead_at": None,
        "attempts": 0,
        "last_error": None,
    }


async def test_a_write_sent_first_is_undone_by_the_sessions_rollback(postgres_url: str) -> None:
    database = Database(make_settings(postgres_url))
    try:
        async with database.session(write=True) as session:
            await write_rows(session, _INSERT, _row())  # before any statement of SQLAlchemy's
            # Its own transaction sees it, through the session and through the driver alike.
            assert await session.scalar(_COUNT) == 1
            assert [row["n"] for row in await fetch_rows(session, _COUNT, {})] == [1]
            await session.rollback()
        async with database.session(write=True) as session:
            assert await session.scalar(_COUNT) == 0
            await write_rows(session, _INSERT, _row())
            await session.commit()
        async with database.session(write=False) as session:
            assert await session.scalar(_COUNT) == 1
    finally:
        await database.dispose()


async def _count(database: Database) -> int:
    async with database.session(write=False) as session:
        return int(await session.scalar(_COUNT) or 0)


async def test_a_whole_write_is_its_own_transaction(postgres_url: str) -> None:
    """No BEGIN and no COMMIT: the statement is durable once it returns, and the unit of work's
    commit then sends nothing."""
    database = Database(make_settings(postgres_url))
    sent: list[str] = []
    try:
        async with database.session(write=True) as session:
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            driver.add_query_logger(lambda logged: sent.append(logged.query))
            await write_rows(session, _INSERT, _row(), whole=True)
            assert await _count(database) == 1  # seen from another connection already
            await commit(session)
            await until(lambda: len(sent) >= 1)
        assert len(sent) == 1, sent
        assert sent[0].startswith("INSERT INTO outbox_events"), sent
    finally:
        await database.dispose()


async def test_a_whole_write_after_another_write_joins_its_transaction(postgres_url: str) -> None:
    database = Database(make_settings(postgres_url))
    try:
        async with database.session(write=True) as session:
            await write_rows(session, _INSERT, _row())
            await write_rows(session, _INSERT, _row(), whole=True)
            assert await _count(database) == 0  # not committed yet
            await session.rollback()
        assert await _count(database) == 0
        async with database.session(write=True) as session:
            session.add(OutboxEvent(type="t", payload={}))  # pending: a write at commit
            await write_rows(session, _INSERT, _row(), whole=True)
            await session.rollback()
        assert await _count(database) == 0
    finally:
        await database.dispose()


async def test_a_write_after_a_whole_write_is_refused(postgres_url: str) -> None:
    """The whole write has committed on its own: anything after it could not be one transaction
    with it, so it is a bug, stopped before it is written."""
    database = Database(make_settings(postgres_url))
    try:
        async with database.session(write=True) as session:
            await write_rows(session, _INSERT, _row(), whole=True)
            with pytest.raises(WriteAfterWholeWrite):
                await write_rows(session, _INSERT, _row())
            session.add(OutboxEvent(type="t", payload={}))
            with pytest.raises(WriteAfterWholeWrite):
                await commit(session)
            await session.rollback()
        async with database.session(write=True) as session:
            await write_rows(session, _INSERT, _row(), whole=True)
            await session.execute(_INSERT, _row())  # through SQLAlchemy: begins a transaction
            with pytest.raises(WriteAfterWholeWrite):
                await commit(session)
            await session.rollback()
        assert await _count(database) == 2  # the two whole writes, and nothing after them
    finally:
        await database.dispose()


async def test_a_whole_write_that_failed_wrote_nothing_and_bars_nothing(postgres_url: str) -> None:
    database = Database(make_settings(postgres_url))
    try:
        row = _row()
        async with database.session(write=True) as session:
            await write_rows(session, _INSERT, row, whole=True)
            await commit(session)
        async with database.session(write=True) as session:
            with pytest.raises(asyncpg.UniqueViolationError):
                await write_rows(session, _INSERT, row, whole=True)  # the same id again
            await write_rows(session, _INSERT, _row())  # not refused: nothing was written
            await commit(session)
        assert await _count(database) == 2
    finally:
        await database.dispose()
