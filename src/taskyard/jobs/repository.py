from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.db import insert_ignoring_conflicts, utc_now
from taskyard.db.native import runs_natively
from taskyard.jobs.models import MailClaim, OutboxEvent, ProcessedEvent


def encoded_payload(session: AsyncSession, payload: dict[str, Any]) -> Any:
    """An event's payload as a statement written through `db/native.py` takes it: text for
    asyncpg's JSON codec on PostgreSQL (SQLAlchemy's JSON type would have made it), the object
    for the session elsewhere."""
    return json.dumps(payload) if runs_natively(session) else payload


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, event_type: str, payload: dict[str, Any]) -> OutboxEvent:
        event = OutboxEvent(type=event_type, payload=payload)
        self.session.add(event)
        return event

    async def claim(
        self,
        limit: int,
        lease: timedelta,
        *,
        only: frozenset[str] | None = None,
        excluding: frozenset[str] = frozenset(),
    ) -> Sequence[OutboxEvent]:
        """Take up to `limit` events still to go whose lease is free, for `lease`.

        On PostgreSQL, SKIP LOCKED lets several relays claim side by side without waiting on
        or double-claiming each other's rows.
        """
        now = utc_now()
        candidates = (
            select(OutboxEvent.id)
            .where(
                OutboxEvent.dead_at.is_(None),
                or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
                *([OutboxEvent.type.in_(only)] if only is not None else []),
                *([OutboxEvent.type.not_in(excluding)] if excluding else []),
            )
            .order_by(OutboxEvent.created_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        claimed = await self.session.scalars(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(candidates.scalar_subquery()))
            .values(claimed_until=now + lease, attempts=OutboxEvent.attempts + 1)
            .returning(OutboxEvent)
            .execution_options(synchronize_session=False)
        )
        # RETURNING gives rows in no set order: hand them on in the order they were written
        # (live events reach streams in the order their changes were made).
        return sorted(claimed.all(), key=lambda event: event.created_at)

    async def remove_all_published(self, event_ids: list[uuid.UUID]) -> None:
        """Handed on: nothing is left to keep of them."""
        await self.session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(event_ids)))

    async def remove_published(self, event_id: uuid.UUID) -> None:
        await self.session.execute(delete(OutboxEvent).where(OutboxEvent.id == event_id))

    async def release(self, event_id: uuid.UUID, error: str, retry_in: timedelta) -> None:
        """Give a failed event back, to be claimed again after `retry_in`."""
        await self.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(claimed_until=utc_now() + retry_in, last_error=error[:1000])
        )

    async def mark_dead(self, event_id: uuid.UUID, error: str) -> None:
        """Give up on an event after its last attempt; it waits for a replay."""
        await self.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(dead_at=utc_now(), claimed_until=None, last_error=error[:1000])
        )

    async def pending_count(self) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dead_at.is_(None))
        )
        return int(count or 0)

    async def dead_count(self) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dead_at.is_not(None))
        )
        return int(count or 0)

    async def replay_dead(self, limit: int | None = None) -> int:
        """Put dead events back in line, with a fresh count of attempts."""
        chosen = select(OutboxEvent.id).where(OutboxEvent.dead_at.is_not(None))
        if limit is not None:
            chosen = chosen.order_by(OutboxEvent.created_at).limit(limit)
        result = await self.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(chosen.scalar_subquery()))
            .values(dead_at=None, attempts=0, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))


class ProcessedEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, event_id: uuid.UUID) -> bool:
        found = await self.session.get(ProcessedEvent, event_id)
        return found is not None

    async def first_time(self, event_id: uuid.UUID) -> bool:
        """Record the event as processed; False when it was processed already."""
        result = await self.session.execute(
            insert_ignoring_conflicts(self.session, ProcessedEvent).values(
                event_id=event_id, processed_at=utc_now()
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class MailClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_id: uuid.UUID, lease: timedelta, *, take_over: bool) -> bool:
        """Claim the event's mail for `lease`; False while another sender's lease runs. A lease
        that ran out is taken over: its sender died or hung, and the mail may not be out.
        `take_over` takes it over at once, for a sender known to be gone."""
        now = utc_now()
        inserted = await self.session.execute(
            insert_ignoring_conflicts(self.session, MailClaim).values(
                event_id=event_id, claimed_until=now + lease
            )
        )
        if getattr(inserted, "rowcount", 0) == 1:
            return True
        statement = update(MailClaim).where(MailClaim.event_id == event_id)
        if not take_over:
            statement = statement.where(MailClaim.claimed_until < now)
        taken_over = await self.session.execute(statement.values(claimed_until=now + lease))
        return bool(getattr(taken_over, "rowcount", 0) == 1)

    async def release(self, event_id: uuid.UUID) -> None:
        await self.session.execute(delete(MailClaim).where(MailClaim.event_id == event_id))
