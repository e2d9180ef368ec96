"""`taskyard worker`: consumes events from RabbitMQ and carries them out.

Manual acks with a prefetch limit. A message is acked only after its handler finished, or after
it was handed to a retry queue (or, after the last try, to the dead-letter queue) with a
confirm, so a worker that dies mid-way leaves it to be redelivered. Handlers are idempotent by
event id: a mail is claimed before it is sent and recorded once it went out (through a database
outage, if need be), so redeliveries and copies handled side by side send it once. Only a
worker killed between the mail server's acceptance and that record sends it again, with the
same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aio_pika.abc import AbstractIncomingMessage

from taskyard.config import Settings
from taskyard.db import Database
from taskyard.jobs.broker import Broker, EventMessage
from taskyard.jobs.handlers import EventHandlers
from taskyard.jobs.mail import mailer_for
from taskyard.jobs.registry import EventRegistry
from taskyard.jobs.scheduler import PeriodicJobs
from taskyard.logging import get_logger

SHUTDOWN_STEP_SECONDS = 10
logger = get_logger("taskyard.worker")


def broker_for(settings: Settings, event_types: frozenset[str] = frozenset()) -> Broker:
    """The broker as this service sees it: its own queue, bound to the event types it handles
    (none needed to publish, count or replay)."""
    assert settings.broker_url is not None
    return Broker(
        settings.broker_url,
        prefix=settings.broker_prefix,
        max_attempts=settings.job_max_attempts,
        retry_base_seconds=settings.job_retry_base_seconds,
        quorum=settings.broker_quorum,
        service=None if settings.service == "all" else settings.service,
        event_types=event_types,
    )


class Worker:
    def __init__(self, settings: Settings, registry: EventRegistry) -> None:
        self.settings = settings
        self.database = Database(settings)
        self.handlers = EventHandlers(self.database, mailer_for(settings), registry)
        self.broker = broker_for(settings, registry.event_types)
        self.periodic = PeriodicJobs(
            self.database, registry, interval_seconds=settings.due_scan_seconds
        )

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = EventMessage.decode(message.body, dict(message.headers or {}))
        except (ValueError, KeyError, TypeError):
            logger.error("undecodable message rejected", message_id=message.message_id)
            await message.reject(requeue=False)
            return
        try:
            await self.handlers.handle_message(event, redelivered=bool(message.redelivered))
        except Exception as error:
            retrying = await self.broker.retry_later(event, repr(error))
            logger.warning(
                "event failed" + ("; retrying later" if retrying else "; dead-lettered"),
                event_id=str(event.event_id),
                type=event.type,
                attempt=event.attempt + 1,
                error=type(error).__name__,
            )
        await message.ack()

    async def run(self, stop: asyncio.Event) -> None:
        await self.broker.connect(prefetch=self.settings.worker_prefetch)
        assert self.broker.queue is not None
        tag = await self.broker.queue.consume(self._on_message)
        logger.info("worker consuming", queue=self.broker.queue_name)
        # The periodic jobs' events go through the outbox; serve's relays publish them.
        scanning = asyncio.create_task(self.periodic.run_forever())
        try:
            await stop.wait()
        finally:
            scanning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scanning
            # Each step of the shutdown is bounded: a broker or database that stopped answering
            # must not keep the process from exiting.
            queue = self.broker.queue
            for step in (
                lambda: queue.cancel(tag),
                self.broker.close,
                self.database.dispose,
            ):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(step(), timeout=SHUTDOWN_STEP_SECONDS)


async def run_worker(settings: Settings, registry: EventRegistry) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for received in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(received, stop.set)
    await Worker(settings, registry).run(stop)
