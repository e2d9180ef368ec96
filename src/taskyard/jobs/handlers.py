"""Carries out one event by what its domain registered. Every handler runs at most once per
event id, whoever delivers it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    stop_before_delay,
    wait_exponential,
    wait_fixed,
)

from taskyard.db import Database, commit, is_outage
from taskyard.jobs.broker import EventMessage
from taskyard.jobs.mail import SMTP_TIMEOUT_SECONDS, Mail, Mailer, message_id_for
from taskyard.jobs.registry import ComposeMail, EventRegistry, Payload, WorkHandler
from taskyard.jobs.repository import MailClaimRepository, ProcessedEventRepository
from taskyard.logging import get_logger

# Long enough for a send that hangs until its timeout; a sender that died frees it after this.
MAIL_CLAIM_LEASE = timedelta(seconds=3 * SMTP_TIMEOUT_SECONDS)
CLAIM_POLL_SECONDS = 0.25
# A mail that went out is recorded through a database outage of up to this long, rather than
# being left to a retry that would send it again.
RECORD_PATIENCE_SECONDS = 300.0
logger = get_logger("taskyard.worker")


class MailInFlight(Exception):
    """Another sender still holds the event's mail; the event is retried later."""


class EventHandlers:
    def __init__(self, database: Database, mailer: Mailer, registry: EventRegistry) -> None:
        self.database = database
        self.mailer = mailer
        self.registry = registry

    async def handle_message(self, event: EventMessage, *, redelivered: bool = False) -> bool:
        # RabbitMQ redelivers a message only once its consumer is gone: a mail that consumer
        # claimed is taken over at once rather than after the lease.
        return await self.handle(event.event_id, event.type, event.payload, sender_gone=redelivered)

    async def handle(
        self, event_id: uuid.UUID, event_type: str, payload: Payload, *, sender_gone: bool = False
    ) -> bool:
        """Carry out one event; False when it had been carried out already (a redelivery)."""
        work = self.registry.work.get(event_type)
        if work is not None:
            return await self._work(event_id, work, payload)
        compose = self.registry.mails.get(event_type)
        if compose is None:
            raise ValueError(f"unknown event type {event_type!r}")
        return await self._mail(event_id, compose, payload, sender_gone)

    async def give_up(self, event: EventMessage, error: str) -> None:
        """The event failed every try: let its domain say so where people look (best effort:
        the event stays in the dead letters for a replay either way)."""
        work = self.registry.work.get(event.type)
        if work is None or work.give_up is None:
            return
        try:
            await work.give_up(self.database, event.payload, error)
        except Exception as failure:
            logger.warning(
                "giving up on an event failed",
                event_id=str(event.event_id),
                type=event.type,
                error=repr(failure),
            )

    async def _mail(
        self, event_id: uuid.UUID, compose: ComposeMail, payload: Payload, sender_gone: bool
    ) -> bool:
        # No write transaction is held while the mail goes out: on SQLite it would block every
        # other writer for as long as the mail server takes.
        async with self.database.session(write=False) as session:
            if await ProcessedEventRepository(session).seen(event_id):
                return False
            mail = await compose(session, payload)
        if mail is None:
            return await self._record(event_id)
        if not await self._claim(event_id, take_over=sender_gone):
            return False
        try:
            await self.mailer.send(self._stamped(mail, event_id))
        except Exception:
            await self._release_claim(event_id)
            raise
        return await self._record(event_id, patience=RECORD_PATIENCE_SECONDS)

    def _stamped(self, mail: Mail, event_id: uuid.UUID) -> Mail:
        return dataclasses.replace(mail, message_id=message_id_for(event_id, self.mailer.sender))

    async def _claim(self, event_id: uuid.UUID, *, take_over: bool) -> bool:
        """Claim the event's mail; False when another copy of the event sent it meanwhile."""

        async def try_once() -> bool | None:
            """True: claimed; False: sent meanwhile; None: still held by another sender."""
            async with self.database.session(write=True) as session:
                if await ProcessedEventRepository(session).seen(event_id):
                    return False
                claimed = await MailClaimRepository(session).claim(
                    event_id, MAIL_CLAIM_LEASE, take_over=take_over
                )
                await session.commit()
            return True if claimed else None

        def in_flight(_state: RetryCallState) -> bool:
            raise MailInFlight(f"the mail of event {event_id} is still being sent elsewhere")

        retrying = AsyncRetrying(
            retry=retry_if_result(lambda outcome: outcome is None),
            wait=wait_fixed(CLAIM_POLL_SECONDS),
            stop=stop_after_delay(2 * MAIL_CLAIM_LEASE.total_seconds()),
            retry_error_callback=in_flight,
        )
        claimed: bool = await retrying(try_once)
        return claimed

    async def _release_claim(self, event_id: uuid.UUID) -> None:
        """After a failed send, so the retry needn't wait out the lease (best effort)."""
        try:
            async with self.database.session(write=True) as session:
                await MailClaimRepository(session).release(event_id)
                await session.commit()
        except Exception as error:  # the lease runs out by itself
            logger.warning("mail claim not released", event_id=str(event_id), error=repr(error))

    async def _record(self, event_id: uuid.UUID, patience: float = 0.0) -> bool:
        """Record the event as processed, through a database outage of up to `patience`."""

        async def record() -> bool:
            async with self.database.session(write=True) as session:
                first = await ProcessedEventRepository(session).first_time(event_id)
                await MailClaimRepository(session).release(event_id)
                await session.commit()
            return first

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_outage),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            stop=stop_before_delay(patience),
            reraise=True,
        )
        first: bool = await retrying(record)
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
