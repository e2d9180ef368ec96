"""RabbitMQ: a durable queue of events, retry queues with growing delays, and a dead-letter queue.

Topology, under a prefix (default `taskyard`):
- exchange `<prefix>.events` (direct, durable); an event is published with its type as the
  routing key, and `mandatory`, so an event that no queue takes is refused, not dropped, and
  stays in the outbox
- queue `<prefix>.events` (the monolith), or one per split service, `<prefix>.<service>.events`,
  bound to the event types that service handles: a `user.*` event from the auth service reaches
  the task service's queue
- queues `<queue>.retry.<ms>`: after its n-th failure a message waits in the queue whose delay
  is 2**n x the retry base, then dead-letters back to its own queue only: exponential backoff.
  Named by their delay, so a changed setting declares new queues, never a conflict.
- queue `<queue>.dead`: where a message lands after the last attempt, for inspection
  and replay (`taskyard dead-letters`)

Messages are persistent and published with confirms; nothing counts as sent before the broker
has it on disk. With `quorum=True` every queue is a quorum queue (Raft-replicated over the
cluster's nodes, so losing a minority of them loses nothing); a queue can't change type in place,
so switching needs a new prefix or the queues drained and deleted.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractQueue

ROUTING_KEY = "event"
ATTEMPT_HEADER = "x-taskyard-attempt"
ERROR_HEADER = "x-taskyard-error"


@dataclass(frozen=True, slots=True)
class EventMessage:
    event_id: uuid.UUID
    type: str
    payload: dict[str, Any]
    attempt: int = 0

    def encode(self) -> bytes:
        return json.dumps(
            {"id": str(self.event_id), "type": self.type, "payload": self.payload}
        ).encode()

    @classmethod
    def decode(cls, body: bytes, headers: dict[str, Any]) -> EventMessage:
        data = json.loads(body)
        return cls(
            uuid.UUID(data["id"]),
            str(data["type"]),
            dict(data["payload"]),
            int(headers.get(ATTEMPT_HEADER, 0)),
        )


class Broker:
    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        max_attempts: int,
        retry_base_seconds: float,
        quorum: bool = False,
        service: str | None = None,
        event_types: frozenset[str] = frozenset(),
    ) -> None:
        self.url = url
        # The monolith's names stay as they always were; a split service has a queue of its own.
        self.service = service
        self.event_types = event_types
        # Classic queues are declared as they always were: no argument to conflict with.
        self.queue_type: dict[str, Any] = {"x-queue-type": "quorum"} if quorum else {}
        self.exchange_name = f"{prefix}.events"
        self.queue_name = f"{prefix}.events" if service is None else f"{prefix}.{service}.events"
        self.dead_queue_name = f"{self.queue_name}.dead"
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.connection: AbstractConnection | None = None
        self.channel: AbstractChannel | None = None
        self.exchange: AbstractExchange | None = None
        self.queue: AbstractQueue | None = None

    def retry_delay_ms(self, attempt: int) -> int:
        return int(self.retry_base_seconds * 2**attempt * 1000)

    def retry_queue_name(self, attempt: int) -> str:
        return f"{self.queue_name}.retry.{self.retry_delay_ms(attempt)}"

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.is_closed

    async def connect(self, *, prefetch: int = 0) -> None:
        self.connection = await aio_pika.connect(self.url, timeout=5)
        # A mandatory message that no queue takes comes back: the publish raises.
        self.channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        if prefetch:
            await self.channel.set_qos(prefetch_count=prefetch)
        self.exchange = await self.channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        queue = await self.channel.declare_queue(
            self.queue_name, durable=True, arguments=self.queue_type
        )
        if self.service is None:  # what the monolith's retry queues send back
            await queue.bind(self.exchange, routing_key=ROUTING_KEY)
        for event_type in sorted(self.event_types):
            await queue.bind(self.exchange, routing_key=event_type)
        await self.channel.declare_queue(
            self.dead_queue_name, durable=True, arguments=self.queue_type
        )
        for attempt in range(1, self.max_attempts):
            await self.channel.declare_queue(
                self.retry_queue_name(attempt),
                durable=True,
                arguments={
                    **self.queue_type,
                    "x-message-ttl": self.retry_delay_ms(attempt),
                    **self._back_from_retry(),
                },
            )
        # Only now: whoever waits for the queue finds its bindings and retry queues in place.
        self.queue = queue

    def _back_from_retry(self) -> dict[str, str]:
        if self.service is None:  # as the monolith's retry queues were declared
            return {
                "x-dead-letter-exchange": self.exchange_name,
                "x-dead-letter-routing-key": ROUTING_KEY,
            }
        # Straight back to this service's queue: a retry is no new event for the others.
        return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue_name}

    async def delete_topology(self) -> None:
        """Remove the exchange and every queue `connect` declares, messages and all: for a
        test's or a benchmark's own prefix, never a deployment's."""
        if self.channel is None:  # connect without declaring: the queues may be of either type
            self.connection = await aio_pika.connect(self.url, timeout=5)
            self.channel = await self.connection.channel()
        names = [self.retry_queue_name(attempt) for attempt in range(1, self.max_attempts)]
        for name in [*names, self.dead_queue_name, self.queue_name]:
            await self.channel.queue_delete(name)
        await self.channel.exchange_delete(self.exchange_name)
        await self.close()

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        self.connection = self.channel = self.exchange = self.queue = None

    def _message(self, event: EventMessage, **headers: Any) -> aio_pika.Message:
        return aio_pika.Message(
            event.encode(),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(event.event_id),
            content_type="application/json",
            headers={ATTEMPT_HEADER: event.attempt, **headers},
        )

    async def publish(self, event: EventMessage) -> None:
        """Returns once the broker has confirmed the message."""
        assert self.exchange is not None, "connect() first"
        await self.exchange.publish(self._message(event), routing_key=event.type, mandatory=True)

    async def retry_later(self, event: EventMessage, error: str) -> bool:
        """Send a failed event to wait and come back; False when it has no tries left and
        went to the dead-letter queue instead."""
        assert self.channel is not None, "connect() first"
        attempt = event.attempt + 1
        failed = EventMessage(event.event_id, event.type, event.payload, attempt)
        if attempt >= self.max_attempts:
            await self.channel.default_exchange.publish(
                self._message(failed, **{ERROR_HEADER: error[:500]}),
                routing_key=self.dead_queue_name,
            )
            return False
        await self.channel.default_exchange.publish(
            self._message(failed), routing_key=self.retry_queue_name(attempt)
        )
        return True

    async def dead_letters(self) -> int:
        assert self.channel is not None, "connect() first"
        queue = await self.channel.declare_queue(self.dead_queue_name, passive=True)
        return int(queue.declaration_result.message_count or 0)

    async def replay_dead_letters(self, limit: int | None = None) -> int:
        """Move dead letters back to the main queue, with a fresh count of attempts."""
        assert self.channel is not None, "connect() first"
        queue = await self.channel.declare_queue(self.dead_queue_name, passive=True)
        moved = 0
        while limit is None or moved < limit:
            message = await queue.get(fail=False, no_ack=False)
            if message is None:
                break
            event = EventMessage.decode(message.body, dict(message.headers or {}))
            await self.channel.default_exchange.publish(
                self._message(EventMessage(event.event_id, event.type, event.payload, 0)),
                routing_key=self.queue_name,  # back to this service only
            )
            await message.ack()
            moved += 1
        return moved
