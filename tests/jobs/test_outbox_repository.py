"""Relays on PostgreSQL claim side by side: no event twice, and nobody waits on anybody."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import Database, utc_now
from taskyard.jobs.models import OutboxEvent
from taskyard.jobs.repository import OutboxRepository
from taskyard.live.events import LIVE_EVENT, EventDraft, LiveEventType
from taskyard.live.repository import LiveRepository
from tests.support import make_settings


async def test_concurrent_relays_claim_disjoint_events_without_blocking(postgres_url: str) -> None:
    first_db, second_db = (
        Database(make_settings(postgres_url)),
        Database(make_settings(postgres_url)),
    )
    try:
        async with first_db.session(write=True) as session:
            outbox = OutboxRepository(session)
            for n in range(20):
                outbox.add("test.event", {"n": n})
            await session.commit()
        async with first_db.session(write=True) as first, second_db.session(write=True) as second:
            mine = await OutboxRepository(first).claim(10, timedelta(minutes=1))
            # The first relay's transaction is still open, its rows locked: the second one
            # must skip them at once instead of waiting.
            theirs = await asyncio.wait_for(
                OutboxRepository(second).claim(20, timedelta(minutes=1)), timeout=5
            )
            assert len(mine) == 10
            assert len(theirs) == 10
            assert not {e.id for e in mine} & {e.id for e in theirs}
            await first.commit()
            await second.commit()
        async with first_db.session(write=True) as session:
            # Leased: nothing is handed out twice while the leases last.
            assert await OutboxRepository(session).claim(50, timedelta(minutes=1)) == []
    finally:
        await first_db.dispose()
        await second_db.dispose()


async def test_a_claimed_batch_comes_in_the_order_it_was_written(postgres_url: str) -> None:
    """RETURNING follows the rows' place on disk, not the claim's order: rows updated since
    they were written (a retry's release) sit after the others, yet must not go out after."""
    database = Database(make_settings(postgres_url))
    try:
        async with database.session(write=True) as session:
            outbox = OutboxRepository(session)
            for n in range(30):
                outbox.add("test.event", {"n": n})
            await session.commit()
        async with database.session(write=True) as session:
            # Rewrite the first ten: PostgreSQL writes new row versions at the end of the table.
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.payload["n"].as_integer() < 10)
                .values(last_error="released once")
            )
            await session.commit()
        async with database.session(write=True) as session:
            claimed = await OutboxRepository(session).claim(50, timedelta(minutes=1))
            await session.commit()
        assert [event.payload["n"] for event in claimed] == list(range(30))
    finally:
        await database.dispose()


async def test_an_event_written_at_once_is_claimed_whole_and_rolls_back_with_its_write(
    app: Any,
) -> None:
    """A live event written by one statement (on PostgreSQL straight through asyncpg) stores
    what `add` would: the payload an object, not its text, and the row only if the transaction
    commits (the claim counts an attempt)."""
    database: Database = app.state.services.database
    payload = {"type": "task.created", "data": {"title": "Café", "labels": []}, "seq": 1}
    only = frozenset({LIVE_EVENT})

    async def write(session: AsyncSession) -> None:
        await LiveRepository(session).write(
            EventDraft(LiveEventType.TASK_CREATED, uuid.uuid4(), utc_now(), payload)
        )

    async with database.session(write=True) as session:
        await write(session)
        await session.rollback()
    async with database.session(write=True) as session:
        await write(session)
        await session.commit()
    async with database.session(write=True) as session:
        (event,) = await OutboxRepository(session).claim(10, timedelta(minutes=1), only=only)
        assert (event.type, event.payload, event.attempts) == (LIVE_EVENT, payload, 1)
        assert event.dead_at is None
        assert event.last_error is None
