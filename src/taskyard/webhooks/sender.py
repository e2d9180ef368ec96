"""The webhook sender: runs in the worker (in `taskyard serve` without a broker), sending each
webhook's deliveries one after another, in the order the events happened.

A delivery is signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
`webhook-signature`) and posted with a timeout; no redirect is followed and at most 64 KB of
the answer is read. A 2xx is success. Anything else is tried again later, with exponential
backoff and jitter, until the give-up window has passed; then it is given up (listed as failed)
and the next one goes. A webhook whose deliveries have all failed for that long is deactivated,
and its project's admins are told by mail.

At least once: a delivery is marked only after its answer; a sender that dies mid-delivery
leaves it pending, and its lease on the webhook runs out, so another sender sends it again.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook as Signer

from taskyard.config import Settings
from taskyard.db import Database, utc_now
from taskyard.jobs.service import EventPublisher
from taskyard.logging import get_logger
from taskyard.webhooks.events import WEBHOOK_DISABLED
from taskyard.webhooks.guard import UnsafeUrl, check_destination
from taskyard.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from taskyard.webhooks.repository import WebhookRepository

logger = get_logger("taskyard.webhooks")

MAX_ANSWER_BYTES = 64 * 1024
MAX_RETRY_SECONDS = 6 * 3600
WEBHOOKS_PER_ROUND = 20
DELIVERIES_PER_LEASE = 50  # then the lease is given back, and taken again next round
USER_AGENT = "Taskyard-Webhooks/1"


def retry_delay(attempts: int, base_seconds: float, rng: random.Random | None = None) -> float:
    """After the n-th failure: base x 3^(n-1), at most 6 h, with ±20 % jitter so deliveries
    that failed together don't all come back together."""
    delay: float = min(base_seconds * 3.0 ** max(0, attempts - 1), MAX_RETRY_SECONDS)
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return delay * jitter


def _span(length: timedelta) -> str:
    seconds = length.total_seconds()
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def message_id(delivery_id: uuid.UUID) -> str:
    """The `webhook-id`: the same on every try, so a receiver can drop repeats."""
    return f"msg_{delivery_id.hex}"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.webhook_timeout_seconds
        self.allow_private = settings.webhook_allow_private
        self.give_up_after = timedelta(seconds=settings.webhook_give_up_seconds)
        # Long enough for one attempt, renewed before each: a sender that died lets go soon.
        self.lease = timedelta(seconds=2 * self.timeout + 5)

    async def run_forever(self, database: Database) -> None:
        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        ) as client:
            while True:
                sent = await self.round(database, client)
                if not sent:
                    await asyncio.sleep(self.settings.webhook_poll_seconds)

    async def round(self, database: Database, client: httpx.AsyncClient) -> int:
        """Send what is due on every webhook no other sender holds; how many were tried."""
        async with database.session(write=True) as session:
            leased = await WebhookRepository(session).lease_due(
                utc_now(), self.lease, WEBHOOKS_PER_ROUND
            )
            await session.commit()
        counts = await asyncio.gather(
            *(self._drain(database, client, webhook_id) for webhook_id in leased)
        )
        return sum(counts)

    async def _drain(
        self, database: Database, client: httpx.AsyncClient, webhook_id: uuid.UUID
    ) -> int:
        tried = 0
        try:
            while tried < DELIVERIES_PER_LEASE:
                async with database.session(write=True) as session:
                    repository = WebhookRepository(session)
                    webhook = await repository.by_id(webhook_id)
                    head = await repository.head(webhook_id)
                    if webhook is None or not webhook.active or head is None:
                        break
                    if head.next_attempt_at > utc_now():
                        break  # the next in line waits for its retry: so do the ones after it
                    target = (webhook.url, webhook.secret)
                    delivery = (head.id, head.payload, head.created_at)
                    await repository.renew(webhook_id, utc_now() + self.lease)
                    await session.commit()
                outcome = await self.attempt(client, *target, delivery[0], delivery[1])
                tried += 1
                await self._record(database, webhook_id, delivery[0], delivery[2], outcome)
        finally:
            async with database.session(write=True) as session:
                await WebhookRepository(session).release(webhook_id)
                await session.commit()
        return tried

    async def attempt(
        self,
        client: httpx.AsyncClient,
        url: str,
        secret: str,
        delivery_id: uuid.UUID,
        payload: str,
    ) -> Outcome:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            await check_destination(url, allow_private=self.allow_private)
        except UnsafeUrl as refusal:
            return Outcome(None, took(), f"Refused: {refusal}")
        msg_id = message_id(delivery_id)
        now = datetime.now().astimezone()
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(secret).sign(msg_id, now, payload),
        }
        try:
            async with client.stream("POST", url, content=payload, headers=headers) as answer:
                read = 0
                async for chunk in answer.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_ANSWER_BYTES:
                        break  # enough to know it answered: the rest is not read
                status = answer.status_code
        except httpx.TimeoutException:
            return Outcome(None, took(), f"Timed out after {self.timeout:g} s")
        except httpx.HTTPError as error:
            return Outcome(None, took(), f"{type(error).__name__}: {error}"[:500])
        if 300 <= status < 400:
            return Outcome(status, took(), "Redirects are not followed")
        return Outcome(status, took(), None if 200 <= status < 300 else f"Answered {status}")

    async def _record(
        self,
        database: Database,
        webhook_id: uuid.UUID,
        delivery_id: uuid.UUID,
        created_at: datetime,
        outcome: Outcome,
    ) -> None:
        now = utc_now()
        async with database.session(write=True) as session:
            repository = WebhookRepository(session)
            await repository.add_attempt(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    error=outcome.error,
                )
            )
            delivery = await session.get(WebhookDelivery, delivery_id)
            webhook = await repository.by_id(webhook_id)
            if delivery is None or webhook is None:  # deleted meanwhile
                await session.commit()
                return
            delivery.attempts += 1
            if outcome.delivered:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.finished_at = now
                webhook.failing_since = None
            else:
                self._failed(delivery, webhook, created_at, now, session)
            await session.commit()

    def _failed(
        self,
        delivery: WebhookDelivery,
        webhook: Webhook,
        created_at: datetime,
        now: datetime,
        session: AsyncSession,
    ) -> None:
        if now - created_at >= self.give_up_after:
            delivery.status = DeliveryStatus.FAILED
            delivery.finished_at = now
        else:
            wait = retry_delay(delivery.attempts, self.settings.webhook_retry_base_seconds)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        webhook.failing_since = webhook.failing_since or now
        if now - webhook.failing_since >= self.give_up_after and webhook.active:
            webhook.active = False
            webhook.disabled_reason = f"Every delivery failed for {_span(self.give_up_after)}"
            logger.warning("webhook deactivated", webhook_id=str(webhook.id))
            EventPublisher(session).emit(WEBHOOK_DISABLED, {"webhook_id": str(webhook.id)})
