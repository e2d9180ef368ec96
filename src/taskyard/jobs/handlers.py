"""Carries out one event by what its domain registered. Every handler runs at most once per
event id, whoever delivers it."""

from __future__ import annotations

import uuid

from taskyard.db import Database, commit
from taskyard.jobs.broker import EventMessage
from taskyard.jobs.mail import Mailer
from taskyard.jobs.registry import EventRegistry, Payload, WorkHandler
from taskyard.jobs.repository import ProcessedEventRepository


class EventHandlers:
    def __init__(self, database: Database, mailer: Mailer, registry: EventRegistry) -> None:
        self.database = database
        self.mailer = mailer
        self.registry = registry

    async def handle_message(self, event: EventMessage) -> bool:
        return await self.handle(event.event_id, event.type, event.payload)

    async def handle(self, event_id: uuid.UUID, event_type: str, payload: Payload) -> bool:
        """Carry out one event; False when it had been carried out already (a redelivery)."""
        work = self.registry.work.get(event_type)
        if work is not None:
            return await self._work(event_id, work, payload)
        compose = self.registry.mails.get(event_type)
        if compose is None:
            raise ValueError(f"unknown event type {event_type!r}")
        # No write transaction is held while the mail goes out: on SQLite it would block every
        # other writer for as long as the mail server takes.
        async with self.database.session(write=False) as session:
            if await ProcessedEventRepository(session).seen(event_id):
                return False
            mail = await compose(session, payload)
        if mail is not None:
            await self.mailer.send(mail)
        # Recorded only after the mail went out: a failure before this leaves the event to retry.
        async with self.database.session(write=True) as session:
            first = await ProcessedEventRepository(session).first_time(event_id)
            await session.commit()
        return first

    async def _work(self, event_id: uuid.UUID, work: WorkHandler, payload: Payload) -> bool:
        if work.prepare is not None:
            await work.prepare(self.database, payload)
        async with self.database.session(write=True) as session:
            if not await ProcessedEventRepository(session).first_time(event_id):
                return False
            await work.run(session, payload)
            await commit(session)  # and what the work registered to follow it
            return True
