from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, StrictBool

from taskyard.live.events import LiveEventType
from taskyard.schemas import APIModel, PatchInput, Resource, StrictInput, Timestamp
from taskyard.webhooks.models import URL_MAX_LENGTH, DeliveryStatus

# The shape (http or https, a host, printable ASCII); where it points is checked by resolving
# it (`guard.check_destination`).
WebhookUrl = Annotated[
    str,
    Field(
        min_length=10,
        max_length=URL_MAX_LENGTH,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%:\[\]-]+([/?#][!-~]*)?$",
    ),
]
EventTypes = Annotated[
    list[LiveEventType],
    Field(min_length=1, max_length=len(LiveEventType), description="The events it is sent"),
]
PING = "ping"  # what `POST …/webhooks/{id}/test` sends


def subscribed(events: str) -> frozenset[str]:
    return frozenset(events.split(",")) if events else frozenset()


def stored_events(events: list[LiveEventType]) -> str:
    return ",".join(sorted({event.value for event in events}))


class WebhookCreate(StrictInput):
    url: WebhookUrl = Field(description="http or https; its host must not be a private address")
    events: EventTypes


class WebhookUpdate(PatchInput):
    url: WebhookUrl | None = None
    events: EventTypes | None = None
    active: StrictBool | None = Field(
        default=None, description="Switch it off, or on again (after it was deactivated)"
    )


class WebhookOut(Resource):
    project_id: uuid.UUID
    url: str
    events: list[LiveEventType]
    active: bool
    failing_since: Timestamp | None = Field(
        description="Since when every delivery has failed (null: the last one went through)"
    )
    disabled_reason: str | None = Field(description="Why it was switched off, if it was")
    created_at: Timestamp
    updated_at: Timestamp


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`), for `standardwebhooks` on the receiving "
        "end: shown this once, never again"
    )


class PingQueued(APIModel):
    delivery_id: uuid.UUID
    message_id: str = Field(description="Its `webhook-id` header")


class DeliveryAttemptOut(APIModel):
    """One try at sending one event to the webhook."""

    id: uuid.UUID
    delivery_id: uuid.UUID
    message_id: str = Field(description="The delivery's `webhook-id`: the same on every try")
    event: str = Field(description="The event type, or `ping`")
    delivery_status: DeliveryStatus = Field(
        description="Where its delivery stands: `pending` (to be tried again), `delivered`, or "
        "`failed` (given up after retrying for a day)"
    )
    attempted_at: Timestamp
    status_code: int | None = Field(description="What the receiver answered (null: no answer)")
    duration_ms: int
    error: str | None = Field(description="Why the try failed (null: it went through)")


def webhook_out(webhook: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "project_id": webhook.project_id,
        "url": webhook.url,
        "events": sorted(subscribed(webhook.events)),
        "active": webhook.active,
        "failing_since": webhook.failing_since,
        "disabled_reason": webhook.disabled_reason,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        **extra,
    }
