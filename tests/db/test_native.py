"""Statements sent straight through asyncpg run in the session's transaction, even first."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select

from taskyard.db import Database, utc_now
from taskyard.db.native import fetch_rows, write_rows
from taskyard.jobs.models import OutboxEvent
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
