"""`taskyard worker`: consumes events from RabbitMQ and carries them out.

Manual acks with a prefetch limit. A message is acked only after its handler finished, or after
it was handed to a retry queue (or, after the last try, to the dead-letter queue) with a
confirm, so a worker that dies mid-way leaves it to be redelivered. Handlers are idempotent by
event id: a mail is claimed before it is sent and recorded once it went out (through a database
outage, if need be), so redeliveries and copies handled side by side send it once. Only a
worker killed between the mail server's acceptance and that record sends it again, with the
same Message-ID.

When the broker goes away the worker connects again, with backoff. First it lets the messages
it was handling finish, so their redelivered copies find them done.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aio_pika.abc import AbstractIncomingMessage
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential
from tenacity.stop import stop_base

from taskyard.config import Settings
from taskyard.db import Database
from taskyard.jobs.broker import Broker, EventMessage
from taskyard.jobs.handlers import EventHandlers
from taskyard.jobs.mail import mailer_for
from taskyard.jobs.registry import EventRegistry
from taskyard.jobs.scheduler import PeriodicJobs
from taskyard.logging import get_logger

SHUTDOWN_STEP_SECONDS = 10
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 10.0
DRAIN_SECONDS = 60.0  # a mail's send and its record, through an outage's first minute
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


class _Stopped(stop_base):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.stop.is_set()


class Worker:
    def __init__(self, settings: Settings, registry: EventRegistry) -> None:
        self.settings = settings
        self.database = Database(settings)
        self.handlers = EventHandlers(self.database, mailer_for(settings), registry)
        self.broker = broker_for(settings, registry.event_types)
        self.periodic = PeriodicJobs(
            self.database, registry, interval_seconds=settings.due_scan_seconds
        )
        self._handling = 0  # messages being handled now
        self._idle = asyncio.Event()
        self._idle.set()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._handling += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self._handling -= 1
            if not self._handling:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
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
            if not retrying:
                await self.handlers.give_up(event, repr(error))
        try:
            await message.ack()
        except Exception as error:  # the connection went meanwhile: the broker redelivers it
            logger.info(
                "ack lost with the broker connection",
                event_id=str(event.event_id),
                error=type(error).__name__,
            )

    async def run(self, stop: asyncio.Event) -> None:
        await self.database.warm()
        # The periodic jobs' events go through the outbox; serve's relays publish them.
        scanning = asyncio.create_task(self.periodic.run_forever())
        try:
            while not stop.is_set():
                # Each loss of a connection that was up starts the backoff afresh.
                await self._reconnecting(stop)(self._consume_until_lost, stop)
        finally:
            scanning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scanning
            # Each step of the shutdown is bounded: a broker or database that stopped answering
            # must not keep the process from exiting.
            for step in (self.broker.close, self.database.dispose):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(step(), timeout=SHUTDOWN_STEP_SECONDS)

    def _reconnecting(self, stop: asyncio.Event) -> AsyncRetrying:
        """Connects again while the broker can't be reached, backing off, until asked to stop
        (the wait between tries ends at once when it is)."""

        async def pause(seconds: float) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)

        async def unreachable(state: RetryCallState) -> None:
            with contextlib.suppress(Exception):
                await self.broker.close()
            error = state.outcome.exception() if state.outcome is not None else None
            logger.warning(
                "broker unreachable; connecting again",
                error=type(error).__name__,
                retry_in_seconds=state.upcoming_sleep,
            )

        return AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=RECONNECT_FIRST_SECONDS, max=RECONNECT_MAX_SECONDS),
            stop=_Stopped(stop),
            sleep=pause,
            before_sleep=unreachable,
            retry_error_callback=lambda _state: None,  # asked to stop while still away
        )

    async def _consume_until_lost(self, stop: asyncio.Event) -> None:
        """Consume until asked to stop, or until the broker goes away (a restart, a lost
        link): then return, and `run` connects again. What was unacked is redelivered."""
        if stop.is_set():  # asked to stop during a pause between tries
            return
        await self.broker.connect(prefetch=self.settings.worker_prefetch)
        assert self.broker.queue is not None
        assert self.broker.connection is not None
        queue, connection = self.broker.queue, self.broker.connection
        tag = await queue.consume(self._on_message)
        logger.info("worker consuming", queue=self.broker.queue_name)
        gone = asyncio.Event()
        connection.close_callbacks.add(lambda *_: gone.set())
        stopping = asyncio.create_task(stop.wait())
        lost = asyncio.create_task(gone.wait())
        try:
            await asyncio.wait({stopping, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            lost.cancel()
        if gone.is_set() and not stop.is_set():
            logger.warning("broker connection lost; connecting again")
            # What this process still handles finishes (and is recorded) first, so that its
            # redelivered copies find it done instead of taking its mail claim over.
            await self._drain(DRAIN_SECONDS)
            with contextlib.suppress(Exception):
                await self.broker.close()
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(queue.cancel(tag), timeout=SHUTDOWN_STEP_SECONDS)
        await self._drain(SHUTDOWN_STEP_SECONDS)  # their acks go out before the connection closes

    async def _drain(self, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=within)


async def run_worker(settings: Settings, registry: EventRegistry) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for received in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(received, stop.set)
    await Worker(settings, registry).run(stop)
