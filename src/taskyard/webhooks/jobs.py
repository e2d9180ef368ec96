"""What the worker does for webhooks: queue each live event for the project's webhooks that
want it, send them (`WebhookSender`), tell admins of a webhook it deactivated, and forget
deliveries after two weeks."""

from __future__ import annotations

import html
import time
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from taskyard.config import Settings
from taskyard.db import Database, utc_now
from taskyard.jobs.mail import Mail
from taskyard.jobs.registry import EventRegistry, Payload
from taskyard.jobs.service import EventPublisher
from taskyard.live.events import LIVE_OUTBOUND, BusEntry
from taskyard.projects.models import Project
from taskyard.users.models import User
from taskyard.webhooks.events import WEBHOOK_DISABLED, WEBHOOK_DISABLED_NOTICE
from taskyard.webhooks.models import WebhookDelivery
from taskyard.webhooks.repository import WebhookRepository
from taskyard.webhooks.schemas import subscribed
from taskyard.webhooks.sender import WebhookSender

KEEP_DELIVERIES = timedelta(days=14)


def now_seq() -> int:
    return time.time_ns() // 1000


async def queue_for_webhooks(session: AsyncSession, payload: Payload) -> None:
    """One delivery for each of the project's active webhooks that wants this event."""
    entry = BusEntry.from_outbox(payload)
    webhooks = await WebhookRepository(session).listening(uuid.UUID(entry.project_id))
    deliveries = [
        WebhookDelivery(
            webhook_id=webhook.id,
            seq=int(payload.get("seq") or now_seq()),
            event_type=entry.type,
            payload=entry.wire,
        )
        for webhook in webhooks
        if entry.type in subscribed(webhook.events)
    ]
    if deliveries:
        await WebhookRepository(session).enqueue(deliveries)


async def notify_admins(session: AsyncSession, payload: Payload) -> None:
    webhook = await WebhookRepository(session).by_id(uuid.UUID(payload["webhook_id"]))
    if webhook is None:
        return
    events = EventPublisher(session)
    for admin in await WebhookRepository(session).admins_of(webhook.project_id):
        events.emit(
            WEBHOOK_DISABLED_NOTICE, {"webhook_id": str(webhook.id), "recipient_id": str(admin)}
        )


async def _disabled_mail(session: AsyncSession, payload: Payload) -> Mail | None:
    webhook = await WebhookRepository(session).by_id(uuid.UUID(payload["webhook_id"]))
    recipient = await session.get(User, uuid.UUID(payload["recipient_id"]))
    if webhook is None or recipient is None or webhook.active:
        return None  # deleted, or switched back on, since
    project = await session.get(Project, webhook.project_id)
    if project is None:
        return None
    reason = webhook.disabled_reason or "Its deliveries kept failing"
    return Mail(
        to=recipient.email,
        subject=f"A webhook of {project.name} was switched off",
        text=f"Hi {recipient.name},\n\nThe webhook to {webhook.url} in {project.name} was "
        f"switched off: {reason}. Its deliveries list says what the receiver answered. Once "
        "it is fixed, switch the webhook on again.\n",
        html=f"<p>Hi {html.escape(recipient.name)},</p><p>The webhook to "
        f"<code>{html.escape(webhook.url)}</code> in <strong>{html.escape(project.name)}"
        f"</strong> was switched off: {html.escape(reason)}. Its deliveries list says what the "
        "receiver answered. Once it is fixed, switch the webhook on again.</p>",
    )


async def purge_old_deliveries(database: Database) -> None:
    async with database.session(write=True) as session:
        await WebhookRepository(session).purge_before(utc_now() - KEEP_DELIVERIES)
        await session.commit()


def register(registry: EventRegistry, settings: Settings) -> None:
    registry.on_work(LIVE_OUTBOUND, queue_for_webhooks)
    registry.on_work(WEBHOOK_DISABLED, notify_admins)
    registry.on_mail(WEBHOOK_DISABLED_NOTICE, _disabled_mail)
    registry.every_round("webhook delivery purge", purge_old_deliveries)
    registry.keep_running("webhook sender", WebhookSender(settings).run_forever)
