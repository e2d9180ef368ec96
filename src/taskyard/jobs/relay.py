"""The outbox relay: claims events and hands them on, deleting them only after.

Embedded (no broker): it handles each event itself, inside `taskyard serve`. With a broker:
it publishes each event to RabbitMQ and marks it only after the broker's confirm.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from taskyard.db import Database, is_outage
from taskyard.jobs.broker import Broker, EventMessage
from taskyard.jobs.repository import OutboxRepository
from taskyard.logging import get_logger

logger = get_logger("taskyard.relay")
BATCH_SIZE = 50
LEASE = timedelta(seconds=60)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 2 s, 4 s, 8 s ... at most 5 minutes."""
    return timedelta(seconds=min(2**attempts, 300))


Deliver = Callable[[EventMessage], Awaitable[object]]
DeliverAll = Callable[[list[EventMessage]], Awaitable[object]]
GivenUp = Callable[[EventMessage, str], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        deliver: Deliver,
        *,
        poll_seconds: float = 1.0,
        retry_delay: Callable[[int], timedelta] = retry_delay,
        max_attempts: int | None = None,
        on_give_up: GivenUp | None = None,
        only: frozenset[str] | None = None,
        excluding: frozenset[str] = frozenset(),
        deliver_all: DeliverAll | None = None,
    ) -> None:
        self.database = database
        self.deliver = deliver
        # Hands a claimed batch on whole, in order, and deletes it in one statement:
        # for events that go to one place (the live bus), where a write per event would cost
        # more than the event.
        self.deliver_all = deliver_all
        # Which event types this relay carries (another relay may carry the rest).
        self.only = only
        self.excluding = excluding
        self.poll_seconds = poll_seconds
        self.retry_delay = retry_delay
        # None: retry for as long as it takes (a broker outage is no fault of the event's).
        self.max_attempts = max_attempts
        self.on_give_up = on_give_up
        self._wake = asyncio.Event()

    def carries(self, event_type: str) -> bool:
        in_scope = self.only is None or event_type in self.only
        return in_scope and event_type not in self.excluding

    @property
    def awake(self) -> bool:
        """Whether a wake is waiting for the relay's next pass."""
        return self._wake.is_set()

    async def wake(self) -> None:
        """Called after a commit that emitted events: drain now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                handled = await self.drain_once()
            except Exception as error:  # the database may be away; try again at the next poll
                if is_outage(error):
                    self.database.outage.record_failure("outbox relay", error)
                else:
                    logger.exception("outbox relay pass failed")
                handled = 0
            else:
                self.database.outage.record_success()
            if handled == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def drain_once(self) -> int:
        async with self.database.session(write=True) as session:
            claimed = await OutboxRepository(session).claim(
                BATCH_SIZE, LEASE, only=self.only, excluding=self.excluding
            )
            batch = [
                (event.id, event.type, dict(event.payload), event.attempts) for event in claimed
            ]
            await session.commit()
        if self.deliver_all is not None:
            await self._hand_on_whole(batch)
            return len(batch)
        for event_id, event_type, payload, attempts in batch:
            event = EventMessage(event_id, event_type, payload)
            gave_up: str | None = None
            async with self.database.session(write=True) as session:
                outbox = OutboxRepository(session)
                try:
                    await self.deliver(event)
                except Exception as error:
                    gives_up = self.max_attempts is not None and attempts >= self.max_attempts
                    logger.warning(
                        "event failed; dead-lettered" if gives_up else "event failed; retrying",
                        event_id=str(event_id),
                        type=event_type,
                        attempts=attempts,
                        error=type(error).__name__,
                    )
                    if gives_up:
                        await outbox.mark_dead(event_id, repr(error))
                        gave_up = repr(error)
                    else:
                        await outbox.release(event_id, repr(error), self.retry_delay(attempts))
                else:
                    await outbox.remove_published(event_id)
                await session.commit()
            if gave_up is not None and self.on_give_up is not None:
                await self.on_give_up(event, gave_up)
        return len(batch)

    async def _hand_on_whole(self, batch: list[tuple[uuid.UUID, str, dict[str, Any], int]]) -> None:
        if not batch or self.deliver_all is None:
            return
        events = [EventMessage(event_id, kind, data) for event_id, kind, data, _ in batch]
        try:
            await self.deliver_all(events)
        except Exception as error:  # the whole batch goes again at its retry
            logger.warning(
                "event batch failed; retrying", count=len(batch), error=type(error).__name__
            )
            async with self.database.session(write=True) as session:
                outbox = OutboxRepository(session)
                for event_id, _kind, _data, attempts in batch:
                    await outbox.release(event_id, repr(error), self.retry_delay(attempts))
                await session.commit()
            return
        async with self.database.session(write=True) as session:
            await OutboxRepository(session).remove_all_published([e.event_id for e in events])
            await session.commit()


class BrokerDelivery:
    """Publishes to RabbitMQ, connecting (again) as needed."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def __call__(self, event: EventMessage) -> None:
        if not self.broker.connected:
            await self.broker.connect()
        try:
            await self.broker.publish(event)
        except Exception:
            with contextlib.suppress(Exception):
                await self.broker.close()
            raise
