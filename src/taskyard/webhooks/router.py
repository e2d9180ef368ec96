"""`/api/v1/projects/{id}/webhooks`: a project's webhooks, managed by its admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, status

from taskyard.errors import documented_errors
from taskyard.identity.dependencies import CurrentPrincipal
from taskyard.live.schemas import LiveEvent
from taskyard.schemas import DataEnvelope, ListEnvelope, MessageEnvelope, MessageOnly, PageQuery
from taskyard.webhooks.dependencies import WebhookServiceDep
from taskyard.webhooks.schemas import (
    DeliveryAttemptOut,
    PingQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
    webhook_out,
)
from taskyard.webhooks.sender import message_id

router = APIRouter(
    prefix="/projects/{id}/webhooks", tags=["webhooks"], responses=documented_errors(401)
)
ProjectId = Annotated[uuid.UUID, Path(alias="id", description="The project's id")]
WebhookId = Annotated[uuid.UUID, Path(alias="webhookId", description="The webhook's id")]
READ_ERRORS = documented_errors(400, 403, 404)
WRITE_ERRORS = documented_errors(400, 403, 404, 409, 413)


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
async def create_webhook(
    project_id: ProjectId, body: WebhookCreate, user: CurrentPrincipal, service: WebhookServiceDep
) -> MessageEnvelope[WebhookCreated]:
    """Each delivery's body is a `LiveEvent` (as the event stream's `data:`), signed per the
    Standard Webhooks spec with the secret shown here once."""
    webhook = await service.create(project_id, user, body)
    created = WebhookCreated.model_validate(webhook_out(webhook, secret=webhook.secret))
    return MessageEnvelope(
        message="Webhook created: copy its secret now, it won't be shown again", data=created
    )


@router.get("", responses=READ_ERRORS)
async def list_webhooks(
    project_id: ProjectId, user: CurrentPrincipal, service: WebhookServiceDep
) -> DataEnvelope[list[WebhookOut]]:
    webhooks = await service.of_project(project_id, user)
    return DataEnvelope(data=[WebhookOut.model_validate(webhook_out(w)) for w in webhooks])


@router.get("/{webhookId}", responses=READ_ERRORS)
async def get_webhook(
    project_id: ProjectId, webhook_id: WebhookId, user: CurrentPrincipal, service: WebhookServiceDep
) -> DataEnvelope[WebhookOut]:
    webhook = await service.get(project_id, webhook_id, user)
    return DataEnvelope(data=WebhookOut.model_validate(webhook_out(webhook)))


@router.patch("/{webhookId}", responses=WRITE_ERRORS)
async def update_webhook(
    project_id: ProjectId,
    webhook_id: WebhookId,
    body: WebhookUpdate,
    user: CurrentPrincipal,
    service: WebhookServiceDep,
) -> MessageEnvelope[WebhookOut]:
    webhook = await service.update(project_id, webhook_id, user, body)
    return MessageEnvelope(
        message="Webhook updated successfully", data=WebhookOut.model_validate(webhook_out(webhook))
    )


@router.delete("/{webhookId}", responses=READ_ERRORS)
async def delete_webhook(
    project_id: ProjectId, webhook_id: WebhookId, user: CurrentPrincipal, service: WebhookServiceDep
) -> MessageOnly:
    await service.delete(project_id, webhook_id, user)
    return MessageOnly(message="Webhook deleted")


@router.post("/{webhookId}/test", status_code=status.HTTP_202_ACCEPTED, responses=READ_ERRORS)
async def ping_webhook(
    project_id: ProjectId, webhook_id: WebhookId, user: CurrentPrincipal, service: WebhookServiceDep
) -> MessageEnvelope[PingQueued]:
    """Queue a `ping` delivery; its attempts show in the deliveries list."""
    delivery = await service.ping(project_id, webhook_id, user)
    queued = PingQueued(delivery_id=delivery.id, message_id=message_id(delivery.id))
    return MessageEnvelope(message="Ping queued", data=queued)


@router.get("/{webhookId}/deliveries", responses=READ_ERRORS)
async def list_deliveries(
    project_id: ProjectId,
    webhook_id: WebhookId,
    query: Annotated[PageQuery, Query()],
    user: CurrentPrincipal,
    service: WebhookServiceDep,
) -> ListEnvelope[DeliveryAttemptOut]:
    """Every attempt of the last 14 days, newest first."""
    rows, total = await service.attempts(project_id, webhook_id, user, query)
    attempts = [
        DeliveryAttemptOut(
            id=attempt.id,
            delivery_id=delivery.id,
            message_id=message_id(delivery.id),
            event=delivery.event_type,
            delivery_status=delivery.status,
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
        )
        for attempt, delivery in rows
    ]
    return ListEnvelope.build(attempts, total=total, page=query.page, limit=query.limit)


# What Taskyard sends to a registered webhook, for the OpenAPI document's `webhooks` section.
deliveries = APIRouter(tags=["webhooks"])


@deliveries.post("live-event", status_code=status.HTTP_204_NO_CONTENT)
def live_event_delivery(
    body: LiveEvent,
    webhook_id: Annotated[
        str, Header(alias="webhook-id", description="`msg_…`: the same on every try")
    ],
    webhook_timestamp: Annotated[
        str, Header(alias="webhook-timestamp", description="Seconds since the epoch")
    ],
    webhook_signature: Annotated[
        str,
        Header(
            alias="webhook-signature",
            description="`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>` with the secret",
        ),
    ],
) -> None:
    """A project's live event (the event stream's `data:`), or a `ping` from
    `POST …/webhooks/{webhookId}/test`, signed per the Standard Webhooks spec: verify it with
    `standardwebhooks` and the `whsec_…` secret shown at registration. Answer 2xx within 5 s;
    anything else (a redirect included) is tried again with backoff for a day, in order."""
    del body, webhook_id, webhook_timestamp, webhook_signature  # documentation only
